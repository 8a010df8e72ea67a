"""HelloAppArgs refuses values that are fine alone and meaningless together, naming each field
by its path, all of them at once."""

import pytest

from components import AutoscaleArgs, BlueGreen, Canary, HelloAppArgs, InvalidArgsError

ON = AutoscaleArgs(enabled=True, min_replicas=2, max_replicas=6)


@pytest.mark.parametrize(
    ("arguments", "field", "accepted"),
    [
        ({"replicas": 3, "strategy": BlueGreen(idle_replicas=4)}, "strategy.idle_replicas",
         "an integer from 0 to replicas (3)"),
        ({"replicas": 12, "autoscale": ON}, "replicas", "the autoscaler owns it"),
        ({"replicas": 3, "autoscale": ON, "strategy": BlueGreen(idle_replicas=1)},
         "strategy.idle_replicas", "rests at min_replicas"),
        ({"strategy": Canary(node_port=30080)}, "strategy.node_port", "other than node_port's"),
        ({"strategy": BlueGreen(preview_node_port=30080)}, "strategy.preview_node_port",
         "other than node_port's"),
    ],
)  # fmt: skip
def test_values_that_cannot_go_together_are_refused_naming_the_field(arguments, field, accepted):
    with pytest.raises(InvalidArgsError) as raised:
        HelloAppArgs(**arguments)

    assert raised.value.field == field
    assert accepted in raised.value.accepted


def test_every_problem_is_named_at_once():
    with pytest.raises(InvalidArgsError) as raised:
        HelloAppArgs(
            replicas=1,
            autoscale=ON,
            strategy=BlueGreen(idle_replicas=2, preview_node_port=30080),
        )

    assert [problem.field for problem in raised.value.problems] == [
        "strategy.idle_replicas",
        "replicas",
        "strategy.idle_replicas",
        "strategy.preview_node_port",
    ]


def test_the_bounds_of_the_autoscaler_are_checked_when_it_is_made():
    with pytest.raises(InvalidArgsError) as raised:
        AutoscaleArgs(min_replicas=5, max_replicas=4)

    assert (raised.value.field, raised.value.accepted) == (
        "min_replicas",
        "at most max_replicas (4)",
    )
