"""The stack config is read, typed and checked before anything is deployed (plain Python)."""

import os
from functools import reduce

import pytest

from components import AutoscaleArgs, ClusterAccess, HelloAppArgs, Recreate, RollingUpdate, SloArgs
from demo_orq.config import DemoConfig, StackConfigError, load
from demo_orq.settings import KEYS
from tests.unit.stack_configs import CONTEXT, refusal, refusals


def value_at(args: object, path: str) -> object:
    return reduce(getattr, path.split("."), args)


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
        strategy=RollingUpdate(max_surge="25%", max_unavailable=0),
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

    assert value_at(app, KEYS[key].field) == expected


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
    error = refusal({**CONTEXT, key: value})

    assert (error.key, error.value) == (key, value)
    assert str(error) == (
        f"invalid stack config demo-orq:{key}: {value!r} (accepted: {KEYS[key].accepted})"
    )


def test_the_error_is_one_readable_line():
    error = refusal({**CONTEXT, "replicas": "-1"})

    assert str(error) == (
        "invalid stack config demo-orq:replicas: '-1' (accepted: an integer from 0 to 50)"
    )


def test_a_missing_context_is_refused_so_the_current_context_is_never_used():
    error = refusal({"kubeconfig": "~/.kube/config"})

    assert error.key == "context"
    assert str(error).startswith("invalid stack config demo-orq:context: not set (accepted:")
    assert "never deploys to whatever context is current" in str(error)


def test_an_unknown_key_is_refused_with_the_list_of_keys():
    error = refusal({**CONTEXT, "replica": "5"})

    assert (error.key, error.value) == ("replica", "5")
    assert error.accepted == "only the keys " + ", ".join(KEYS)
    assert "maxUnavailable" in error.accepted


@pytest.mark.parametrize(("max_surge", "max_unavailable"), [("0", "0"), ("0%", "0"), ("0", "0%")])
def test_max_surge_and_max_unavailable_cannot_both_be_zero(max_surge, max_unavailable):
    error = refusal({**CONTEXT, "maxSurge": max_surge, "maxUnavailable": max_unavailable})

    assert (error.key, error.value) == ("maxUnavailable", max_unavailable)
    assert "the surge is 0" in error.accepted


def test_one_of_max_surge_and_max_unavailable_may_be_zero():
    app = load({**CONTEXT, "maxSurge": "0", "maxUnavailable": "25%"}).app

    assert app.strategy == RollingUpdate(max_surge=0, max_unavailable="25%")


@pytest.mark.parametrize("key", ["maxSurge", "maxUnavailable"])
def test_rolling_update_parameters_are_refused_with_recreate(key):
    error = refusal({**CONTEXT, "strategy": "Recreate", key: "2"})

    assert (error.key, error.value) == (key, "2")
    assert str(error) == (
        f"invalid stack config demo-orq:{key}: '2' is a RollingUpdate, BlueGreen and Canary "
        f"setting; strategy is Recreate (remove it: pulumi config rm {key})"
    )


def test_recreate_alone_is_accepted_also_with_the_declared_rolling_defaults():
    # Pulumi passes every default of Pulumi.yaml to the program, maxSurge 1 included.
    values = {**CONTEXT, "strategy": "Recreate", "maxSurge": "1", "maxUnavailable": "1"}

    assert load(values).app.strategy == Recreate()


def test_an_empty_kubeconfig_lets_the_provider_choose_it():
    assert load({**CONTEXT, "kubeconfig": ""}).kubeconfig is None


def test_the_service_level_objectives_are_read_and_checked():
    config = load({**CONTEXT, "sloAvailabilityPercent": "99.5", "sloP99Ms": "250"})

    assert (config.app.slo.availability_percent, config.app.slo.p99_ms) == (99.5, 250)
    assert load(CONTEXT).app.slo == SloArgs(availability_percent=99.9, p99_ms=500)
    for key, value in (("sloAvailabilityPercent", "101"), ("sloP99Ms", "0"), ("sloP99Ms", "x")):
        with pytest.raises(StackConfigError, match=key):
            load({**CONTEXT, key: value})


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
    error = refusal({**CONTEXT, **values})

    assert error.key == key
    assert accepted in error.accepted


def test_every_bad_value_is_reported_at_once_one_line_each():
    errors = refusals(
        {
            "replica": "5",
            "replicas": "-1",
            "nodePort": "80",
            "canaryWeight": "50",
            "image": "Bad Image",
        }
    )

    assert [error.key for error in errors] == [
        "replica",
        "context",
        "replicas",
        "image",
        "nodePort",
        "canaryWeight",
    ]
    with pytest.raises(StackConfigError) as raised:
        load({**CONTEXT, "replicas": "-1", "nodePort": "80", "canaryWeight": "50"})
    assert str(raised.value).splitlines() == [
        "invalid stack config demo-orq:replicas: '-1' (accepted: an integer from 0 to 50)",
        "invalid stack config demo-orq:nodePort: '80' (accepted: an integer from 30000 to 32767)",
        "invalid stack config demo-orq:canaryWeight: '50' is a Canary setting; strategy is "
        "RollingUpdate (remove it: pulumi config rm canaryWeight)",
    ]


def test_values_that_cannot_go_together_are_reported_at_once():
    errors = refusals(
        {
            **CONTEXT,
            "strategy": "BlueGreen",
            "replicas": "1",
            "idleReplicas": "2",
            "autoscale": "true",
            "minReplicas": "2",
            "previewNodePort": "30080",
        }
    )

    assert [(error.key, error.value) for error in errors] == [
        ("idleReplicas", "2"),
        ("replicas", "1"),
        ("idleReplicas", "2"),
        ("previewNodePort", "30080"),
    ]
