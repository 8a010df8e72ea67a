"""How the raw string of a config key (Pulumi hands every value, defaults too, to the program as
a string: "3", "", "false") becomes a typed value, and back.

A reader only reads: what a value must be (a range, a format) is its setting's rule.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from components.values import PERCENT

PulumiType = Literal["string", "integer", "boolean", "object"]


@dataclass(frozen=True)
class Reader:
    """The type a key is declared with in Pulumi.yaml, and how its raw string is read (ValueError
    when it cannot be)."""

    pulumi_type: PulumiType
    parse: Callable[[str], Any]


_INTEGER = re.compile(r"-?[0-9]+")


def integer(raw: str) -> int:
    if not _INTEGER.fullmatch(raw):
        raise ValueError
    return int(raw)


def number(raw: str) -> float:
    return float(raw)


def boolean(raw: str) -> bool:
    if raw not in ("true", "false"):
        raise ValueError
    return raw == "true"


def as_is(raw: str) -> str:
    return raw


def optional_text(raw: str) -> str | None:
    """Empty: not set (the field's None, e.g. "the app's message")."""
    return raw if raw else None


def optional_integer(raw: str) -> int | None:
    return integer(raw) if raw else None


def count_or_percent(raw: str) -> int | str:
    """`3` or `25%` (leading zeros dropped: `007%` is `7%`)."""
    percent = PERCENT.fullmatch(raw)
    return f"{int(percent[1])}%" if percent else integer(raw)


def optional_count_or_percent(raw: str) -> int | str | None:
    return count_or_percent(raw) if raw else None


def optional_path(raw: str) -> str | None:
    return os.path.expanduser(raw) if raw.strip() else None


def text_object(raw: str) -> dict[str, str]:
    """A JSON object (`pulumi config set --path appConfig.APP_MODE prod` makes one) of texts; a
    number or a boolean is taken as the text YAML wrote (`PORT: 8080` is "8080")."""
    value = json.loads(raw) if raw.strip() else {}
    if not isinstance(value, dict):
        raise ValueError
    return {str(key): scalar_text(item) for key, item in value.items()}


def scalar_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return str(value)
    raise ValueError


def optional_text_object(raw: str) -> dict[str, str] | None:
    """Empty, `null` or `{}`: not set (the field's None, e.g. "the app's settings")."""
    return text_object(raw) or None


TEXT = Reader("string", as_is)
OPTIONAL_TEXT = Reader("string", optional_text)
PATH = Reader("string", optional_path)
INTEGER = Reader("integer", integer)
OPTIONAL_INTEGER = Reader("string", optional_integer)
NUMBER = Reader("string", number)
OBJECT = Reader("object", text_object)
OPTIONAL_OBJECT = Reader("object", optional_text_object)
BOOLEAN = Reader("boolean", boolean)
COUNT_OR_PERCENT = Reader("string", count_or_percent)
OPTIONAL_COUNT_OR_PERCENT = Reader("string", optional_count_or_percent)


def config_text(value: object) -> str:
    """A typed value as Pulumi hands it to the program: what a reader reads back into it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
