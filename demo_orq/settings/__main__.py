"""The settings table's commands:

python -m demo_orq.settings --write     # make Pulumi.yaml's config block and the table of
                                        # docs/configuration.md from the table again
python -m demo_orq.settings --check     # exit 1 when either was edited by hand
python -m demo_orq.settings --keys-of-other-strategies Canary
                                        # the keys a Canary stack leaves unset, one a line
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from components.strategies import STRATEGY_NAMES

from . import keys_of_other_strategies
from .files import FILES, WRITE_COMMAND


def parse_arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m demo_orq.settings",
        description="The files made from the settings table, and the keys of each strategy.",
    )
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--write", action="store_true", help="make the files again")
    action.add_argument("--check", action="store_true", help="fail when a file is not as made")
    action.add_argument(
        "--keys-of-other-strategies",
        choices=STRATEGY_NAMES,
        metavar="STRATEGY",
        help=f"print the keys that STRATEGY ({', '.join(STRATEGY_NAMES)}) leaves unset",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str]) -> int:
    arguments = parse_arguments(argv)
    if arguments.keys_of_other_strategies:
        print("\n".join(keys_of_other_strategies(arguments.keys_of_other_strategies)))
        return 0
    if arguments.write:
        for generated in FILES:
            generated.write()
        return 0
    stale = [generated.path.name for generated in FILES if not generated.is_current()]
    if stale:
        print(f"edited by hand: {', '.join(stale)}; run {WRITE_COMMAND}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
