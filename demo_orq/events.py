"""Recovery events of a stack (a self-healing, a failed rollout rolled back), from which
`demo-orq report` computes the MTTR.

They are kept, one JSON object a line, in `.demo-orq/events/<stack>.jsonl` in the project folder
(ignored by git). The demo and the tests record them, from Python or from a script:

    demo-orq events record --stack dev --kind heal --seconds 4.2 [--detail TEXT]
    demo-orq events list --stack dev
"""

from __future__ import annotations

import argparse
import json
import re
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from .cli import command_parser
from .facts import PROJECT_DIR

KINDS = ("heal", "failed-rollout", "node-restart")
"""heal: deleted or crashed pods until all are Ready again; failed-rollout: a rollout that failed
until the service ran a good version again (its rollback done)."""
MAX_SECONDS = 86_400.0
STACK_NAME = re.compile(r"[A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class Event:
    kind: str
    seconds: float
    """How long the service took to recover."""
    at: float
    """When it was recorded, seconds since the epoch."""
    detail: str = ""


def events_file(stack: str, work_dir: Path = PROJECT_DIR) -> Path:
    if not STACK_NAME.fullmatch(stack):
        raise ValueError(f"stack name {stack!r} (accepted: letters, digits, '_', '.', '-')")
    return work_dir / ".demo-orq" / "events" / f"{stack}.jsonl"


def check(kind: str, seconds: float) -> None:
    """Raises ValueError naming the bad value and what is accepted."""
    if kind not in KINDS:
        raise ValueError(f"kind {kind!r} (accepted: {', '.join(KINDS)})")
    if not 0 <= seconds <= MAX_SECONDS:
        raise ValueError(f"seconds {seconds!r} (accepted: a number from 0 to {MAX_SECONDS:.0f})")


def record(
    stack: str, kind: str, seconds: float, detail: str = "", work_dir: Path = PROJECT_DIR
) -> Event:
    """Appends one recovery event to the stack's events file and returns it."""
    check(kind, seconds)
    event = Event(kind=kind, seconds=round(seconds, 3), at=round(time.time(), 3), detail=detail)
    path = events_file(stack, work_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as stream:
        stream.write(json.dumps(asdict(event), ensure_ascii=False) + "\n")
    return event


def read(stack: str, work_dir: Path = PROJECT_DIR) -> list[Event]:
    """The stack's events, oldest first; none when nothing was recorded."""
    path = events_file(stack, work_dir)
    if not path.is_file():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [Event(**json.loads(line)) for line in lines if line.strip()]


def parse_arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = command_parser("events")
    parser.add_argument("action", choices=("record", "list"))
    parser.add_argument("--kind", choices=KINDS, help="what recovered (record only)")
    parser.add_argument("--seconds", type=float, help="time to recover (record only)")
    parser.add_argument("--detail", default="", help="free text, e.g. what was done")
    arguments = parser.parse_args(argv)
    if arguments.action == "record":
        if arguments.kind is None or arguments.seconds is None:
            parser.error("record needs --kind and --seconds")
        try:
            check(arguments.kind, arguments.seconds)
        except ValueError as error:
            parser.error(f"argument --seconds: {error}")
    if not STACK_NAME.fullmatch(arguments.stack):
        parser.error(f"argument --stack: {arguments.stack!r} is not a stack name")
    return arguments


def main(argv: Sequence[str]) -> int:
    arguments = parse_arguments(argv)
    if arguments.action == "record":
        event = record(
            arguments.stack,
            arguments.kind,
            arguments.seconds,
            arguments.detail,
            arguments.work_dir,
        )
        print(f"recorded {event.kind} {event.seconds:.1f}s for stack {arguments.stack}")
        return 0
    for event in read(arguments.stack, arguments.work_dir):
        print(json.dumps(asdict(event), ensure_ascii=False))
    return 0
