"""The analysis gate with `source: prometheus`: the PromQL it asks, how it judges the answers
(too little traffic, errors, p99), where it may be used, and that the route gives the canary its
weight before the gate judges it (under Pulumi mocks)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from components import (
    BlueGreen,
    Canary,
    GateArgs,
    GatewayArgs,
    HelloApp,
    HelloAppArgs,
    InvalidArgsError,
    prometheus,
)
from components import gate as gate_module
from components.metrics import TrafficQueries, traefik_service
from components.prometheus import Traffic, single_value
from tests.unit.manifests import dependencies

GATE = {"namespace": "demo", "service": "hello-svc-canary", "seconds": 30, "weight": 25,
        "min_requests": 50, "min_success_percent": 99.0, "max_p99_ms": 500,
        "kubeconfig": "", "context": "", "source": "prometheus"}  # fmt: skip


def test_the_backend_is_named_as_traefiks_gateway_provider_names_it():
    assert traefik_service("demo", "hello-svc-canary", 80) == (
        "demo-hello-svc-canary-http-80@kubernetesgateway"
    )


def test_the_queries_count_requests_and_5xx_and_take_p99_over_the_window():
    queries = TrafficQueries("demo-hello-svc-canary-http-80@kubernetesgateway", 30)
    selector = 'service="demo-hello-svc-canary-http-80@kubernetesgateway"'

    assert queries.requests == f"sum(increase(traefik_service_requests_total{{{selector}}}[30s]))"
    assert queries.errors == (
        f'sum(increase(traefik_service_requests_total{{{selector},code=~"5.."}}[30s]))'
    )
    assert queries.p99_seconds == (
        "histogram_quantile(0.99, sum by (le) "
        f"(rate(traefik_service_request_duration_seconds_bucket{{{selector}}}[30s])))"
    )


def vector(*values: str) -> dict[str, Any]:
    samples = [{"metric": {}, "value": [1, value]} for value in values]
    return {"status": "success", "data": {"resultType": "vector", "result": samples}}


def test_an_answer_is_one_number_nan_when_empty_and_refused_when_several():
    one, two = vector("12.5"), vector("1", "2")

    assert math.isnan(single_value(vector(), "q"))
    assert single_value(one, "q") == 12.5
    with pytest.raises(prometheus.KubeAccessError, match="2 series"):
        single_value(two, "q")
    with pytest.raises(prometheus.KubeAccessError, match="refused"):
        single_value({"status": "error", "error": "parse error"}, "q")


class FakeApiServer:
    server = "https://api.example"

    def __init__(self, kubeconfig: str | None, context: str | None) -> None:
        pass


@pytest.fixture
def counted(monkeypatch):
    """The gate judges `Traffic` that the test sets, without a cluster or a wait."""
    seen: dict[str, Any] = {}

    def traffic(self, queries):
        seen["queries"] = queries
        return seen["traffic"]

    monkeypatch.setattr(prometheus.Prometheus, "query", lambda self, promql, at=None: 1.0)
    monkeypatch.setattr(prometheus.Prometheus, "traffic", traffic)
    monkeypatch.setattr(
        gate_module.time, "sleep", lambda seconds: seen.setdefault("slept", seconds)
    )
    monkeypatch.setattr("components.kubeapi.ApiServer", FakeApiServer)
    return seen


def test_a_good_canary_passes_with_its_real_requests_and_the_promql(counted):
    counted["traffic"] = Traffic(requests=375, errors=0, p99_ms=4.9)

    verdict = gate_module.judge_real_traffic(GATE, "the canary v2")

    assert (verdict.result, verdict.requests, verdict.success_percent) == ("passed", 375, 100.0)
    assert counted["queries"] == TrafficQueries(
        "demo-hello-svc-canary-http-80@kubernetesgateway", 30
    )
    assert counted["slept"] > 30  # the window, then its last scrape
    said = verdict.outputs()["result"]
    assert said.startswith("passed: 375 real requests, 100.0% succeeded, p99 4.9 ms, over 30 s")
    assert "traefik_service_requests_total" in said


@pytest.mark.parametrize(
    ("traffic", "said"),
    [
        (Traffic(requests=375, errors=19, p99_ms=5.0), "94.9% succeeded (min 99%)"),
        (Traffic(requests=12, errors=0, p99_ms=5.0), "12 requests reached it (min 50)"),
        (Traffic(requests=0, errors=0, p99_ms=math.nan), "0 requests reached it (min 50)"),
        (Traffic(requests=375, errors=0, p99_ms=740.0), "p99 740 ms (max 500 ms)"),
    ],
)
def test_errors_too_little_traffic_or_a_slow_p99_fail_the_gate(counted, traffic, said):
    counted["traffic"] = traffic

    with pytest.raises(gate_module.GateFailedError) as failed:
        gate_module.judge_real_traffic(GATE, "the canary v2")

    assert said in str(failed.value)
    assert "the route still sends it 25%" in str(failed.value)


@pytest.mark.parametrize(
    "args",
    [
        lambda: HelloAppArgs(strategy=Canary(gate=GateArgs(source="prometheus"))),
        lambda: HelloAppArgs(
            strategy=BlueGreen(gate=GateArgs(source="prometheus")),
            gateway=GatewayArgs(enabled=True),
        ),
    ],
)
def test_prometheus_needs_a_canary_behind_the_gateway(args):
    with pytest.raises(InvalidArgsError) as refused:
        args()

    assert refused.value.field == "strategy.gate.source"
    assert "with the Canary strategy and the gateway on" in str(refused.value)


def test_the_route_gives_the_canary_its_weight_before_the_gate_judges_it(render, mocks):
    args = HelloAppArgs(
        strategy=Canary(weight=25, gate=GateArgs(source="prometheus")),
        gateway=GatewayArgs(enabled=True),
    )
    render(lambda: {"url": HelloApp("hello", args).url})

    assert "HTTPRoute/hello-route" in dependencies(mocks, "AnalysisGate", "hello-gate")
    assert "AnalysisGate/hello-gate" not in dependencies(mocks, "HTTPRoute", "hello-route")
