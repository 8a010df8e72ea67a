"""`python -m demo_orq <verb>`: the same command as `demo-orq <verb>` (demo_orq.cli)."""

from __future__ import annotations

import sys

from demo_orq.cli import main

if __name__ == "__main__":
    sys.exit(main())
