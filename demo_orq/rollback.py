"""Roll a stack back to an earlier update from its history.

    demo-orq rollback                # back to the previous good update
    demo-orq rollback --list         # the numbered history (1 = the oldest update)
    demo-orq rollback --to 3         # back to update 3
    demo-orq rollback --stack kind --to 3

Pulumi records the configuration of every update. A rollback restores the configuration of the
chosen update (the message, replicas, image... of that version) in the stack file and runs
`pulumi up` with a message that says it is a rollback, so the history shows it. It refuses, and
changes nothing, when the update does not exist, did not succeed, or its secrets cannot be read;
when `pulumi up` fails, the stack file is put back as it was.

It costs little more than the `pulumi up` itself: the history is read once (from the files of a
local file backend, no CLI run; else one `pulumi stack history`), the configuration is written to
the stack file (secrets as the history keeps them, encrypted), and `pulumi up` runs once.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .cli import command_parser
from .errors import FailedError, RefusedError, first_error
from .project import PROJECT
from .stack_history import StackRef, Update, pulumi_command, read_history

if TYPE_CHECKING:
    from .stack_file import StackFile

VERSION_KEYS = ("strategy", "message", "replicas", "image", "liveColor", "blueMessage",
                "greenMessage", "canaryMessage", "canaryWeight", "appConfig", "appSecrets",
                "blueConfig", "greenConfig", "canaryConfig")  # fmt: skip
"""The settings that tell versions apart in `--list`."""
SECRET_PLACEHOLDER = "[secret]"
PASSPHRASE_VARIABLES = ("PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE_FILE")
PATH_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
"""A name that a `pulumi config --path` path may hold as it is; others go in `["..."]`."""


class RollbackError(RefusedError):
    """A rollback that was refused before anything changed."""


class RollbackFailedError(FailedError):
    """A rollback whose `pulumi` command failed; the stack file is back as it was."""


@dataclass(frozen=True)
class NumberedUpdate:
    number: int
    update: Update

    @property
    def succeeded(self) -> bool:
        return self.update.kind == "update" and self.update.result == "succeeded"


def numbered(history: Sequence[Update]) -> list[NumberedUpdate]:
    """The history, newest first, each entry with its number (1 = the oldest).

    The backend's own version numbers are used when it has them; the local file backend
    records 0 for every entry, so there the number is the entry's position.
    """
    versions = [u.version for u in history]
    if all(versions) and len(set(versions)) == len(versions):
        entries = [NumberedUpdate(version, u) for version, u in zip(versions, history, strict=True)]
    else:
        entries = [NumberedUpdate(len(history) - index, u) for index, u in enumerate(history)]
    return sorted(entries, key=lambda e: e.number, reverse=True)


def choose_update(history: Sequence[Update], number: int | None) -> NumberedUpdate:
    """The update to roll back to: `number`, else the last good one before the current state.

    After a failed update that is the last successful update; otherwise the one before it.
    """
    entries = numbered(history)
    good = [e for e in entries if e.succeeded]
    if number is None:
        if (
            entries
            and entries[0].update.kind == "update"
            and entries[0].update.result == "failed"
            and good
        ):
            return good[0]
        if len(good) < 2:
            raise RollbackError(
                "there is no earlier successful update to roll back to "
                f"(the stack has {len(good)} successful update(s))"
            )
        return good[1]
    for entry in entries:
        if entry.number == number:
            if not entry.succeeded:
                raise RollbackError(
                    f"update {number} is a '{entry.update.kind}' that {entry.update.result}; "
                    "only a successful 'update' can be rolled back to"
                )
            return entry
    known = ", ".join(str(e.number) for e in good) or "none"
    raise RollbackError(
        f"update {number} is not in the stack history (successful updates: {known})"
    )


def is_secret(value: Any) -> bool:
    """Whether a recorded value is, or holds, a secret (`{"secure": <ciphertext>}`)."""
    if isinstance(value, dict):
        if set(value) == {"secure"} and isinstance(value["secure"], str):
            return True
        return any(is_secret(item) for item in value.values())
    return isinstance(value, list) and any(is_secret(item) for item in value)


def as_text(value: Any) -> str:
    """A recorded value as `pulumi config` shows it: a text as it is, anything else as JSON."""
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def describe(entry: NumberedUpdate) -> str:
    """One line of `--list`: number, result, message and the config that tells versions apart."""
    update = entry.update
    recorded = {key: SECRET_PLACEHOLDER if is_secret(value) else as_text(value)
                for key, value in update.config.items()}  # fmt: skip
    recorded.update(dict.fromkeys(update.secrets, SECRET_PLACEHOLDER))
    prefix = f"{PROJECT}:"
    config = {
        key.removeprefix(prefix): value
        for key, value in recorded.items()
        if key.removeprefix(prefix) in VERSION_KEYS and value not in ("", "{}")
    }
    shown = ", ".join(f"{key}={value}" for key, value in sorted(config.items())) or "defaults"
    return (
        f"{entry.number:>4}  {update.kind:<8} {update.result:<10} "
        f"{update.message or '-'}  [{shown}]"
    )


def require_passphrase(stack: StackRef, stack_file: StackFile) -> None:
    """Refuses a stack whose secrets' passphrase is not given: no `pulumi up` of it can run."""
    if stack_file.uses_passphrase() and not any(name in stack.env for name in PASSPHRASE_VARIABLES):
        raise RollbackError(
            f"stack '{stack.name}' keeps its secrets with a passphrase: set "
            "PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE) to the stack's passphrase"
        )


