"""The stack's strategy and its keys: each strategy's settings are read into it, and a key of
another strategy, set away from its default, is refused with how to remove it."""

import pytest

from components import BlueGreen, Canary, GateArgs
from demo_orq.config import load
from demo_orq.settings import KEYS
from tests.unit.stack_configs import CONTEXT, refusal, refusals

GATE = {"gateSeconds": "5", "gateMinSuccessPercent": "99.5", "gateMaxP99Ms": "250"}


def test_the_blue_green_settings_are_read_into_the_strategy():
    config = load(
        {
            **CONTEXT,
            "strategy": "BlueGreen",
            "liveColor": "green",
            "previewNodePort": "30091",
            "blueMessage": "",
            "greenMessage": "v2",
            "greenImage": "hashicorp/http-echo:1.0.0",
            "idleReplicas": "0",
            **GATE,
        }
    )

    assert config.app.strategy == BlueGreen(
        live_color="green",
        preview_node_port=30091,
        blue_message=None,
        green_message="v2",
        green_image="hashicorp/http-echo:1.0.0",
        idle_replicas=0,
        gate=GateArgs(seconds=5, min_success_percent=99.5, max_p99_ms=250),
    )


def test_the_canary_settings_are_read_into_the_strategy():
    config = load(
        {
            **CONTEXT,
            "strategy": "Canary",
            "canaryMessage": "c",
            "canaryWeight": "25",
            "canaryNodePort": "30092",
            "maxSurge": "2",
            **GATE,
        }
    )

    assert config.app.strategy == Canary(
        message="c",
        weight=25,
        node_port=30092,
        max_surge=2,
        gate=GateArgs(seconds=5, min_success_percent=99.5, max_p99_ms=250),
    )


def test_two_services_of_one_strategy_cannot_share_a_node_port():
    error = refusal({**CONTEXT, "strategy": "Canary", "canaryNodePort": "30080"})

    assert (error.key, error.value) == ("canaryNodePort", "30080")
    assert "node_port" in error.accepted


def test_a_node_port_of_another_strategy_is_refused_as_such_not_compared():
    error = refusal({**CONTEXT, "canaryNodePort": "30080"})

    assert (error.key, error.value) == ("canaryNodePort", "30080")
    assert "is a Canary setting; strategy is RollingUpdate" in str(error)


def test_the_idle_color_cannot_have_more_pods_than_the_live_one():
    error = refusal({**CONTEXT, "strategy": "BlueGreen", "replicas": "3", "idleReplicas": "4"})

    assert (error.key, error.value) == ("idleReplicas", "4")
    assert error.accepted == "an integer from 0 to replicas (3)"


def test_a_key_of_another_strategy_is_refused_with_how_to_remove_it():
    error = refusal({**CONTEXT, "strategy": "RollingUpdate", "canaryWeight": "50"})

    assert (error.key, error.value) == ("canaryWeight", "50")
    assert str(error) == (
        "invalid stack config demo-orq:canaryWeight: '50' is a Canary setting; strategy is "
        "RollingUpdate (remove it: pulumi config rm canaryWeight)"
    )


@pytest.mark.parametrize(
    ("strategy", "key", "value", "owners"),
    [
        ("Canary", "liveColor", "green", "BlueGreen"),
        ("Canary", "idleReplicas", "0", "BlueGreen"),
        ("BlueGreen", "canaryMessage", "v2", "Canary"),
        ("RollingUpdate", "gateSeconds", "5", "BlueGreen and Canary"),
        ("Recreate", "gateMaxP99Ms", "100", "BlueGreen and Canary"),
        ("Recreate", "maxSurge", "25%", "RollingUpdate, BlueGreen and Canary"),
    ],
)
def test_every_key_of_another_strategy_is_refused(strategy, key, value, owners):
    error = refusal({**CONTEXT, "strategy": strategy, key: value})

    assert str(error).endswith(
        f"'{value}' is a {owners} setting; strategy is {strategy} "
        f"(remove it: pulumi config rm {key})"
    )


@pytest.mark.parametrize("strategy", ["RollingUpdate", "Recreate", "BlueGreen", "Canary"])
def test_a_key_of_another_strategy_at_its_default_counts_as_not_set(strategy):
    # Pulumi hands every declared key to the program, at its default when it is not set.
    declared = {
        setting.key: setting.default_text for setting in KEYS.values() if not setting.required
    }

    app = load({**declared, **CONTEXT, "strategy": strategy}).app

    assert type(app.strategy).__name__ == strategy
    assert load({**CONTEXT, "strategy": strategy, "canaryWeight": "00"})


def test_a_bad_value_of_another_strategys_key_is_said_once_as_a_bad_value():
    error = refusal({**CONTEXT, "canaryWeight": "half"})

    assert str(error).endswith("(accepted: an integer percentage from 0 to 100)")


def test_with_a_bad_strategy_the_other_keys_are_only_checked_for_their_values():
    errors = refusals({**CONTEXT, "strategy": "Rainbow", "canaryWeight": "50", "liveColor": "x"})

    assert [(error.key, error.value) for error in errors] == [("strategy", "Rainbow"),
                                                             ("liveColor", "x")]  # fmt: skip
