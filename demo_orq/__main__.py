"""The project's commands, run from the project folder:

    python -m demo_orq rollback [--stack S] [--list | --to N]
    python -m demo_orq canary [--stack S] --to-message TEXT [--steps 25,50,100] [--pause SECONDS]
    python -m demo_orq report [--stack S] [--probe-seconds 30] [--rate 20] [--out DIR] [-- COMMAND]
    python -m demo_orq get [--stack S] [--service app|preview|canary]

Each command's --help tells the rest.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence

COMMANDS = ("rollback", "canary", "report", "get")
"""Each is the module demo_orq.<command>, imported only when run, with `main(argv) -> int`."""


def main(argv: Sequence[str]) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if argv else 2
    if argv[0] not in COMMANDS:
        print(
            f"demo_orq: unknown command {argv[0]!r} (accepted: {', '.join(COMMANDS)})",
            file=sys.stderr,
        )
        return 2
    command = importlib.import_module(f"demo_orq.{argv[0]}")
    exit_code: int = command.main(argv[1:])
    return exit_code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
