"""One request to a stack's app, through the API server of the stack's kubeconfig and context,
printed as curl prints an answer: the demo's checks, on any cluster (no node port needed).

    demo-orq get [--stack dev] [--service app|preview|canary] [--wait SECONDS]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from components.traffic import wait_for_answer

from .cli import add_seconds_argument, command_parser
from .stacks import add_service_argument, reach, select_stack


def parse_arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = command_parser("get")
    add_service_argument(parser, "the Service to ask")
    add_seconds_argument(
        parser, "--wait", 10, 0, 600, "ask again until it answers, at most this long"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str]) -> int:
    arguments = parse_arguments(argv)
    app = reach(
        select_stack(arguments.stack, arguments.work_dir), arguments.service, arguments.header
    )
    answer = wait_for_answer(app, arguments.wait)
    if answer.body is None:
        print(f"get failed {app.description}: {answer.error}", file=sys.stderr)
        return 1
    print(answer.body, end="")
    return 0
