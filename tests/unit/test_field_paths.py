"""HelloAppArgs' fields by path: the rule, default and strategies of each come from the
component's own dataclasses, and HelloAppArgs is made from values by path."""

import pytest

from components import AutoscaleArgs, Canary, HelloAppArgs, InvalidArgsError, Recreate
from components.args import RULES
from components.field_paths import build, default_of, rule_of, strategies_with
from components.strategies import CANARY_RULES, GATE_RULES, ROLLING_RULES, STRATEGY_NAMES


def test_a_field_is_found_by_its_path_through_the_strategies_and_groups():
    assert rule_of("replicas") is RULES["replicas"]
    assert rule_of("strategy.max_surge") is ROLLING_RULES["max_surge"]
    assert rule_of("strategy.weight") is CANARY_RULES["weight"]
    assert rule_of("strategy.gate.seconds") is GATE_RULES["seconds"]


def test_the_defaults_are_the_dataclasses_own():
    assert default_of("replicas") == 3
    assert default_of("strategy.weight") == 0
    assert default_of("strategy.gate.min_success_percent") == 99.0
    assert default_of("autoscale.max_replicas") == 10
    assert default_of("cluster_access.context") is None
    assert default_of("strategy") == HelloAppArgs().strategy


def test_a_field_belongs_to_the_strategies_that_hold_it():
    assert strategies_with("replicas") == STRATEGY_NAMES
    assert strategies_with("autoscale.enabled") == STRATEGY_NAMES
    assert strategies_with("strategy.max_surge") == ("RollingUpdate", "BlueGreen", "Canary")
    assert strategies_with("strategy.gate.seconds") == ("BlueGreen", "Canary")
    assert strategies_with("strategy.live_color") == ("BlueGreen",)


@pytest.mark.parametrize("path", ["replica", "strategy.colour", "autoscale.weight"])
def test_an_unknown_path_is_an_error(path):
    with pytest.raises(KeyError, match=path):
        rule_of(path)


def test_build_makes_the_named_strategy_with_its_values():
    args = build("Canary", {"replicas": 4, "strategy.weight": 25, "strategy.gate.seconds": 5,
                            "autoscale.enabled": True})  # fmt: skip

    assert args.replicas == 4
    assert isinstance(args.strategy, Canary)
    assert (args.strategy.weight, args.strategy.gate.seconds) == (25, 5)
    assert args.autoscale == AutoscaleArgs(enabled=True)
    assert build("Recreate", {}).strategy == Recreate()


def test_build_names_every_problem_of_the_groups_by_path():
    with pytest.raises(InvalidArgsError) as raised:
        build("BlueGreen", {"strategy.max_surge": 0, "strategy.max_unavailable": 0,
                            "autoscale.min_replicas": 5, "autoscale.max_replicas": 4})  # fmt: skip

    assert [(p.field, p.value) for p in raised.value.problems] == [
        ("strategy.max_unavailable", 0),
        ("autoscale.min_replicas", 5),
    ]
