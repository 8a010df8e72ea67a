"""The report's figures (demo_orq.report_figures), computed from synthetic data: the probe
against the SLO, the pods, the history and the MTTR."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from components.traffic import TrafficReport, percentile
from demo_orq import events, facts
from demo_orq.report_figures import (
    METRICS_UNAVAILABLE,
    HistoryFigures,
    history_figures,
    mttr_figures,
    pod_figures,
    pod_usage,
    probe_figures,
    recommendation_figures,
)
from tests.unit.reports import SLO, answers, pod, update

# ---- probe figures and SLO marks ----


def test_percentiles_are_linear_between_ranks():
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == pytest.approx(50.5)
    assert percentile(values, 99) == pytest.approx(99.01)
    assert percentile([7.0], 99) == 7.0
    assert math.isnan(percentile([], 99))


def test_a_clean_probe_is_within_the_slo():
    report = TrafficReport(answers([10.0] * 98 + [20.0, 30.0]))
    figures = probe_figures(report, "http://127.0.0.1:1/", 5.0, SLO)
    assert (figures.requests, figures.failed, figures.requests_per_second) == (100, 0, 20.0)
    assert figures.availability_percent == 100.0
    assert figures.error_rate_percent == 0.0
    assert figures.p50_ms == pytest.approx(10.0)
    assert figures.p99_ms == pytest.approx(20.1)
    assert figures.availability_within_slo and figures.error_rate_within_slo
    assert figures.p99_within_slo


def test_failures_and_slow_answers_are_outside_the_slo():
    report = TrafficReport(answers([150.0] * 98, failed=2))
    figures = probe_figures(report, "http://127.0.0.1:1/", 5.0, SLO)
    assert figures.availability_percent == pytest.approx(98.0)
    assert figures.error_rate_percent == pytest.approx(2.0)
    assert figures.availability_within_slo is False
    assert figures.error_rate_within_slo is False
    assert figures.p99_within_slo is False


def test_a_probe_without_answers_is_not_measured():
    figures = probe_figures(TrafficReport([]), "http://127.0.0.1:1/", 5.0, SLO)
    assert figures.availability_percent is None
    assert figures.availability_within_slo is None
    assert figures.p99_ms is None


# ---- pods ----


def test_pod_usage_against_requests_and_limits():
    metrics = {
        "items": [
            {
                "metadata": {"name": "a"},
                "containers": [{"usage": {"cpu": "2500000n", "memory": "6144Ki"}}],
            }
        ]
    }
    figures = pod_figures(pod("a"), pod_usage(metrics))
    assert figures.metrics == "ok"
    assert (figures.cpu_millicores, figures.memory_mib) == (2.5, 6.0)
    assert (figures.cpu_request_millicores, figures.cpu_limit_millicores) == (50, 200)
    assert (figures.memory_request_mib, figures.memory_limit_mib) == (64, 128)
    assert figures.version == facts.V1_MESSAGE


def test_restarts_and_oom_kills_come_from_the_container_status():
    oom = {"lastState": {"terminated": {"reason": "OOMKilled", "exitCode": 137}}}
    figures = pod_figures(pod("a", restarts=3, **oom), {})
    assert (figures.restarts, figures.oom_killed) == (3, 1)
    assert figures.metrics == "no metrics yet for this pod"
    assert figures.cpu_millicores is None


def test_without_the_metrics_api_the_pod_says_so():
    assert pod_figures(pod("a"), None).metrics == METRICS_UNAVAILABLE


# ---- history and MTTR ----


def test_history_counts_updates_rollbacks_and_failures_newest_first():
    history = [
        update(12, message="rollback to update 2"),
        update(40, result="failed", message="bad image"),
        update(10, message="v2"),
        update(5, kind="refresh"),
        update(8, message="v1"),
    ]
    figures = history_figures(history)
    assert figures == HistoryFigures(
        updates=4,
        succeeded=3,
        failed=1,
        rollbacks=1,
        deploy_seconds_median=11.0,
        deploy_seconds_last=12.0,
        rollback_rate_percent=25.0,
        failed_rate_percent=25.0,
    )


def test_an_empty_history_has_no_rates():
    figures = history_figures([])
    assert figures.updates == 0
    assert figures.rollback_rate_percent is None
    assert figures.deploy_seconds_median is None


def test_recorded_events_give_the_mttr(tmp_path: Path):
    events.record("s1", "heal", 4.0, work_dir=tmp_path)
    events.record("s1", "failed-rollout", 50.0, "rolled back", work_dir=tmp_path)
    events.record("other", "heal", 99.0, work_dir=tmp_path)
    path = events.events_file("s1", tmp_path)
    figures = mttr_figures(events.read("s1", tmp_path), path)
    assert (figures.events, figures.mttr_seconds) == (2, 27.0)
    assert figures.by_kind_seconds == {"heal": 4.0, "failed-rollout": 50.0}
    assert mttr_figures([], path).mttr_seconds is None


def test_a_vpa_recommendation_is_shown_beside_the_containers_requests():
    vpa = {
        "spec": {"targetRef": {"name": "hello-api"}},
        "status": {"recommendation": {"containerRecommendations": [
            {"containerName": "app", "target": {"cpu": "12m", "memory": "20971520"}}]}},
    }  # fmt: skip
    requests = {"requests": {"cpu": "50m", "memory": "64Mi"}}
    containers = [{"name": "app", "resources": requests}]
    deployment = {"spec": {"template": {"spec": {"containers": containers}}}}

    (figures,) = recommendation_figures([vpa], {"hello-api": deployment})

    assert (figures.deployment, figures.container) == ("hello-api", "app")
    assert (figures.cpu_target_millicores, figures.cpu_request_millicores) == (12.0, 50.0)
    assert (figures.memory_target_mib, figures.memory_request_mib) == (20.0, 64.0)
    assert recommendation_figures([{**vpa, "status": {}}], {}) == []
