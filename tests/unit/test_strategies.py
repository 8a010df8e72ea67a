"""BlueGreen and Canary render the right objects, selectors, replica splits and ordering (under
Pulumi mocks); the gate decides when to probe (plain Python)."""

from __future__ import annotations

from typing import Any

import pytest

from components import BlueGreen, Canary, ClusterAccess, GateArgs, HelloApp, HelloAppArgs
from components.gate import decide
from tests.unit.manifests import changed_paths, dependencies

GATE_TYPE = "pulumi-python:dynamic/demo-orq:AnalysisGate"
SERVICE_TYPE = "kubernetes:core/v1:Service"
DEPLOYMENT_TYPE = "kubernetes:apps/v1:Deployment"
V2 = "Hola desde K8s v2 🚀"


def blue_green(**fields: Any) -> HelloAppArgs:
    return HelloAppArgs(strategy=BlueGreen(**fields))


def canary(replicas: int = 4, **fields: Any) -> HelloAppArgs:
    return HelloAppArgs(strategy=Canary(**fields), replicas=replicas)


@pytest.fixture
def render_app(render):
    """Renders one HelloApp `hello`; the result is its strategy's outputs."""

    def _render(args: HelloAppArgs):
        return render(lambda: {"url": (app := HelloApp("hello", args)).url, **app.strategy_outputs})

    return _render


def labels(deployment: dict[str, Any]) -> dict[str, str]:
    return deployment["spec"]["template"]["metadata"]["labels"]


def args_of(deployment: dict[str, Any]) -> list[str]:
    return deployment["spec"]["template"]["spec"]["containers"][0]["args"]


def test_blue_green_has_two_fixed_color_slots_each_with_its_version(render_app):
    rendered = render_app(blue_green(green_message=V2, green_image="hashicorp/http-echo:1.0.0"))

    blue = rendered.object("Deployment", "hello-blue")
    green = rendered.object("Deployment", "hello-green")
    assert blue["metadata"]["name"] == "hello-api-blue"
    assert green["metadata"]["name"] == "hello-api-green"
    for color, deployment in (("blue", blue), ("green", green)):
        assert deployment["spec"]["selector"]["matchLabels"] == {"app": "hello-api", "color": color}
        assert labels(deployment) == {"app": "hello-api", "color": color}
        assert deployment["spec"]["replicas"] == 3
    assert args_of(blue)[0] == "-text=Hola desde Kubernetes 👋"
    assert args_of(green)[0] == f"-text={V2}"
    assert (
        green["spec"]["template"]["spec"]["containers"][0]["image"] == "hashicorp/http-echo:1.0.0"
    )
    assert [
        r for r in rendered.kubernetes_objects() if r.name == "hello" and r.typ == DEPLOYMENT_TYPE
    ] == []


def test_the_service_selects_the_live_color_and_the_preview_the_idle_one(render_app):
    rendered = render_app(blue_green(live_color="green", preview_node_port=30091))

    live = rendered.object("Service", "hello")
    preview = rendered.object("Service", "hello-preview")
    assert live["spec"]["selector"] == {"app": "hello-api", "color": "green"}
    assert preview["spec"]["selector"] == {"app": "hello-api", "color": "blue"}
    assert preview["metadata"]["name"] == "hello-svc-preview"
    assert preview["spec"]["ports"][0]["nodePort"] == 30091
    assert rendered.result["live_color"] == "green"
    assert rendered.result["preview_url"] == "http://127.0.0.1:30091/"


def test_the_idle_color_can_be_scaled_down_to_free_the_double_capacity(render_app):
    rendered = render_app(blue_green(live_color="blue", idle_replicas=0))

    assert rendered.object("Deployment", "hello-blue")["spec"]["replicas"] == 3
    assert rendered.object("Deployment", "hello-green")["spec"]["replicas"] == 0


