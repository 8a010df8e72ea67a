"""The stack config is read, typed and checked before anything is deployed (plain Python)."""

import os

import pytest

from components import HelloAppArgs
from components.args import AutoscaleArgs, BlueGreenArgs, CanaryArgs, ClusterAccess, GateArgs
from demo_orq.config import KEYS, ConfigError, DemoConfig, Slo, load

CONTEXT = {"context": "kind-demo-orq"}


def test_only_a_context_is_needed_and_everything_else_defaults_to_the_demo():
    assert load(CONTEXT) == DemoConfig(
        context="kind-demo-orq",
        kubeconfig=None,
        app=HelloAppArgs(cluster_access=ClusterAccess(context="kind-demo-orq")),
    )


def test_every_key_is_read_into_its_typed_field():
    config = load(
        {
            **CONTEXT,
            "kubeconfig": "~/.kube/demo-orq.kubeconfig",
            "message": "Hola desde K8s v2 🚀",
            "replicas": "5",
            "strategy": "RollingUpdate",
            "maxSurge": "25%",
            "maxUnavailable": "0",
            "image": "registry.example.com:5000/team/http-echo:1.0@sha256:" + "a" * 64,
            "namespace": "demo-2",
            "deploymentName": "hello-api-2",
            "serviceName": "hello-svc-2",
            "nodePort": "30081",
            "urlHost": "localhost",
            "rolloutTimeout": "300",
        }
    )

    assert config.kubeconfig == os.path.expanduser("~/.kube/demo-orq.kubeconfig")
    assert not config.kubeconfig.startswith("~")
    assert config.app == HelloAppArgs(
        message="Hola desde K8s v2 🚀",
        replicas=5,
        strategy="RollingUpdate",
        max_surge="25%",
        max_unavailable=0,
        image="registry.example.com:5000/team/http-echo:1.0@sha256:" + "a" * 64,
        namespace="demo-2",
        deployment_name="hello-api-2",
        service_name="hello-svc-2",
        node_port=30081,
        url_host="localhost",
        rollout_timeout_seconds=300,
        cluster_access=ClusterAccess(config.kubeconfig, "kind-demo-orq"),
    )


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("replicas", "0", 0),
        ("replicas", "50", 50),
        ("nodePort", "30000", 30000),
        ("nodePort", "32767", 32767),
        ("maxSurge", "100%", "100%"),
        ("maxSurge", "007%", "7%"),
        ("maxUnavailable", "0%", "0%"),
        ("rolloutTimeout", "10", 10),
        ("rolloutTimeout", "3600", 3600),
        ("image", "nginx", "nginx"),
        ("image", "localhost:5000/app:v1", "localhost:5000/app:v1"),
        ("image", "registry.k8s.io/pause:3.9", "registry.k8s.io/pause:3.9"),
        ("image", "ghcr.io/org/sub_path/app__x", "ghcr.io/org/sub_path/app__x"),
        ("namespace", "a" * 63, "a" * 63),
        ("urlHost", "192.168.49.2", "192.168.49.2"),
    ],
)
def test_boundary_values_are_accepted(key, value, expected):
    app = load({**CONTEXT, key: value}).app

    assert getattr(app, KEYS[key].app_field) == expected


