"""HelloAppArgs refuses bad values when it is made, so a program that builds HelloApp directly
(without the stack config) gets the same protection."""

from dataclasses import fields

import pytest

from components import BlueGreen, Canary, GateArgs, HelloApp, HelloAppArgs, InvalidArgsError
from components.args import RULES


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
        ({"strategy": "Canary"}, "strategy"),
        ({"rollout_timeout_seconds": 5}, "rollout_timeout_seconds"),
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


def test_every_bad_value_is_named_at_once_one_line_each():
    with pytest.raises(InvalidArgsError) as raised:
        HelloAppArgs(replicas=51, node_port=80, namespace="Demo")

    assert [problem.field for problem in raised.value.problems] == [
        "namespace",
        "replicas",
        "node_port",
    ]
    assert len(str(raised.value).splitlines()) == 3


def test_a_program_that_builds_the_component_directly_is_protected_too(render):
    def program() -> None:
        HelloApp("direct", HelloAppArgs(replicas=500))

    with pytest.raises(ValueError, match=r"HelloAppArgs\.replicas: 500"):
        render(program)


@pytest.mark.parametrize(
    ("strategy", "field"),
    [(BlueGreen, "preview_node_port"), (Canary, "node_port")],
)
def test_the_gate_needs_no_node_port_it_goes_through_the_api_server(strategy, field):
    without_port = strategy(gate=GateArgs(seconds=10), **{field: None})

    args = HelloAppArgs(strategy=without_port)

    assert args.strategy.gate.seconds == 10
    assert f"strategy.{field}" not in args.node_ports()


def test_node_ports_are_named_by_the_path_of_their_field():
    assert HelloAppArgs(strategy=Canary()).node_ports() == {
        "node_port": 30080,
        "strategy.node_port": 30082,
    }
    assert HelloAppArgs(node_port=None).node_ports() == {}
