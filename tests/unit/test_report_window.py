"""The report over a past window: its arguments, and its figures from what Prometheus answers
(a fake that answers the report's own queries, no cluster)."""

from __future__ import annotations

import math

import pytest

from components import SloArgs
from components.prometheus import Sample, Series
from demo_orq import report
from demo_orq.report_window import (
    Window,
    duration_seconds,
    kubernetes_service,
    pods_over_window,
    real_traffic,
    traffic_timeline,
)

BLUE = "demo-hello-svc-blue-http-80@kubernetesgateway"
GREEN = "demo-hello-svc-green-http-80@kubernetesgateway"
WINDOW = Window(1000.0, 1600.0, "the last 10m")


@pytest.mark.parametrize(("raw", "seconds"), [("90s", 90), ("10m", 600), ("1h30m", 5400)])
def test_a_duration_is_hours_minutes_and_seconds(raw, seconds):
    assert duration_seconds(raw) == seconds


@pytest.mark.parametrize("raw", ["", "10", "10d", "-5m", "0s", "200h"])
def test_a_bad_duration_is_refused_in_one_line_naming_the_argument(raw, capsys):
    with pytest.raises(SystemExit):
        report.parse_arguments([f"--since={raw}"])

    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert "--since" in error and "accepted: a duration such as 90s, 10m or 1h30m" in error


def test_from_needs_to_and_a_window_takes_no_command(capsys):
    with pytest.raises(SystemExit):
        report.parse_arguments(["--from", "2026-12-02T14:00"])
    with pytest.raises(SystemExit):
        report.parse_arguments(["--since", "10m", "--", "pulumi", "up"])

    assert "takes no command" in capsys.readouterr().err


def test_the_backend_is_the_kubernetes_service_that_traefik_named():
    assert kubernetes_service(BLUE, "demo") == "hello-svc-blue"


class FakePrometheus:
    """Answers the report's queries from counters at the window's start and end."""

    def __init__(self, before: dict, after: dict, p99: dict) -> None:
        self.counters = {WINDOW.start: before, WINDOW.end: after}
        self.p99 = p99
        self.asked: list[str] = []

    def vector(self, promql: str, at: float | None = None) -> list[Sample]:
        self.asked.append(promql)
        if promql.startswith("sum by (service, code)"):
            return [
                Sample({"service": service, "code": code}, value)
                for (service, code), value in self.counters[at].items()
            ]
        if promql.startswith("histogram_quantile(0.99"):
            return [Sample({"service": s}, v) for s, v in self.p99.items()]
        if promql.startswith("histogram_quantile"):
            return []
        if "container_memory_working_set_bytes" in promql:
            return [Sample({"pod": "hello-api-blue-1"}, 12 * 2**20)]
        if "container_cpu_usage_seconds_total" in promql:
            return [Sample({"pod": "hello-api-blue-1"}, 0.0042)]
        return []

    def matrix(self, promql: str, start: float, end: float, step: float) -> list[Series]:
        if "histogram_quantile" in promql:
            return [Series({}, [(start + step, 0.004), (start + 2 * step, math.nan)])]
        return [Series({}, [(start, 50.0), (start + step, 49.6)])]


def test_requests_and_errors_are_the_counters_growth_over_the_window_per_backend():
    prometheus = FakePrometheus(
        before={(BLUE, "200"): 10_000.0},
        after={(BLUE, "200"): 25_000.0, (GREEN, "200"): 14_250.0, (GREEN, "500"): 750.0},
        p99={BLUE: 0.0049, GREEN: 0.0061},
    )

    blue, green = real_traffic(prometheus, "demo", ["hello-svc-blue", "hello-svc-green"], WINDOW,
                               SloArgs(availability_percent=99.0))  # fmt: skip

    assert (blue.service, blue.requests, blue.errors) == ("hello-svc-blue", 15_000, 0)
    assert (green.service, green.requests, green.errors) == ("hello-svc-green", 15_000, 750)
    assert green.availability_percent == pytest.approx(95.0)
    assert (blue.availability_within_slo, green.availability_within_slo) == (True, False)
    assert (blue.p99_ms, green.p99_ms) == (pytest.approx(4.9), pytest.approx(6.1))
    assert blue.p50_ms is None  # no answer for that quantile: not measured, never 0


def test_a_counter_that_restarted_counts_from_zero():
    prometheus = FakePrometheus(before={(BLUE, "200"): 9_000.0}, after={(BLUE, "200"): 120.0},
                                p99={})  # fmt: skip

    (blue,) = real_traffic(prometheus, "demo", ["hello-svc-blue"], WINDOW, SloArgs())

    assert blue.requests == 120


def test_the_pods_figures_and_the_timeline_come_from_the_same_prometheus():
    prometheus = FakePrometheus({}, {}, {})

    (pod,) = pods_over_window(prometheus, "demo", WINDOW)
    timeline = traffic_timeline(prometheus, "demo", ["hello-svc"], WINDOW, "title")

    assert (pod.pod, pod.cpu_millicores_mean, pod.memory_mib_max) == ("hello-api-blue-1", 4.2, 12.0)
    assert [s.requests for s in timeline.seconds[:2]] == [50, 50]
    assert [s.p99_ms for s in timeline.seconds[:3]] == [None, 4.0, None]
    assert timeline.seconds[-1].t == 600