BAD_VALUES = [
    ("replicas", "three"),
    ("replicas", "2.5"),
    ("replicas", "-1"),
    ("replicas", "51"),
    ("replicas", ""),
    ("strategy", "Blue/Green"),
    ("strategy", "canary"),
    ("liveColor", "red"),
    ("liveColor", ""),
    ("previewNodePort", "80"),
    ("blueMessage", "   "),
    ("greenImage", "Bad Image"),
    ("idleReplicas", "-1"),
    ("canaryWeight", "101"),
    ("canaryWeight", "-5"),
    ("canaryWeight", "half"),
    ("canaryNodePort", "40000"),
    ("canaryImage", "UPPER/case"),
    ("gateSeconds", "601"),
    ("gateMinSuccessPercent", "120"),
    ("gateMinSuccessPercent", "most"),
    ("gateMaxP99Ms", "0"),
    ("strategy", "rollingupdate"),
    ("maxSurge", "-1"),
    ("maxSurge", "1.5"),
    ("maxSurge", "101%"),
    ("maxUnavailable", "150%"),
    ("maxUnavailable", "%"),
    ("nodePort", "29999"),
    ("nodePort", "32768"),
    ("nodePort", "http"),
    ("message", ""),
    ("message", "   "),
    ("image", ""),
    ("image", "Hashicorp/http-echo:0.2.3"),
    ("image", "hashicorp/http-echo:"),
    ("image", "hashicorp/http echo"),
    ("image", "http://hashicorp/http-echo"),
    ("image", "hashicorp/http-echo@sha256:short"),
    ("namespace", ""),
    ("namespace", "Demo"),
    ("namespace", "demo_ns"),
    ("namespace", "-demo"),
    ("namespace", "demo.ns"),
    ("namespace", "a" * 64),
    ("deploymentName", "Hello.API"),
    ("serviceName", "1-svc"),
    ("urlHost", ""),
    ("urlHost", "http://127.0.0.1"),
    ("rolloutTimeout", "9"),
    ("rolloutTimeout", "3601"),
    ("rolloutTimeout", "2m"),
    ("context", ""),
    ("context", "  "),
]


@pytest.mark.parametrize(("key", "value"), BAD_VALUES)
def test_a_bad_value_fails_naming_the_key_the_value_and_what_is_accepted(key, value):
    with pytest.raises(ConfigError) as raised:
        load({**CONTEXT, key: value})

    assert (raised.value.key, raised.value.value) == (key, value)
    assert str(raised.value) == (
        f"invalid stack config demo-orq:{key}: {value!r} (accepted: {KEYS[key].accepted})"
    )


def test_the_error_is_one_readable_line():
    with pytest.raises(ConfigError) as raised:
        load({**CONTEXT, "replicas": "-1"})

    assert str(raised.value) == (
        "invalid stack config demo-orq:replicas: '-1' (accepted: an integer from 0 to 50)"
    )


def test_a_missing_context_is_refused_so_the_current_context_is_never_used():
    with pytest.raises(ConfigError) as raised:
        load({"kubeconfig": "~/.kube/config"})

    assert raised.value.key == "context"
    assert str(raised.value).startswith("invalid stack config demo-orq:context: not set (accepted:")
    assert "never deploys to whatever context is current" in str(raised.value)


def test_an_unknown_key_is_refused_with_the_list_of_keys():
    with pytest.raises(ConfigError) as raised:
        load({**CONTEXT, "replica": "5"})

    assert (raised.value.key, raised.value.value) == ("replica", "5")
    assert raised.value.accepted == "only the keys " + ", ".join(KEYS)
    assert "maxUnavailable" in raised.value.accepted


@pytest.mark.parametrize(("max_surge", "max_unavailable"), [("0", "0"), ("0%", "0"), ("0", "0%")])
def test_max_surge_and_max_unavailable_cannot_both_be_zero(max_surge, max_unavailable):
    with pytest.raises(ConfigError) as raised:
        load({**CONTEXT, "maxSurge": max_surge, "maxUnavailable": max_unavailable})

    assert (raised.value.key, raised.value.value) == ("maxUnavailable", max_unavailable)
    assert "the surge is 0" in raised.value.accepted


def test_one_of_max_surge_and_max_unavailable_may_be_zero():
    app = load({**CONTEXT, "maxSurge": "0", "maxUnavailable": "25%"}).app

    assert (app.max_surge, app.max_unavailable) == (0, "25%")


@pytest.mark.parametrize("key", ["maxSurge", "maxUnavailable"])
def test_rolling_update_parameters_are_refused_with_recreate(key):
    with pytest.raises(ConfigError) as raised:
        load({**CONTEXT, "strategy": "Recreate", key: "2"})

    assert (raised.value.key, raised.value.value) == (key, "2")
    assert "RollingUpdate only" in raised.value.accepted


def test_recreate_alone_is_accepted_also_with_the_declared_rolling_defaults():
    # Pulumi passes every default of Pulumi.yaml to the program, maxSurge 1 included.
    values = {**CONTEXT, "strategy": "Recreate", "maxSurge": "1", "maxUnavailable": "1"}

    assert load(values).app.strategy == "Recreate"


