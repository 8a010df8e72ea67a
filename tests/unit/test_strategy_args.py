"""The strategies are a one-of: each holds its own settings only and checks them when it is made,
so a setting of another strategy cannot be written beside it."""

from dataclasses import fields

import pytest

from components import BlueGreen, Canary, GateArgs, InvalidArgsError, Recreate, RollingUpdate
from components.strategies import RULES_OF, STRATEGIES


def names(cls: type) -> set[str]:
    return {field.name for field in fields(cls)}


def test_every_field_of_every_class_has_a_rule():
    for cls, rules in RULES_OF.items():
        assert names(cls) == set(rules), cls.__name__


def test_each_strategy_holds_its_own_settings_and_no_other_strategys():
    rolling = {"max_surge", "max_unavailable"}

    assert names(RollingUpdate) == rolling
    assert names(Recreate) == set()
    assert names(BlueGreen) - rolling == {"gate", "live_color", "preview_node_port",
                                          "blue_message", "blue_image", "green_message",
                                          "green_image", "blue_config", "green_config",
                                          "idle_replicas"}  # fmt: skip
    assert names(Canary) - rolling == {"gate", "message", "image", "config", "weight",
                                       "node_port"}  # fmt: skip


@pytest.mark.parametrize(
    ("strategy", "arguments"),
    [
        (RollingUpdate, {"weight": 50}),
        (RollingUpdate, {"gate": GateArgs()}),
        (Recreate, {"max_surge": 2}),
        (Recreate, {"max_unavailable": "25%"}),
        (BlueGreen, {"weight": 50}),
        (Canary, {"live_color": "green"}),
    ],
)
def test_a_setting_of_another_strategy_cannot_be_written(strategy, arguments):
    with pytest.raises(TypeError, match="unexpected keyword argument"):
        strategy(**arguments)


def test_the_settings_are_keywords_only():
    with pytest.raises(TypeError):
        BlueGreen("green")  # type: ignore[misc]


@pytest.mark.parametrize(
    ("strategy", "arguments", "field"),
    [
        (RollingUpdate, {"max_surge": "101%"}, "max_surge"),
        (RollingUpdate, {"max_surge": "007%"}, "max_surge"),
        (RollingUpdate, {"max_unavailable": -1}, "max_unavailable"),
        (RollingUpdate, {"max_surge": 0, "max_unavailable": "0%"}, "max_unavailable"),
        (BlueGreen, {"max_surge": "0%", "max_unavailable": 0}, "max_unavailable"),
        (Canary, {"max_surge": 0, "max_unavailable": 0}, "max_unavailable"),
        (BlueGreen, {"live_color": "red"}, "live_color"),
        (BlueGreen, {"green_image": "Bad Image"}, "green_image"),
        (BlueGreen, {"idle_replicas": 51}, "idle_replicas"),
        (Canary, {"weight": 101}, "weight"),
        (Canary, {"node_port": 80}, "node_port"),
        (GateArgs, {"seconds": 601}, "seconds"),
        (GateArgs, {"min_success_percent": 120}, "min_success_percent"),
        (GateArgs, {"source": "grafana"}, "source"),
        (GateArgs, {"min_requests": 0}, "min_requests"),
    ],
)
def test_a_bad_value_is_refused_on_construction_naming_the_class_and_field(
    strategy, arguments, field
):
    with pytest.raises(InvalidArgsError) as raised:
        strategy(**arguments)

    assert (raised.value.owner, raised.value.field) == (strategy.__name__, field)
    assert raised.value.value == arguments[field]
    assert str(raised.value).startswith(
        f"{strategy.__name__}.{field}: {arguments[field]!r} is not accepted"
    )


def test_one_of_max_surge_and_max_unavailable_may_be_zero():
    assert RollingUpdate(max_surge=0, max_unavailable="25%").max_unavailable == "25%"


def test_the_gate_is_blue_green_and_canarys_alone():
    assert [cls.__name__ for cls in STRATEGIES if "gate" in names(cls)] == ["BlueGreen", "Canary"]


def test_the_versions_and_replicas_fall_back_to_the_apps():
    app = ("v1", "echo:1")
    slots = BlueGreen(green_message="v2", blue_image="echo:2", idle_replicas=None)
    canary = Canary(image="echo:3", weight=10)

    assert slots.color_version("blue", app) == ("v1", "echo:2")
    assert slots.color_version("green", app) == ("v2", "echo:1")
    assert slots.idle_pods(4) == 4
    assert BlueGreen(idle_replicas=0).idle_pods(4) == 0
    assert canary.version(app) == ("v1", "echo:3")
    assert canary.pods(3) == 1  # any weight above 0 gets a pod
    assert Canary(weight=0).pods(3) == 0