def test_a_color_switch_changes_the_services_selectors_and_the_gate_only(render_app):
    before = render_app(blue_green(live_color="blue", green_message=V2)).inputs()
    after = render_app(blue_green(live_color="green", green_message=V2)).inputs()

    changes = {key: changed_paths(before[key], after[key]) for key in before}
    assert {key: paths for key, paths in changes.items() if paths} == {
        (SERVICE_TYPE, "hello"): {".spec.selector.color"},
        (SERVICE_TYPE, "hello-preview"): {".spec.selector.color"},
        (GATE_TYPE, "hello-gate"): {".live_color"},
    }


def test_the_services_wait_for_the_gate_which_waits_for_both_colors(render_app, mocks):
    render_app(blue_green())

    gate_urn = [
        urn for urn in mocks.requests[SERVICE_TYPE, "hello"].dependencies if GATE_TYPE in urn
    ]
    assert gate_urn, "the live Service does not wait for the gate"
    assert any(
        GATE_TYPE in urn for urn in mocks.requests[SERVICE_TYPE, "hello-preview"].dependencies
    )
    gate_dependencies = mocks.requests[GATE_TYPE, "hello-gate"].dependencies
    for color in ("blue", "green"):
        assert any(urn.endswith(f"{DEPLOYMENT_TYPE}::hello-{color}") for urn in gate_dependencies)


def test_the_gate_probes_the_preview_service_through_the_api_server_with_its_thresholds(
    render_app,
):
    args = HelloAppArgs(
        strategy=BlueGreen(
            preview_node_port=30091,
            green_message=V2,
            gate=GateArgs(seconds=7, min_success_percent=99.5, max_p99_ms=300),
        ),
        cluster_access=ClusterAccess(kubeconfig="/k/config", context="ctx"),
    )
    gate = render_app(args).inputs()[GATE_TYPE, "hello-gate"]

    assert gate["kind"] == "blue-green"
    assert (gate["namespace"], gate["service"]) == ("demo", "hello-svc-preview")
    assert (gate["kubeconfig"], gate["context"]) == ("/k/config", "ctx")
    assert gate["versions"] == {
        "blue": "Hola desde Kubernetes 👋 hashicorp/http-echo:0.2.3",
        "green": f"{V2} hashicorp/http-echo:0.2.3",
    }
    assert (gate["seconds"], gate["min_success_percent"], gate["max_p99_ms"]) == (7, 99.5, 300)


def test_a_gate_of_zero_seconds_is_no_gate(render_app):
    rendered = render_app(blue_green(gate=GateArgs(seconds=0)))

    assert (GATE_TYPE, "hello-gate") not in rendered.inputs()
    assert "gate_result" not in rendered.result


@pytest.mark.parametrize(
    ("replicas", "weight", "stable", "canary_pods", "effective"),
    [(4, 50, 2, 2, 50.0), (4, 0, 4, 0, 0.0), (3, 10, 2, 1, 33.3), (4, 100, 0, 4, 100.0),
     (5, 25, 3, 2, 40.0)],
)  # fmt: skip
def test_canary_splits_the_pods_by_weight_rounding_the_canary_up(
    render_app, replicas, weight, stable, canary_pods, effective
):
    rendered = render_app(canary(replicas=replicas, weight=weight))

    assert rendered.object("Deployment", "hello")["spec"]["replicas"] == stable
    assert rendered.object("Deployment", "hello-canary")["spec"]["replicas"] == canary_pods
    assert rendered.result["canary_effective_weight"] == effective


def test_the_stable_deployment_is_rolling_updates_own(render_app):
    stable = render_app(canary(weight=0, replicas=3)).object("Deployment", "hello")
    rolling = render_app(HelloAppArgs()).object("Deployment", "hello")

    assert changed_paths(rolling, stable) == set()