def test_an_empty_kubeconfig_lets_the_provider_choose_it():
    assert load({**CONTEXT, "kubeconfig": ""}).kubeconfig is None


def test_the_service_level_objectives_are_read_and_checked():
    config = load({**CONTEXT, "sloAvailabilityPercent": "99.5", "sloP99Ms": "250"})

    assert (config.slo.availability_percent, config.slo.p99_ms) == (99.5, 250)
    assert load(CONTEXT).slo == Slo(availability_percent=99.9, p99_ms=500)
    for key, value in (("sloAvailabilityPercent", "101"), ("sloP99Ms", "0"), ("sloP99Ms", "x")):
        with pytest.raises(ConfigError, match=key):
            load({**CONTEXT, key: value})


def test_the_strategies_settings_are_read_into_their_groups():
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
            "canaryMessage": "c",
            "canaryWeight": "25",
            "canaryNodePort": "30092",
            "gateSeconds": "5",
            "gateMinSuccessPercent": "99.5",
            "gateMaxP99Ms": "250",
        }
    )

    assert config.app.strategy == "BlueGreen"
    assert config.app.blue_green == BlueGreenArgs(
        live_color="green",
        preview_node_port=30091,
        blue_message=None,
        green_message="v2",
        green_image="hashicorp/http-echo:1.0.0",
        idle_replicas=0,
    )
    assert config.app.canary == CanaryArgs(message="c", weight=25, node_port=30092)
    assert config.app.gate == GateArgs(seconds=5, min_success_percent=99.5, max_p99_ms=250)


def test_two_services_of_one_strategy_cannot_share_a_node_port():
    with pytest.raises(ConfigError) as raised:
        load({**CONTEXT, "strategy": "Canary", "canaryNodePort": "30080"})

    assert (raised.value.key, raised.value.value) == ("canaryNodePort", "30080")
    assert "node_port" in raised.value.accepted


def test_a_node_port_of_another_strategy_may_repeat_the_apps():
    assert load({**CONTEXT, "canaryNodePort": "30080"}).app.canary.node_port == 30080


def test_the_idle_color_cannot_have_more_pods_than_the_live_one():
    with pytest.raises(ConfigError) as raised:
        load({**CONTEXT, "replicas": "3", "idleReplicas": "4"})

    assert (raised.value.key, raised.value.value) == ("idleReplicas", "4")
    assert raised.value.accepted == "an integer from 0 to replicas (3)"


def test_autoscaling_and_the_disruption_budget_are_read_and_checked():
    app = load(
        {
            **CONTEXT,
            "autoscale": "true",
            "minReplicas": "2",
            "maxReplicas": "6",
            "cpuTargetPercent": "50",
            "scaleDownStabilizationSeconds": "15",
            "pdbMinAvailable": "50%",
        }
    ).app

    assert app.autoscale == AutoscaleArgs(True, 2, 6, 50, 15)
    assert app.pdb_min_available == "50%"
    assert load(CONTEXT).app.pdb_min_available is None


@pytest.mark.parametrize(
    ("values", "key", "accepted"),
    [
        ({"autoscale": "yes"}, "autoscale", "true or false"),
        ({"autoscale": "true", "replicas": "12"}, "replicas", "the autoscaler owns it"),
        ({"minReplicas": "5", "maxReplicas": "4"}, "minReplicas", "at most max_replicas (4)"),
        ({"minReplicas": "0"}, "minReplicas", "an integer from 1 to 50"),
        ({"cpuTargetPercent": "0"}, "cpuTargetPercent", "percentage from 1 to 100"),
        ({"pdbMinAvailable": "120%"}, "pdbMinAvailable", "percentage from 0% to 100%"),
        ({"autoscale": "true", "strategy": "BlueGreen", "idleReplicas": "1"}, "idleReplicas",
         "rests at min_replicas"),
    ],
)  # fmt: skip
def test_conflicting_autoscale_settings_are_refused_naming_the_key(values, key, accepted):
    with pytest.raises(ConfigError) as raised:
        load({**CONTEXT, **values})

    assert raised.value.key == key
    assert accepted in raised.value.accepted
