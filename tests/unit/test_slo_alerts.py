"""The app's burn-rate alert rules (a ConfigMap that the cluster's Prometheus loads) and its
VerticalPodAutoscalers, rendered under Pulumi mocks; the rules' PromQL as plain text. Whether the
alerts fire is Prometheus' own rule evaluation's to say: tests/cluster/test_slo_alerts.py."""

from __future__ import annotations

import json

import pytest

from components import (
    BlueGreen,
    Canary,
    GatewayArgs,
    HelloApp,
    HelloAppArgs,
    InvalidArgsError,
    RollingUpdate,
    SloArgs,
)
from components.metrics import burn_rate_rules

BACKENDS = ("hello-svc", "hello-svc-canary")


def test_the_rules_record_the_error_ratio_of_the_apps_backends_over_each_window():
    (group,) = json.loads(burn_rate_rules("demo", BACKENDS, 99.9))["groups"]
    records = {rule["record"]: rule for rule in group["rules"] if "record" in rule}

    assert set(records) == {f"app:request_errors:ratio_rate{w}" for w in ("5m", "30m", "1h", "6h")}
    five_minutes = records["app:request_errors:ratio_rate5m"]
    selector = (
        'service=~"demo-hello-svc-http-80@kubernetesgateway|'
        'demo-hello-svc-canary-http-80@kubernetesgateway"'
    )
    assert five_minutes["expr"] == (
        f'sum(rate(traefik_service_requests_total{{{selector},code=~"5.."}}[5m])) / '
        f"sum(rate(traefik_service_requests_total{{{selector}}}[5m]))"
    )
    assert five_minutes["labels"] == {"namespace": "demo"}


@pytest.mark.parametrize(
    ("availability", "page", "ticket"), [(99.9, "0.0144", "0.006"), (99.0, "0.144", "0.06")]
)
def test_the_alerts_burn_the_budget_of_the_objective_over_two_windows_each(
    availability, page, ticket
):
    (group,) = json.loads(burn_rate_rules("demo", BACKENDS, availability))["groups"]
    alerts = {rule["labels"]["severity"]: rule for rule in group["rules"] if "alert" in rule}

    assert alerts["page"]["expr"] == (
        f'app:request_errors:ratio_rate1h{{namespace="demo"}} > {page} and '
        f'app:request_errors:ratio_rate5m{{namespace="demo"}} > {page}'
    )
    assert alerts["ticket"]["expr"] == (
        f'app:request_errors:ratio_rate6h{{namespace="demo"}} > {ticket} and '
        f'app:request_errors:ratio_rate30m{{namespace="demo"}} > {ticket}'
    )


def render_app(render, args: HelloAppArgs):
    return render(lambda: {"url": HelloApp("hello", args).url})


def test_alerts_on_make_a_labelled_configmap_of_the_rules_for_every_routed_service(render):
    args = HelloAppArgs(
        strategy=Canary(weight=25), gateway=GatewayArgs(enabled=True), slo=SloArgs(alerts=True)
    )

    config_map = render_app(render, args).object("ConfigMap", "hello-alerts")

    assert config_map["metadata"]["name"] == "hello-svc-alerts"
    assert config_map["metadata"]["labels"] == {"demo-orq.io/prometheus-rules": "true"}
    rules = config_map["data"]["slo.yaml"]
    for service in ("hello-svc", "hello-svc-stable", "hello-svc-canary", "hello-svc-blue"):
        assert f"demo-{service}-http-80@kubernetesgateway" in rules


def test_alerts_are_off_by_default_and_need_the_gateway(render):
    assert render_app(render, HelloAppArgs()).objects("ConfigMap") == []
    with pytest.raises(InvalidArgsError) as refused:
        HelloAppArgs(slo=SloArgs(alerts=True))
    assert refused.value.field == "slo.alerts"


@pytest.mark.parametrize("availability", [0, 100, 100.5])
def test_an_objective_with_no_budget_or_nothing_but_budget_is_refused(availability):
    with pytest.raises(InvalidArgsError, match="above 0 and below 100"):
        SloArgs(availability_percent=availability)


@pytest.mark.parametrize(
    ("strategy", "serving"),
    [
        (RollingUpdate(), {"hello-api"}),
        (Canary(weight=50), {"hello-api"}),
        (BlueGreen(), {"hello-api-blue", "hello-api-green"}),
    ],
)
def test_vpa_recommends_for_each_serving_deployment_and_never_applies(render, strategy, serving):
    rendered = render_app(render, HelloAppArgs(strategy=strategy, vpa=True))

    vpas = rendered.objects("VerticalPodAutoscaler")
    assert {vpa["spec"]["targetRef"]["name"] for vpa in vpas} == serving
    assert {vpa["spec"]["updatePolicy"]["updateMode"] for vpa in vpas} == {"Off"}
    assert (
        render_app(render, HelloAppArgs(strategy=strategy)).objects("VerticalPodAutoscaler") == []
    )
