"""Roll a stack back to an earlier update from its history.

    python scripts/rollback.py                # back to the previous good update
    python scripts/rollback.py --to 3         # back to update 3 of `pulumi stack history`
    python scripts/rollback.py --stack kind --to 3

Pulumi records the configuration of every update. A rollback restores the configuration of the
chosen update (the message, replicas, image... of that version) and runs `pulumi up` with a
message that says it is a rollback, so the history shows it. It refuses, and changes nothing,
when the update does not exist, did not succeed, or its configuration cannot be restored.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable, Optional, Sequence

from pulumi import automation as auto

PROJECT_DIR = Path(__file__).resolve().parent.parent
SECRET_PLACEHOLDER = "[secret]"


class RollbackError(Exception):
    """A rollback that was refused before anything changed."""


def successful_updates(history: Sequence[auto.UpdateSummary]) -> list[auto.UpdateSummary]:
    """The stack's successful `update` operations, newest first."""
    updates = [u for u in history if u.kind == "update" and u.result == "succeeded"]
    return sorted(updates, key=lambda u: u.version or 0, reverse=True)


def choose_update(history: Sequence[auto.UpdateSummary], version: Optional[int]) -> auto.UpdateSummary:
    """The update to roll back to: `version`, else the last good one before the current state.

    After a failed update that is the last successful update; otherwise the one before it.
    """
    updates = successful_updates(history)
    if version is None:
        newest = max(history, key=lambda u: u.version or 0, default=None)
        if newest is not None and newest.kind == "update" and newest.result == "failed" and updates:
            return updates[0]
        if len(updates) < 2:
            raise RollbackError("there is no earlier successful update to roll back to "
                                f"(the stack has {len(updates)} successful update(s))")
        return updates[1]
    for update in history:
        if update.version == version:
            if update.kind != "update" or update.result != "succeeded":
                raise RollbackError(f"update {version} is a '{update.kind}' that {update.result}; "
                                    "only a successful 'update' can be rolled back to")
            return update
    known = ", ".join(str(u.version) for u in updates) or "none"
    raise RollbackError(f"update {version} is not in the stack history "
                        f"(successful updates: {known})")


def restorable_config(update: auto.UpdateSummary) -> auto.ConfigMap:
    """The configuration recorded for `update`, refused if a secret could not be decrypted."""
    hidden = sorted(key for key, value in update.config.items()
                    if value.secret and value.value == SECRET_PLACEHOLDER)
    if hidden:
        raise RollbackError(f"update {update.version} has secret config ({', '.join(hidden)}) that "
                            "cannot be read back: set PULUMI_CONFIG_PASSPHRASE to the stack's passphrase")
    return dict(update.config)


def read_history(stack: auto.Stack) -> list[auto.UpdateSummary]:
    try:
        return stack.history(show_secrets=True)
    except auto.CommandError as error:
        raise RollbackError(f"cannot read the history of stack '{stack.name}': {error}") from error


def replace_config(stack: auto.Stack, config: auto.ConfigMap) -> None:
    """Make the stack's configuration exactly `config`."""
    stale = [key for key in stack.get_all_config() if key not in config]
    if stale:
        stack.remove_all_config(stale)
    stack.set_all_config(config)


def rollback(stack: auto.Stack, version: Optional[int],
             on_output: Callable[[str], None] = print) -> auto.UpResult:
    """Restore the configuration of update `version` (default: the previous one) and deploy it."""
    target = choose_update(read_history(stack), version)
    wanted = restorable_config(target)
    current = stack.get_all_config()
    replace_config(stack, wanted)
    try:
        return stack.up(message=f"rollback to update {target.version}", on_output=on_output)
    except auto.CommandError:
        # The cluster keeps the old version serving (a failed rollout never removes it);
        # put the stack's configuration back so that it still describes what is deployed.
        replace_config(stack, current)
        raise


def parse_arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Roll a stack back to an earlier update.")
    parser.add_argument("--stack", default="dev", help="stack name (default: dev)")
    parser.add_argument("--to", type=int, metavar="N", dest="version",
                        help="update number from `pulumi stack history` (default: the previous one)")
    parser.add_argument("--work-dir", type=Path, default=PROJECT_DIR,
                        help="the Pulumi project directory (default: this project)")
    arguments = parser.parse_args(argv)
    if arguments.version is not None and arguments.version < 1:
        parser.error(f"argument --to: update numbers start at 1, got {arguments.version}")
    return arguments


def main(argv: Sequence[str]) -> int:
    arguments = parse_arguments(argv)
    try:
        stack = auto.select_stack(stack_name=arguments.stack, work_dir=str(arguments.work_dir))
        result = rollback(stack, arguments.version)
    except RollbackError as error:
        print(f"rollback refused: {error}", file=sys.stderr)
        return 2
    except auto.CommandError as error:
        print(f"rollback failed: {error}", file=sys.stderr)
        return 1
    print(f"rolled back: {result.summary.message} (update {result.summary.version})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
