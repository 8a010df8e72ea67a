"""Autoscaling and the disruption budget render the right objects, and Pulumi lets the
autoscaler own the replica counts (under Pulumi mocks)."""

from __future__ import annotations

import pytest

from components import AutoscaleArgs, BlueGreen, Canary, HelloApp, HelloAppArgs

HPA_TYPE = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
DEPLOYMENT_TYPE = "kubernetes:apps/v1:Deployment"
ON = AutoscaleArgs(enabled=True, min_replicas=2, max_replicas=6, cpu_target_percent=50,
                   scale_down_stabilization_seconds=15)  # fmt: skip


@pytest.fixture
def render_app(render):
    return lambda args: render(lambda: HelloApp("hello", args).url)


def autoscalers(rendered) -> dict[str, dict]:
    return {r.name: r.inputs for r in rendered.resources if r.typ == HPA_TYPE}


def test_an_autoscaler_owns_the_replicas_of_the_rolling_deployment(render_app, mocks):
    rendered = render_app(HelloAppArgs(replicas=2, autoscale=ON))

    (hpa,) = autoscalers(rendered).values()
    assert hpa["metadata"] == {"name": "hello-api", "namespace": "demo"}
    assert hpa["spec"] == {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "hello-api"},
        "minReplicas": 2,
        "maxReplicas": 6,
        "metrics": [
            {
                "type": "Resource",
                "resource": {
                    "name": "cpu",
                    "target": {"type": "Utilization", "averageUtilization": 50},
                },
            }
        ],
        "behavior": {"scaleDown": {"stabilizationWindowSeconds": 15}},
    }
    assert rendered.object("Deployment", "hello")["spec"]["replicas"] == 2  # the first deploy's
    assert list(mocks.requests[DEPLOYMENT_TYPE, "hello"].ignoreChanges) == ["spec.replicas"]


def test_without_autoscale_pulumi_keeps_the_replicas(render_app, mocks):
    rendered = render_app(HelloAppArgs())

    assert autoscalers(rendered) == {}
    assert list(mocks.requests[DEPLOYMENT_TYPE, "hello"].ignoreChanges) == []


def test_canary_autoscales_the_stable_pods_and_keeps_the_canarys_share(render_app, mocks):
    args = HelloAppArgs(strategy=Canary(), replicas=4, autoscale=ON)
    rendered = render_app(args)

    assert set(autoscalers(rendered)) == {"hello"}
    assert list(mocks.requests[DEPLOYMENT_TYPE, "hello-canary"].ignoreChanges) == []


def test_blue_green_autoscales_each_color(render_app, mocks):
    rendered = render_app(HelloAppArgs(strategy=BlueGreen(), replicas=3, autoscale=ON))

    targets = {
        name: hpa["spec"]["scaleTargetRef"]["name"] for name, hpa in autoscalers(rendered).items()
    }
    assert targets == {"hello-blue": "hello-api-blue", "hello-green": "hello-api-green"}
    for color in ("blue", "green"):
        assert list(mocks.requests[DEPLOYMENT_TYPE, f"hello-{color}"].ignoreChanges) == [
            "spec.replicas"
        ]


@pytest.mark.parametrize("min_available", [2, "50%"])
def test_a_disruption_budget_covers_every_pod_of_the_app(render_app, min_available):
    rendered = render_app(HelloAppArgs(strategy=BlueGreen(), pdb_min_available=min_available))

    budget = rendered.object("PodDisruptionBudget", "hello")
    assert budget["metadata"] == {"name": "hello-api", "namespace": "demo"}
    assert budget["spec"] == {
        "minAvailable": min_available,
        "selector": {"matchLabels": {"app": "hello-api"}},
    }


def test_no_budget_by_default(render_app):
    rendered = render_app(HelloAppArgs())

    assert [
        r for r in rendered.kubernetes_objects() if r.inputs["kind"] == "PodDisruptionBudget"
    ] == []