def test_the_service_selects_both_tracks_and_the_canary_service_the_canary_alone(render_app):
    rendered = render_app(canary(weight=50, message=V2, node_port=30092))

    canary_deployment = rendered.object("Deployment", "hello-canary")
    assert canary_deployment["metadata"]["name"] == "hello-api-canary"
    assert labels(canary_deployment) == {"app": "hello-api", "track": "canary"}
    assert args_of(canary_deployment)[0] == f"-text={V2}"
    assert args_of(rendered.object("Deployment", "hello"))[0] == "-text=Hola desde Kubernetes 👋"
    assert rendered.object("Service", "hello")["spec"]["selector"] == {"app": "hello-api"}
    canary_service = rendered.object("Service", "hello-canary")
    assert canary_service["spec"]["selector"] == {"app": "hello-api", "track": "canary"}
    assert canary_service["spec"]["ports"][0]["nodePort"] == 30092
    assert rendered.result["canary_url"] == "http://127.0.0.1:30092/"


def test_the_canary_gate_probes_the_canary_service(render_app):
    gate = render_app(canary(weight=25, message=V2, node_port=30092)).inputs()[
        GATE_TYPE, "hello-gate"
    ]

    assert (gate["kind"], gate["service"], gate["weight"]) == ("canary", "hello-svc-canary", 25)
    assert (gate["kubeconfig"], gate["context"]) == ("", "")  # the kubeconfig's own defaults
    assert gate["candidate"] == f"{V2} hashicorp/http-echo:0.2.3"


BLUE_V1 = {"blue": "v1", "green": "v1"}
GREEN_V2 = {"blue": "v1", "green": "v2"}


def gate_inputs(**fields: Any) -> dict[str, Any]:
    return {"kind": "blue-green", "seconds": 10, "live_color": "blue", "versions": BLUE_V1,
            "idle_replicas": 3, **fields}  # fmt: skip


@pytest.mark.parametrize(
    ("olds", "news", "probed"),
    [
        (None, gate_inputs(), None),  # first deploy
        (gate_inputs(), gate_inputs(versions=GREEN_V2), "the idle color green (v2)"),
        (gate_inputs(versions={"blue": "v1", "green": "v2"}),
         gate_inputs(live_color="green", versions={"blue": "v1", "green": "v2"}),
         "the candidate green (v2)"),
        (gate_inputs(live_color="green", versions={"blue": "v1", "green": "v2"},
                     known_good=["v1", "v2"]),
         gate_inputs(live_color="blue", versions={"blue": "v1", "green": "v2"}),
         None),  # a switch back to a version that was live: the rollback stays instant
        (gate_inputs(), gate_inputs(idle_replicas=0, versions={"blue": "v1", "green": "v2"}), None),
        (gate_inputs(), gate_inputs(seconds=0, versions={"blue": "v1", "green": "v2"}), None),
        (None, {"kind": "canary", "seconds": 10, "weight": 0, "candidate": "v2"}, None),
        (None, {"kind": "canary", "seconds": 10, "weight": 25, "candidate": "v2"}, "the canary v2"),
    ],
)  # fmt: skip
def test_the_gate_probes_only_what_is_about_to_serve(olds, news, probed):
    what, why = decide(olds, news)

    assert what == probed
    assert bool(why) == (probed is None)


def test_an_abort_or_a_promotion_grows_the_stable_pods_before_the_canary_shrinks(render_app, mocks):
    render_app(canary(weight=0))

    assert "Deployment/hello" in dependencies(mocks, "Deployment", "hello-canary")


def test_a_step_shrinks_the_stable_pods_once_the_canary_pods_are_ready_and_analysed(
    render_app, mocks
):
    """Without a gateway a step takes the canary's pods from the stable Deployment: shrinking it
    first would leave the app short of Ready pods while the canary's start (a CI run lost 30
    requests at 100%)."""
    render_app(canary(weight=100))

    stable_waits_for = dependencies(mocks, "Deployment", "hello")
    assert {"Deployment/hello-canary", "AnalysisGate/hello-gate"} <= stable_waits_for
    assert "Deployment/hello" not in dependencies(mocks, "Deployment", "hello-canary")
    assert "Deployment/hello" not in dependencies(mocks, "AnalysisGate", "hello-gate")
