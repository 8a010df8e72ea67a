"""The namespace's guards (NetworkPolicies, ResourceQuota and LimitRange) and the frontend render
as they must under Pulumi mocks; a quota that the stack's own rollout would outgrow is refused
in one line before anything is sent."""

from __future__ import annotations

from typing import Any

import pytest

from components import BlueGreen, Canary, HelloApp, HelloAppArgs, InvalidArgsError, Recreate
from components.quota import peak_pods
from components.shared_args import AutoscaleArgs, FrontendArgs, GatewayArgs, IsolationArgs
from demo_orq.config import StackConfigError, load
from tests.unit.manifests import dependencies

POLICIES = IsolationArgs(network_policy=True)
FRONTEND = FrontendArgs(enabled=True)


@pytest.fixture
def render_app(render):
    def _render(args: HelloAppArgs):
        return render(lambda: {"url": (app := HelloApp("hello", args)).url, **app.frontend_outputs})

    return _render


def policies_by_name(rendered: Any) -> dict[str, dict[str, Any]]:
    return {p["metadata"]["name"]: p["spec"] for p in rendered.objects("NetworkPolicy")}


def test_without_the_settings_the_namespace_has_no_guard_and_no_frontend(render_app):
    rendered = render_app(HelloAppArgs())

    for kind in ("NetworkPolicy", "ResourceQuota", "LimitRange"):
        assert rendered.objects(kind) == [], kind
    assert len(rendered.objects("Deployment")) == 1


def test_the_namespace_denies_all_but_dns_and_the_api_takes_requests_from_its_clients_alone(
    render_app,
):
    policies = policies_by_name(render_app(HelloAppArgs(isolation=POLICIES)))

    deny = policies["default-deny"]
    assert deny["podSelector"] == {} and deny["policyTypes"] == ["Ingress", "Egress"]
    assert "ingress" not in deny
    (dns,) = deny["egress"]
    assert {(p["protocol"], p["port"]) for p in dns["ports"]} == {
        ("UDP", "dns"),
        ("TCP", "dns-tcp"),
    }
    api = policies["hello-api"]
    assert api["podSelector"] == {"matchLabels": {"app": "hello-api"}}
    (rule,) = api["ingress"]
    assert rule["ports"] == [{"protocol": "TCP", "port": 8080}]
    assert rule["from"] == [
        {"podSelector": {"matchLabels": {"app": "hello-api-frontend"}}},
        {"podSelector": {"matchExpressions": [{"key": "demo-orq.io/job", "operator": "Exists"}]}},
    ]
    for client in ("hello-api-frontend", "hello-api-jobs"):
        (egress,) = policies[client]["egress"]
        assert egress["to"] == [{"podSelector": {"matchLabels": {"app": "hello-api"}}}], client


def test_with_a_gateway_its_controllers_namespace_may_reach_the_api(render_app):
    args = HelloAppArgs(isolation=POLICIES, gateway=GatewayArgs(enabled=True))
    (rule,) = policies_by_name(render_app(args))["hello-api"]["ingress"]

    assert {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "gateway-system"}}
    } in rule["from"]


def test_no_pod_starts_before_the_guards(render_app, mocks):
    render_app(HelloAppArgs(isolation=IsolationArgs(network_policy=True, quota=True)))

    waits_for = dependencies(mocks, "ServiceAccount", "hello")
    assert {
        "NetworkPolicy/hello-deny-policy",
        "ResourceQuota/hello-quota",
        "LimitRange/hello-limits",
    } <= waits_for


@pytest.mark.parametrize(
    ("args", "peak"),
    [
        (HelloAppArgs(), 3 + 1),  # RollingUpdate: replicas and a surge of 1
        (HelloAppArgs(strategy=Recreate()), 3),
        (HelloAppArgs(strategy=BlueGreen()), 3 + 3 + 1 + 1),  # both colors, each with its surge
        (HelloAppArgs(replicas=4, strategy=Canary(weight=50)), 4 + 2 + 1 + 1),
        (HelloAppArgs(smoke_test=True, strategy=BlueGreen(), frontend=FRONTEND), 8 + 2 + 3),
        (HelloAppArgs(autoscale=AutoscaleArgs(enabled=True, max_replicas=6)), 6 + 1),
    ],
)
def test_the_peak_counts_every_pod_a_rollout_runs_at_once(args, peak):
    assert peak_pods(args) == peak


def test_the_default_quota_is_twice_the_peak_and_the_limit_range_the_apps_resources(render_app):
    args = HelloAppArgs(strategy=BlueGreen(), isolation=IsolationArgs(quota=True))
    rendered = render_app(args)

    (quota,) = rendered.objects("ResourceQuota")
    assert quota["spec"]["hard"] == {
        "pods": "16",
        "limits.cpu": "3200m",
        "limits.memory": "2048Mi",
        "requests.cpu": "3200m",
        "requests.memory": "2048Mi",
    }
    (limits,) = rendered.objects("LimitRange")
    (container,) = limits["spec"]["limits"]
    app = rendered.objects("Deployment")[0]["spec"]["template"]["spec"]["containers"][0]
    assert container["default"] == container["max"] == app["resources"]["limits"]
    assert container["defaultRequest"] == app["resources"]["requests"]


def test_a_quota_too_small_for_blue_green_is_refused_in_one_line_naming_what_needs_it():
    with pytest.raises(InvalidArgsError) as raised:
        HelloAppArgs(strategy=BlueGreen(), isolation=IsolationArgs(quota=True, quota_pods=6))

    (line,) = str(raised.value).splitlines()
    assert line.startswith("HelloAppArgs.isolation.quota_pods: 6 is not accepted")
    assert "at least 8" in line and "8 BlueGreen pods with their surge" in line
    assert HelloAppArgs(strategy=BlueGreen(), isolation=IsolationArgs(quota=True, quota_pods=8))


def test_a_stack_with_a_too_small_quota_fails_on_the_config_key():
    values = {"context": "demo-orq", "strategy": "BlueGreen", "quota": "true", "quotaPods": "4"}
    with pytest.raises(StackConfigError) as raised:
        load(values)

    (line,) = str(raised.value).splitlines()
    assert "quotaPods" in line and "at least 8" in line


def test_the_frontend_asks_the_api_by_its_service_name_and_has_its_own_service(render_app):
    rendered = render_app(HelloAppArgs(frontend=FRONTEND))

    deployment = rendered.object("Deployment", "hello-frontend")
    assert deployment["metadata"]["name"] == "hello-api-frontend"
    assert deployment["spec"]["replicas"] == 2
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "localhost/demo-orq/frontend:1.0"
    assert container["args"] == ["-api=http://hello-svc.demo.svc:80/", "-listen=:8080"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/health"
    service = rendered.object("Service", "hello-frontend")
    assert service["metadata"]["name"] == "hello-svc-frontend"
    assert service["spec"]["selector"] == {"app": "hello-api-frontend"}
    assert service["spec"]["ports"][0]["nodePort"] == 30083
    assert rendered.result["frontend_url"] == "http://127.0.0.1:30083/"


def test_the_frontend_cannot_share_the_apps_node_port():
    with pytest.raises(InvalidArgsError) as raised:
        HelloAppArgs(frontend=FrontendArgs(enabled=True, node_port=30080))

    assert raised.value.field == "frontend.node_port"