def require_readable_secrets(entry: NumberedUpdate) -> None:
    """Refuses an update whose secrets the CLI could not decrypt (it shows them as [secret])."""
    hidden = sorted(key for key, value in entry.update.secrets.items()
                    if value == SECRET_PLACEHOLDER)  # fmt: skip
    if hidden:
        raise RollbackError(
            f"update {entry.number} has secret config ({', '.join(hidden)}) that "
            "cannot be read back: set PULUMI_CONFIG_PASSPHRASE to the stack's passphrase"
        )


def config_path(key: str) -> str:
    """`namespace:name` as a `pulumi config --path` path."""
    namespace, _, name = key.rpartition(":")
    return (
        f"{namespace}:{name}" if PATH_NAME.fullmatch(name) else f"{namespace}:[{json.dumps(name)}]"
    )


def secret_paths(path: str, value: Any) -> Iterator[tuple[str, str]]:
    """(path, text) of each leaf of a decrypted secret: an object is set entry by entry, as
    Pulumi checks that the stack file holds an object for an object setting."""
    if isinstance(value, dict):
        for name, item in value.items():
            step = f".{name}" if PATH_NAME.fullmatch(name) else f"[{json.dumps(name)}]"
            yield from secret_paths(path + step, item)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from secret_paths(f"{path}[{index}]", item)
    else:
        yield path, as_text(value)


def set_secrets(pulumi: str, stack: StackRef, secrets: dict[str, Any]) -> None:
    """Sets the decrypted secrets of a history read by the CLI, in one `pulumi config` run."""
    pairs = [
        pair for key, value in secrets.items() for pair in secret_paths(config_path(key), value)
    ]
    arguments = [argument for path, text in pairs for argument in ("--secret", f"{path}={text}")]
    command = [pulumi, "--non-interactive", "config", "set-all", "--stack", stack.name, "--path",
               *arguments]  # fmt: skip
    completed = subprocess.run(command, cwd=stack.work_dir, env=dict(stack.env),
                               capture_output=True, text=True, check=False)  # fmt: skip
    if completed.returncode != 0:
        said = first_error(completed.stderr + "\n" + completed.stdout)
        raise RollbackFailedError(
            f"pulumi config set-all: {said}; {stack.stack_file.name} put back"
        )


def relay(lines: Iterable[str], on_output: Callable[[str], None]) -> list[str]:
    """Every line, shown as it comes, until the end. An interrupt does not end the reading: Ctrl-C
    reaches `pulumi` too, which cancels the update and must keep its output open to end well."""
    seen: list[str] = []
    while True:
        try:
            for line in lines:
                seen.append(line.rstrip("\n"))
                on_output(seen[-1])
            return seen
        except KeyboardInterrupt:
            continue


def deploy(pulumi: str, stack: StackRef, message: str, on_output: Callable[[str], None]) -> None:
    """`pulumi up` of the stack as it is, its output shown as it comes."""
    command = [pulumi, "--non-interactive", "up", "--yes", "--skip-preview",
               "--message", message, "--stack", stack.name]  # fmt: skip
    with subprocess.Popen(command, cwd=stack.work_dir, env=dict(stack.env), text=True,
                          encoding="utf-8", errors="replace", stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT) as process:  # fmt: skip
        assert process.stdout is not None
        output = relay(process.stdout, on_output)
    if process.returncode != 0:
        said = first_error("\n".join(output))
        raise RollbackFailedError(
            f"pulumi up: {said}; {stack.stack_file.name} put back as it was (a failed rollout "
            "leaves the old version serving)"
        )


def restore_config(pulumi: str, stack: StackRef, stack_file: StackFile, update: Update) -> None:
    """The stack file's config made the update's: written as recorded, then its decrypted
    secrets (a history read by the CLI) set by `pulumi config`, which encrypts them."""
    from .stack_file import write_config

    write_config(stack_file, update.config)
    if update.secrets:
        set_secrets(pulumi, stack, update.secrets)


def rollback(
    stack: StackRef, number: int | None, on_output: Callable[[str], None] = print
) -> NumberedUpdate:
    """Restore the configuration of update `number` (default: the previous one) and deploy it."""
    # Here, not at the top: only a rollback reads YAML, not `--list` or `--help`.
    from .stack_file import put_back, read_stack_file

    pulumi = pulumi_command(stack.env)
    stack_file = read_stack_file(stack.stack_file)
    require_passphrase(stack, stack_file)
    target = choose_update(read_history(stack), number)
    require_readable_secrets(target)
    try:
        restore_config(pulumi, stack, stack_file, target.update)
        deploy(pulumi, stack, f"rollback to update {target.number}", on_output)
    except BaseException:
        # The stack file describes what is deployed again: the cluster keeps the old version.
        put_back(stack_file)
        raise
    return target


def parse_arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = command_parser("rollback")
    parser.add_argument(
        "--to",
        type=int,
        metavar="N",
        dest="number",
        help="update number, as `--list` shows it (default: the previous good one)",
    )
    parser.add_argument("--list", action="store_true", help="list the numbered history and exit")
    arguments = parser.parse_args(argv)
    if arguments.number is not None and arguments.number < 1:
        parser.error(f"argument --to: update numbers start at 1, got {arguments.number}")
    return arguments


def main(argv: Sequence[str]) -> int:
    arguments = parse_arguments(argv)
    stack = StackRef(arguments.stack, arguments.work_dir)
    if arguments.list:
        history = read_history(stack, show_secrets=False)
        print("\n".join(describe(entry) for entry in numbered(history)))
        return 0
    target = rollback(stack, arguments.number)
    print(f"rolled back: rollback to update {target.number}")
    return 0
