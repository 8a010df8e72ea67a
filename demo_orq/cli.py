"""`demo-orq <verb>`: the project's one command (pyproject.toml's [project.scripts];
`python -m demo_orq <verb>` is the same). Each verb is the module demo_orq.<verb>, imported only
when it runs, with `main(argv) -> int`; this module gives them their arguments' form and ends
them the same way on an error. It imports little itself: a verb's start-up is its own imports."""

from __future__ import annotations

import argparse
import importlib
import math
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .errors import FailedError, RefusedError, error_line, one_line
from .kube import KubectlError
from .project import project_folder

PROG = "demo-orq"
VERBS = {
    "rollback": "Roll a stack back to an earlier update.",
    "canary": "A stepped canary: weight by weight, with the analysis gate, then promote.",
    "report": "Measure a deployed stack: one table, report.json and report-timeline.png.",
    "get": "One GET of the stack's app through the API server; prints the answer.",
    "watch": "Run a command under a steady load on the app, then tell what the users saw.",
    "job": "Run one of the stack's CronJobs now (job run etl), wait for it, print its log.",
    "events": "Record or list a stack's recovery events (the report's MTTR).",
    "facts": 'The demo\'s facts as shell assignments, for scripts: eval "$(demo-orq facts)".',
}
"""Every verb, in the order --help lists them, with what it does."""
REFUSED_EXIT = 2
FAILED_EXIT = 1
CANNOT_RUN_EXIT = 127
"""The shell's exit code for a command that could not be run."""


def usage() -> str:
    width = max(len(verb) for verb in VERBS)
    verbs = "\n".join(f"  {verb:<{width}}  {summary}" for verb, summary in VERBS.items())
    return (
        f"usage: {PROG} <verb> [arguments]    ({PROG} <verb> --help tells the rest)\n\n"
        f"verbs:\n{verbs}\n\n"
        "The verbs that work on a stack take --stack NAME (default: dev) and --work-dir FOLDER\n"
        "(default: the project around the current folder). On an error a verb prints one line,\n"
        "`<verb> refused: ...` (exit 2, nothing changed) or `<verb> failed: ...` (exit 1)."
    )


def add_seconds_argument(
    parser: argparse.ArgumentParser, flag: str, default: float, low: float, high: float, help: str
) -> None:
    """`flag SECONDS`, from `low` to `high` (a value out of them: one line naming it)."""

    def seconds(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{text} (accepted: {low:g} to {high:g} seconds)")
        return value

    parser.add_argument(flag, type=seconds, default=default, metavar="SECONDS",
                        help=f"{help} (default: {default:g})")  # fmt: skip


def folder(value: str) -> Path:
    path = Path(value)
    if not path.is_dir():
        raise argparse.ArgumentTypeError(f"{value!r} is not a folder")
    return path


def add_stack_arguments(parser: argparse.ArgumentParser) -> None:
    """`--stack` and `--work-dir`, the same for every command of the project."""
    parser.add_argument("--stack", default="dev", help="stack name (default: dev)")
    # The installed command runs from any folder: a copy of the project (the tests' copies)
    # is its own project, as `python -m demo_orq` run in it always was.
    default = project_folder(Path.cwd())
    parser.add_argument(
        "--work-dir",
        type=folder,
        default=default,
        help="the Pulumi project folder (default: the project around the current folder, else "
        f"demo-orq's own; here {default})",
    )


def command_parser(verb: str, stack: bool = True, **options: Any) -> argparse.ArgumentParser:
    """The parser of `demo-orq <verb>`, with `--stack` and `--work-dir` unless `stack` is False;
    `options` go to ArgumentParser (a longer description, an epilog)."""
    options.setdefault("description", VERBS[verb])
    parser = argparse.ArgumentParser(prog=f"{PROG} {verb}", **options)
    if stack:
        add_stack_arguments(parser)
    return parser


def run_command(verb: str, command: Sequence[str]) -> int:
    """Runs the command given after `--` in the foreground (its output shown); its exit code."""
    try:
        return subprocess.run(list(command), check=False).returncode
    except OSError as error:
        print(f"{verb}: cannot run {command[0]!r}: {error}", file=sys.stderr)
        return CANNOT_RUN_EXIT


def ended(line: str, exit_code: int) -> int:
    print(line, file=sys.stderr)
    return exit_code


def failure_line(error: Exception) -> str | None:
    """What a failed Pulumi or kubectl command, or a verb's own failure, says on one line (None
    for any other error). A Pulumi CommandError can only come from a verb that imported the
    automation API: this module does not import it for the verbs that do not."""
    if isinstance(error, FailedError):
        return str(error)
    if isinstance(error, KubectlError):
        return one_line(str(error))
    automation = sys.modules.get("pulumi.automation")
    if automation is not None and isinstance(error, automation.CommandError):
        return error_line(error)
    return None


def run(verb: str, argv: Sequence[str]) -> int:
    """Runs `verb`; a refusal or a failed Pulumi or kubectl command ends it with one line."""
    command = importlib.import_module(f"demo_orq.{verb}")
    try:
        exit_code: int = command.main(argv)
    except RefusedError as error:
        return ended(f"{verb} refused: {error}", REFUSED_EXIT)
    except Exception as error:
        line = failure_line(error)
        if line is None:
            raise
        return ended(f"{verb} failed: {line}", FAILED_EXIT)
    return exit_code


def main(argv: Sequence[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else list(argv)
    if not arguments or arguments[0] in ("-h", "--help"):
        print(usage())
        return 0 if arguments else 2
    verb, *rest = arguments
    if verb not in VERBS:
        accepted = ", ".join(VERBS)
        return ended(f"{PROG}: unknown command {verb!r} (accepted: {accepted})", 2)
    return run(verb, rest)
