"""The cluster's Prometheus (cluster/prometheus.sh, docs/prometheus.md), read through the API
server's service proxy with the stack's own kubeconfig, like everything else the operator's side
reaches: the analysis gate's source of real traffic (components/metrics.py has its PromQL).
"""

from __future__ import annotations

import http.client
import json
import math
from dataclasses import dataclass
from typing import Any, NamedTuple
from urllib.parse import urlencode

from .kubeapi import ApiServer, KubeAccessError, api_message, service_path
from .metrics import TrafficQueries

NAMESPACE = "monitoring"
SERVICE = "prometheus"
PORT_NAME = "http"
SCRAPE_SECONDS = 5
"""The add-on's scrape interval: a window's last requests are in Prometheus this long after."""


class Sample(NamedTuple):
    labels: dict[str, str]
    value: float


class Series(NamedTuple):
    labels: dict[str, str]
    points: list[tuple[float, float]]


@dataclass(frozen=True)
class Traffic:
    """What Prometheus counted for a backend over a window."""

    requests: float
    errors: float
    p99_ms: float
    """NaN without requests."""

    @property
    def success_percent(self) -> float:
        return 100.0 * (1 - self.errors / self.requests) if self.requests else 0.0


class Prometheus:
    """Instant queries to the cluster's Prometheus through the API server."""

    def __init__(self, api: ApiServer) -> None:
        self.api = api

    @property
    def description(self) -> str:
        return f"Prometheus {NAMESPACE}/{SERVICE} through the API server {self.api.server}"

    def query(self, promql: str, at: float | None = None) -> float:
        """The value of a query whose answer is one number (NaN when it has none); a failure
        raises KubeAccessError with one line."""
        return single_value(self.answer("query", promql, time=at), promql)

    def vector(self, promql: str, at: float | None = None) -> list[Sample]:
        """Every series of an instant query: (labels, value)."""
        result = self.answer("query", promql, time=at)["data"]["result"]
        return [Sample(item["metric"], float(item["value"][1])) for item in result]

    def matrix(self, promql: str, start: float, end: float, step: float) -> list[Series]:
        """Every series of a range query: (labels, [(time, value)])."""
        result = self.answer("query_range", promql, start=start, end=end, step=step)["data"]
        return [
            Series(item["metric"], [(float(t), float(v)) for t, v in item["values"]])
            for item in result["result"]
        ]

    def answer(self, endpoint: str, promql: str, **times: float | None) -> dict[str, Any]:
        params = {"query": promql}
        params |= {name: f"{value:.3f}" for name, value in times.items() if value is not None}
        path = f"{service_path(NAMESPACE, SERVICE)}:{PORT_NAME}/proxy/api/v1/{endpoint}?"
        try:
            status, body = self.api.request(path + urlencode(params), timeout=30)
        except (OSError, http.client.HTTPException) as error:
            raise KubeAccessError(f"cannot reach {self.description}: {error}") from None
        if status in (404, 503):
            raise KubeAccessError(
                f"no {self.description} (HTTP {status}: {api_message(body)}): install it with "
                "cluster/prometheus.sh (docs/prometheus.md)"
            )
        answer: dict[str, Any] = json.loads(body) if status in (200, 400, 422) else {}
        if status != 200 or answer.get("status") != "success":
            said = answer.get("error") or api_message(body)
            raise KubeAccessError(f"{self.description} refused {promql!r} (HTTP {status}: {said})")
        return answer

    def traffic(self, queries: TrafficQueries, at: float | None = None) -> Traffic:
        requests = self.query(queries.requests, at)
        errors = self.query(queries.errors, at)
        p99 = self.query(queries.p99_seconds, at)
        return Traffic(
            requests=0.0 if math.isnan(requests) else requests,
            errors=0.0 if math.isnan(errors) else errors,
            p99_ms=p99 * 1000,
        )


def single_value(answer: dict[str, object], promql: str) -> float:
    """The one sample of an instant vector or a scalar; NaN for an empty vector."""
    data = answer.get("data")
    if answer.get("status") != "success" or not isinstance(data, dict):
        raise KubeAccessError(f"Prometheus refused {promql!r}: {answer.get('error', answer)}")
    result = data.get("result")
    if data.get("resultType") == "scalar" and isinstance(result, list):
        return float(result[1])
    if not isinstance(result, list) or not result:
        return math.nan
    if len(result) > 1:
        raise KubeAccessError(f"{promql!r} gave {len(result)} series, not one")
    return float(result[0]["value"][1])
