"""What ends a command before it has done its job, in the one-line form `demo-orq` shows (the
mapping to exit codes is demo_orq.cli.run)."""

from __future__ import annotations

from pulumi import automation as auto


class RefusedError(Exception):
    """Refused before anything was changed (a stack that cannot be used, a value or a state that
    does not allow it): `<verb> refused: <message>`, exit 2."""


def error_line(error: auto.CommandError) -> str:
    """The line of a failed Pulumi command that says what went wrong (its first `error:`)."""
    lines = [line.strip() for line in str(error).splitlines()]
    errors = [line.removeprefix("error:").strip() for line in lines if line.startswith("error:")]
    return errors[0] if errors else next((line for line in reversed(lines) if line), "failed")


def one_line(text: str) -> str:
    """`text` on one line: its non-empty lines, stripped, joined by a space."""
    return " ".join(line.strip() for line in text.splitlines() if line.strip())
