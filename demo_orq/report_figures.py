"""The report's figures, computed from what was measured: the probe window against the stack's
SLO, each pod's resources, restarts and OOM kills, the stack history, the MTTR of the recorded
recovery events; and the Report that holds them all."""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pulumi import automation as auto

from components import SloArgs
from components.traffic import TrafficReport

from . import events
from .kube import Object, quantity
from .report_window import BackendFigures, PodWindowFigures
from .timeline import pod_version

ROLLBACK_MESSAGE = re.compile(r"rollback\b", re.IGNORECASE)
"""`demo-orq rollback` writes "rollback to update N"."""
METRICS_UNAVAILABLE = "metrics API unavailable"


@dataclass(frozen=True)
class ProbeFigures:
    measured: str
    """How the requests went (through the API server, the hop taken off)."""
    seconds: float
    requests: int
    failed: int
    requests_per_second: float
    availability_percent: float | None
    error_rate_percent: float | None
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    availability_within_slo: bool | None
    error_rate_within_slo: bool | None
    p99_within_slo: bool | None


@dataclass(frozen=True)
class PodFigures:
    name: str
    version: str
    cpu_millicores: float | None
    """None: the metrics API did not answer for this pod (see `metrics`)."""
    cpu_request_millicores: float | None
    cpu_limit_millicores: float | None
    memory_mib: float | None
    memory_request_mib: float | None
    memory_limit_mib: float | None
    restarts: int
    oom_killed: int
    metrics: str
    """"ok", METRICS_UNAVAILABLE, or "no metrics yet for this pod"."""


@dataclass(frozen=True)
class RecommendationFigures:
    """What a VerticalPodAutoscaler (recommendation mode) recommends for one container."""

    deployment: str
    container: str
    cpu_target_millicores: float | None
    cpu_request_millicores: float | None
    memory_target_mib: float | None
    memory_request_mib: float | None


@dataclass(frozen=True)
class HistoryFigures:
    updates: int
    succeeded: int
    failed: int
    rollbacks: int
    deploy_seconds_median: float | None
    deploy_seconds_last: float | None
    rollback_rate_percent: float | None
    failed_rate_percent: float | None


@dataclass(frozen=True)
class MttrFigures:
    events: int
    mttr_seconds: float | None
    """Mean time to recover over every recorded event; None: not measured."""
    by_kind_seconds: dict[str, float]
    events_file: str


def share_percent(part: int, whole: int) -> float | None:
    return 100 * part / whole if whole else None


def probe_figures(
    report: TrafficReport,
    measured: str,
    seconds: float,
    slo: SloArgs,
    percentiles: Mapping[str, float] | None = None,
) -> ProbeFigures:
    """The probe's figures; `percentiles`: p50, p95, p99 of the app alone when the requests
    crossed a hop (components.kubeapi.Probe), else those of the report as measured."""
    total, failed = len(report.answers), len(report.failures)
    availability = share_percent(total - failed, total)
    error_rate = share_percent(failed, total)
    figures = {
        name: None if math.isnan(value) else value
        for name, value in (percentiles or report.latency_percentiles_ms()).items()
    }
    p99 = figures["p99"]
    return ProbeFigures(
        measured=measured,
        seconds=round(seconds, 1),
        requests=total,
        failed=failed,
        requests_per_second=round(total / seconds, 1) if seconds > 0 else 0.0,
        availability_percent=availability,
        error_rate_percent=error_rate,
        p50_ms=figures["p50"],
        p95_ms=figures["p95"],
        p99_ms=p99,
        availability_within_slo=None
        if availability is None
        else availability >= slo.availability_percent,
        error_rate_within_slo=None
        if error_rate is None
        else error_rate <= 100 - slo.availability_percent,
        p99_within_slo=None if p99 is None else p99 <= slo.p99_ms,
    )


def summed(containers: Sequence[Mapping[str, Any]], section: str, resource: str) -> float | None:
    """The sum over the containers of resources.<section>.<resource>; None if none sets it."""
    values = [
        quantity(c["resources"][section][resource])
        for c in containers
        if resource in c.get("resources", {}).get(section, {})
    ]
    return sum(values) if values else None


def scaled(value: float | None, unit: float) -> float | None:
    return None if value is None else round(value / unit, 3)


def pod_usage(metrics: Mapping[str, Any] | None) -> dict[str, tuple[float, float]]:
    """Pod name -> (cores, bytes) used, from a metrics.k8s.io PodMetricsList."""
    usage = {}
    for item in (metrics or {}).get("items", []):
        containers = item.get("containers", [])
        cores = sum(quantity(c["usage"]["cpu"]) for c in containers)
        memory = sum(quantity(c["usage"]["memory"]) for c in containers)
        usage[item["metadata"]["name"]] = (cores, memory)
    return usage


