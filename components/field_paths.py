"""HelloAppArgs' fields by path (`replicas`, `autoscale.min_replicas`, `strategy.weight`,
`strategy.gate.seconds`): the rule, the default and the strategies of each, and HelloAppArgs made
from values by path. What a config layer needs to read its settings into the component without
writing the component's rules or defaults again.

A path under `strategy` names a field of the strategies that have it: `strategy.max_surge` is
RollingUpdate's, BlueGreen's and Canary's, `strategy.weight` Canary's alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import MISSING, Field, fields
from typing import Any

from . import shared_args, strategies
from .args import RULES, HelloAppArgs
from .rules import InvalidArgsError, Problem, Rule
from .strategies import STRATEGIES, STRATEGY_BY_NAME, STRATEGY_NAMES, GateArgs


def shared_groups() -> dict[str, tuple[type, ...]]:
    """HelloAppArgs' fields that hold a group of shared_args (autoscale, gateway...), from the
    type of each field's default: a group added there is known here with nothing to write."""
    defaults = {each.name: each.default_factory for each in fields(HelloAppArgs)
                if each.default_factory is not MISSING}  # fmt: skip
    return {name: (type(made),) for name, make in defaults.items()
            if type(made := make()) in shared_args.RULES_OF}  # fmt: skip


GROUPS: dict[str, tuple[type, ...]] = {
    "strategy": STRATEGIES,
    "gate": (GateArgs,),
    **shared_groups(),
}
"""The fields that hold a dataclass of settings, and the classes each may hold."""

RULES_OF: dict[type, dict[str, Rule]] = {
    HelloAppArgs: RULES,
    **strategies.RULES_OF,
    **shared_args.RULES_OF,
}
"""The rules of every dataclass of settings, by class."""


def fields_of(cls: type) -> dict[str, Field[Any]]:
    return {each.name: each for each in fields(cls)}


def owner_of(path: str, within: type = HelloAppArgs) -> type | None:
    """The first dataclass, from `within` down the path, that holds the path's last field."""
    head, _, rest = path.partition(".")
    if head not in fields_of(within):
        return None
    if not rest:
        return within
    found = (owner_of(rest, group_class) for group_class in GROUPS[head])
    return next((owner for owner in found if owner is not None), None)


def field_at(path: str) -> tuple[type, Field[Any]]:
    owner = owner_of(path)
    if owner is None:
        raise KeyError(f"HelloAppArgs has no field {path!r}")
    return owner, fields_of(owner)[path.rpartition(".")[2]]


def rule_of(path: str) -> Rule:
    """The rule of a field by its path: `replicas`, `strategy.weight`."""
    owner, each = field_at(path)
    return RULES_OF[owner][each.name]


def default_of(path: str) -> object:
    """The documented default of a field by its path."""
    _, each = field_at(path)
    if each.default is not MISSING:
        return each.default
    assert callable(each.default_factory), f"{path} has no default"
    return each.default_factory()


def strategies_with(path: str) -> tuple[str, ...]:
    """The names of the strategies that use the field: all of them but for a strategy's own."""
    field_at(path)  # KeyError for a path that names no field
    head, _, rest = path.partition(".")
    if head != "strategy" or not rest:
        return STRATEGY_NAMES
    return tuple(each.__name__ for each in STRATEGIES if owner_of(rest, each) is not None)


def build(strategy: str, values: Mapping[str, object]) -> HelloAppArgs:
    """HelloAppArgs with the strategy named `strategy` and `values` keyed by field path, each a
    field of that strategy's or of no strategy's. InvalidArgsError names every problem of the
    groups (strategy, autoscale...); those of HelloAppArgs itself once the groups are fine."""
    args = make(HelloAppArgs, values, {"strategy": STRATEGY_BY_NAME[strategy]})
    assert isinstance(args, HelloAppArgs)
    return args


def make(cls: type, values: Mapping[str, object], chosen: Mapping[str, type]) -> Any:
    """`cls` from values by path; `chosen`: the class of a group that may hold several."""
    own: dict[str, object] = {}
    grouped: dict[str, dict[str, object]] = {
        group: {} for group in chosen if group in fields_of(cls)
    }
    for path, value in values.items():
        head, _, rest = path.partition(".")
        if rest:
            grouped.setdefault(head, {})[rest] = value
        else:
            own[head] = value
    problems: list[Problem] = []
    for group, group_values in grouped.items():
        try:
            own[group] = make(chosen.get(group, GROUPS[group][0]), group_values, chosen)
        except InvalidArgsError as error:
            problems += [problem.within(group) for problem in error.problems]
    if problems:
        raise InvalidArgsError(cls.__name__, problems)
    return cls(**own)
