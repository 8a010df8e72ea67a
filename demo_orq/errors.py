"""What ends a command before it has done its job, in the one-line form `demo-orq` shows (the
mapping to exit codes is demo_orq.cli.run)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pulumi import automation as auto


class RefusedError(Exception):
    """Refused before anything was changed (a stack that cannot be used, a value or a state that
    does not allow it): `<verb> refused: <message>`, exit 2."""


class FailedError(Exception):
    """Failed once started, with what it had changed put back as far as it can be (its message
    says what is left): `<verb> failed: <message>`, exit 1."""


def first_error(text: str) -> str:
    """The line of a failed Pulumi command's output that says what went wrong (its first
    `error:`), else its last line."""
    lines = [line.strip() for line in text.splitlines()]
    errors = [line.removeprefix("error:").strip() for line in lines if line.startswith("error:")]
    return errors[0] if errors else next((line for line in reversed(lines) if line), "failed")


def error_line(error: auto.CommandError) -> str:
    """The line of a failed Pulumi command that says what went wrong (its first `error:`)."""
    return first_error(str(error))


def one_line(text: str) -> str:
    """`text` on one line: its non-empty lines, stripped, joined by a space."""
    return " ".join(line.strip() for line in text.splitlines() if line.strip())
