"""HelloAppArgs refuses bad values when it is made, so a program that builds HelloApp directly
(without the stack config) gets the same protection."""

from dataclasses import fields

import pytest

from components import HelloApp, HelloAppArgs, InvalidArgsError
from components.args import RULES, BlueGreenArgs, CanaryArgs, GateArgs


def test_every_field_has_a_rule():
    assert {field.name for field in fields(HelloAppArgs)} == set(RULES)


def test_the_defaults_are_accepted():
    assert HelloAppArgs().replicas == 3


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"replicas": 51}, "replicas"),
        ({"replicas": -1}, "replicas"),
        ({"replicas": True}, "replicas"),
        ({"node_port": 80}, "node_port"),
        ({"node_port": 32768}, "node_port"),
        ({"namespace": "Demo"}, "namespace"),
        ({"service_name": "1-svc"}, "service_name"),
        ({"image": "Hashicorp/http-echo"}, "image"),
        ({"message": " "}, "message"),
        ({"strategy": "BlueGreen!"}, "strategy"),
        ({"max_surge": "101%"}, "max_surge"),
        ({"max_unavailable": -1}, "max_unavailable"),
        ({"rollout_timeout_seconds": 5}, "rollout_timeout_seconds"),
        ({"strategy": "Recreate", "max_surge": 2}, "max_surge"),
        ({"strategy": "Recreate", "max_unavailable": "25%"}, "max_unavailable"),
        ({"max_surge": 0, "max_unavailable": "0%"}, "max_unavailable"),
    ],
)
def test_a_bad_value_is_refused_on_construction_naming_the_field(arguments, field):
    with pytest.raises(InvalidArgsError) as raised:
        HelloAppArgs(**arguments)

    assert raised.value.field == field
    assert raised.value.value == arguments[field]
    assert str(raised.value).startswith(
        f"HelloAppArgs.{field}: {arguments[field]!r} is not accepted"
    )


def test_a_program_that_builds_the_component_directly_is_protected_too(render):
    def program() -> None:
        HelloApp("direct", HelloAppArgs(replicas=500))

    with pytest.raises(ValueError, match=r"HelloAppArgs\.replicas: 500"):
        render(program)


@pytest.mark.parametrize(
    ("strategy", "group", "field"),
    [("BlueGreen", "blue_green", "preview_node_port"), ("Canary", "canary", "node_port")],
)
def test_the_gate_needs_no_node_port_it_goes_through_the_api_server(strategy, group, field):
    groups = {"blue_green": BlueGreenArgs, "canary": CanaryArgs}
    without_port = {group: groups[group](**{field: None})}

    args = HelloAppArgs(strategy=strategy, gate=GateArgs(seconds=10), **without_port)

    assert args.gate.seconds == 10
    assert f"{group}.{field}" not in args.node_ports()
