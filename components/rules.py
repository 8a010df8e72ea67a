"""What a field of the component's arguments accepts (a Rule), and the error that names every
value refused.

Every arguments dataclass checks its fields against its rules when it is made, so a program that
builds HelloApp directly gets the same protection as the stack config: a bad value raises
InvalidArgsError (a ValueError) naming the field, the value and what is accepted.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

Accepts = Callable[[object], bool]


@dataclass(frozen=True)
class Rule:
    """What one field accepts: said in errors, checked by `accepts`."""

    accepted: str
    accepts: Accepts


@dataclass(frozen=True)
class Problem:
    """One value refused: its field, by its path from the object refused (`max_surge`,
    `strategy.idle_replicas`), the value and what is accepted."""

    field: str
    value: object
    accepted: str

    def within(self, group: str) -> Problem:
        """The same problem, seen from the object that holds this one as its field `group`."""
        return Problem(f"{group}.{self.field}", self.value, self.accepted)


class InvalidArgsError(ValueError):
    """Arguments the component refuses: every problem found, one line each, named from the class
    refused (`HelloAppArgs.replicas`, `Canary.weight`)."""

    def __init__(self, owner: str, problems: Sequence[Problem]) -> None:
        self.owner = owner
        self.problems = tuple(problems)
        super().__init__(
            "\n".join(
                f"{owner}.{each.field}: {each.value!r} is not accepted (accepted: {each.accepted})"
                for each in self.problems
            )
        )

    @property
    def field(self) -> str:
        """The field of the first problem."""
        return self.problems[0].field

    @property
    def value(self) -> object:
        return self.problems[0].value

    @property
    def accepted(self) -> str:
        return self.problems[0].accepted


def field_problems(args: Any, rules: Mapping[str, Rule]) -> list[Problem]:
    """Every field of the dataclass `args` that its rule refuses."""
    problems = []
    for each in fields(args):
        rule = rules.get(each.name)
        value = getattr(args, each.name)
        if rule is not None and not rule.accepts(value):
            problems.append(Problem(each.name, value, rule.accepted))
    return problems


def refuse(args: object, problems: Sequence[Problem]) -> None:
    """Raises InvalidArgsError for `args` when there is any problem."""
    if problems:
        raise InvalidArgsError(type(args).__name__, problems)


def integer_between(low: int, high: int) -> Accepts:
    def accepts(value: object) -> bool:
        return type(value) is int and low <= value <= high

    return accepts


def number_between(low: float, high: float) -> Accepts:
    def accepts(value: object) -> bool:
        return type(value) in (int, float) and low <= value <= high  # type: ignore[operator]

    return accepts


def matching(pattern: re.Pattern[str]) -> Accepts:
    def accepts(value: object) -> bool:
        return isinstance(value, str) and pattern.fullmatch(value) is not None

    return accepts


def one_of(*choices: str) -> Accepts:
    return lambda value: value in choices


def or_none(accepts: Accepts) -> Accepts:
    return lambda value: value is None or accepts(value)


def instance_of(*classes: type) -> Accepts:
    return lambda value: isinstance(value, classes)


def non_empty_text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())