def terminations(pod: Object, reason: str) -> int:
    """Containers whose current or last termination had `reason` (e.g. OOMKilled)."""
    count = 0
    for status in pod.get("status", {}).get("containerStatuses", []):
        for state in (status.get("state", {}), status.get("lastState", {})):
            if state.get("terminated", {}).get("reason") == reason:
                count += 1
    return count


def pod_figures(pod: Object, usage: Mapping[str, tuple[float, float]] | None) -> PodFigures:
    name = pod["metadata"]["name"]
    containers = pod["spec"]["containers"]
    statuses = pod.get("status", {}).get("containerStatuses", [])
    used = None if usage is None else usage.get(name)
    metrics = (
        METRICS_UNAVAILABLE if usage is None else "ok" if used else "no metrics yet for this pod"
    )
    mib = 2.0**20
    return PodFigures(
        name=name,
        version=pod_version(pod),
        cpu_millicores=None if used is None else round(used[0] * 1000, 1),
        cpu_request_millicores=scaled(summed(containers, "requests", "cpu"), 1e-3),
        cpu_limit_millicores=scaled(summed(containers, "limits", "cpu"), 1e-3),
        memory_mib=None if used is None else round(used[1] / mib, 1),
        memory_request_mib=scaled(summed(containers, "requests", "memory"), mib),
        memory_limit_mib=scaled(summed(containers, "limits", "memory"), mib),
        restarts=sum(int(s.get("restartCount", 0)) for s in statuses),
        oom_killed=terminations(pod, "OOMKilled"),
        metrics=metrics,
    )


def recommendation_figures(
    vpas: Sequence[Object], deployments: Mapping[str, Object]
) -> list[RecommendationFigures]:
    """Each VPA's target per container beside the container's requests in its Deployment."""
    figures = []
    for vpa in vpas:
        target = vpa["spec"]["targetRef"]["name"]
        template = deployments.get(target, {}).get("spec", {}).get("template", {})
        containers = {c["name"]: c for c in template.get("spec", {}).get("containers", [])}
        recommended = vpa.get("status", {}).get("recommendation", {})
        for each in recommended.get("containerRecommendations", []):
            wanted = each.get("target", {})
            requests = containers.get(each["containerName"], {}).get("resources", {})
            requested = requests.get("requests", {})
            figures.append(
                RecommendationFigures(
                    deployment=target,
                    container=each["containerName"],
                    cpu_target_millicores=in_unit(wanted.get("cpu"), 1e-3),
                    cpu_request_millicores=in_unit(requested.get("cpu"), 1e-3),
                    memory_target_mib=in_unit(wanted.get("memory"), 2.0**20),
                    memory_request_mib=in_unit(requested.get("memory"), 2.0**20),
                )
            )
    return figures


def in_unit(text: str | None, unit: float) -> float | None:
    return None if text is None else round(quantity(text) / unit, 1)


def history_figures(history: Sequence[auto.UpdateSummary]) -> HistoryFigures:
    """Figures of the `update` entries of a stack history (newest first, as Pulumi lists it)."""
    updates = [u for u in history if u.kind == "update"]
    durations = [
        (u.end_time - u.start_time).total_seconds() for u in updates if u.end_time is not None
    ]
    failed = sum(1 for u in updates if u.result == "failed")
    rollbacks = sum(1 for u in updates if ROLLBACK_MESSAGE.match(u.message or ""))
    return HistoryFigures(
        updates=len(updates),
        succeeded=sum(1 for u in updates if u.result == "succeeded"),
        failed=failed,
        rollbacks=rollbacks,
        deploy_seconds_median=statistics.median(durations) if durations else None,
        deploy_seconds_last=durations[0] if durations else None,
        rollback_rate_percent=share_percent(rollbacks, len(updates)),
        failed_rate_percent=share_percent(failed, len(updates)),
    )


def mttr_figures(recorded: Sequence[events.Event], events_file: Path) -> MttrFigures:
    by_kind: dict[str, list[float]] = {}
    for event in recorded:
        by_kind.setdefault(event.kind, []).append(event.seconds)
    return MttrFigures(
        events=len(recorded),
        mttr_seconds=statistics.fmean(e.seconds for e in recorded) if recorded else None,
        by_kind_seconds={kind: statistics.fmean(values) for kind, values in by_kind.items()},
        events_file=str(events_file),
    )


@dataclass(frozen=True)
class Report:
    stack: str
    namespace: str
    deployment: str
    measured_at: str
    slo: SloArgs
    probe: ProbeFigures | None
    """The probe window's figures; None for a report over a past window (`window`)."""
    pods: list[PodFigures]
    metrics_api: str
    history: HistoryFigures
    mttr: MttrFigures
    command: list[str]
    command_exit_code: int | None
    recommendations: list[RecommendationFigures] | None = None
    """None: no VerticalPodAutoscaler API on the cluster; [] none for the app yet."""
    window: str | None = None
    """The past window that the figures below cover, from Prometheus."""
    real_traffic: list[BackendFigures] | None = None
    pods_over_window: list[PodWindowFigures] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
