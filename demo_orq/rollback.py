"""Roll a stack back to an earlier update from its history.

    demo-orq rollback                # back to the previous good update
    demo-orq rollback --list         # the numbered history (1 = the oldest update)
    demo-orq rollback --to 3         # back to update 3
    demo-orq rollback --stack kind --to 3

Pulumi records the configuration of every update. A rollback restores the configuration of the
chosen update (the message, replicas, image... of that version) and runs `pulumi up` with a
message that says it is a rollback, so the history shows it. It refuses, and changes nothing,
when the update does not exist, did not succeed, or its configuration cannot be restored.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pulumi import automation as auto

from .cli import command_parser
from .errors import RefusedError, error_line
from .facts import PROJECT
from .settings import KEYS
from .settings.readers import text_object
from .stacks import select_stack

VERSION_KEYS = ("strategy", "message", "replicas", "image", "liveColor", "blueMessage",
                "greenMessage", "canaryMessage", "canaryWeight", "appConfig", "appSecrets",
                "blueConfig", "greenConfig", "canaryConfig")  # fmt: skip
"""The settings that tell versions apart in `--list`."""
SECRET_PLACEHOLDER = "[secret]"


class RollbackError(RefusedError):
    """A rollback that was refused before anything changed."""


@dataclass(frozen=True)
class NumberedUpdate:
    number: int
    update: auto.UpdateSummary

    @property
    def succeeded(self) -> bool:
        return self.update.kind == "update" and self.update.result == "succeeded"


def numbered(history: Sequence[auto.UpdateSummary]) -> list[NumberedUpdate]:
    """The history, newest first, each entry with its number (1 = the oldest).

    The backend's own version numbers are used when it has them; the local file backend
    reports 0 for every entry, so there the number is the entry's position.
    """
    versions = [u.version or 0 for u in history]
    if all(versions) and len(set(versions)) == len(versions):
        entries = [NumberedUpdate(version, u) for version, u in zip(versions, history, strict=True)]
    else:
        entries = [NumberedUpdate(len(history) - index, u) for index, u in enumerate(history)]
    return sorted(entries, key=lambda e: e.number, reverse=True)


def choose_update(history: Sequence[auto.UpdateSummary], number: int | None) -> NumberedUpdate:
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


def describe(entry: NumberedUpdate) -> str:
    """One line of `--list`: number, result, message and the config that tells versions apart."""
    prefix = f"{PROJECT}:"
    config = {
        key.removeprefix(prefix): SECRET_PLACEHOLDER if value.secret else value.value
        for key, value in entry.update.config.items()
        if key.removeprefix(prefix) in VERSION_KEYS and value.value not in ("", "{}")
    }
    shown = ", ".join(f"{key}={value}" for key, value in sorted(config.items())) or "defaults"
    return (
        f"{entry.number:>4}  {entry.update.kind:<8} {entry.update.result:<10} "
        f"{entry.update.message or '-'}  [{shown}]"
    )


def restorable_config(entry: NumberedUpdate) -> auto.ConfigMap:
    """The configuration recorded for an update, refused if a secret could not be decrypted."""
    hidden = sorted(
        key
        for key, value in entry.update.config.items()
        if value.secret and value.value == SECRET_PLACEHOLDER
    )
    if hidden:
        raise RollbackError(
            f"update {entry.number} has secret config ({', '.join(hidden)}) that "
            "cannot be read back: set PULUMI_CONFIG_PASSPHRASE to the stack's passphrase"
        )
    return dict(entry.update.config)


def read_history(stack: auto.Stack) -> list[auto.UpdateSummary]:
    try:
        return stack.history(show_secrets=True)
    except auto.CommandError as error:
        raise RollbackError(
            f"cannot read the history of stack '{stack.name}': {error_line(error)}"
        ) from error


def replace_config(
    stack: auto.Stack, config: auto.ConfigMap, present: auto.ConfigMap | None = None
) -> None:
    """Make the stack's configuration exactly `config` (`present`: what it is now, when known,
    saves reading it again: each read is a `pulumi config` run). The history holds an object
    setting (appConfig) as its JSON text; it is set back entry by entry (`--path`), as Pulumi
    checks that it is an object."""
    present = stack.get_all_config() if present is None else present
    objects = {key: value for key, value in config.items() if is_object_setting(key)}
    plain = {key: value for key, value in config.items() if key not in objects}
    stale = [key for key in present if key not in plain]
    if stale:
        stack.remove_all_config(stale)
    stack.set_all_config(plain)
    for key, value in objects.items():
        entries = text_object(value.value)
        if entries:
            paths = {f"{key}.{name}": auto.ConfigValue(text, value.secret)
                     for name, text in entries.items()}  # fmt: skip
            stack.set_all_config(paths, path=True)


def is_object_setting(key: str) -> bool:
    setting = KEYS.get(key.removeprefix(f"{PROJECT}:"))
    return setting is not None and setting.reader.pulumi_type == "object"


def rollback(
    stack: auto.Stack, number: int | None, on_output: Callable[[str], None] = print
) -> auto.UpResult:
    """Restore the configuration of update `number` (default: the previous one) and deploy it."""
    target = choose_update(read_history(stack), number)
    wanted = restorable_config(target)
    current = stack.get_all_config()
    replace_config(stack, wanted, current)
    try:
        return stack.up(message=f"rollback to update {target.number}", on_output=on_output)
    except auto.CommandError:
        # The cluster keeps the old version serving (a failed rollout never removes it);
        # put the stack's configuration back so that it still describes what is deployed.
        replace_config(stack, current)
        raise


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
    stack = select_stack(arguments.stack, arguments.work_dir)
    if arguments.list:
        print("\n".join(describe(entry) for entry in numbered(read_history(stack))))
        return 0
    result = rollback(stack, arguments.number)
    print(f"rolled back: {result.summary.message}")
    return 0
