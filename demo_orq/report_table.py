"""The report as one table: each figure, its value and, for those with an objective, whether it
is within the stack's SLO."""

from __future__ import annotations

from collections.abc import Sequence

from components import SloArgs

from .report_figures import (
    HistoryFigures,
    MttrFigures,
    PodFigures,
    ProbeFigures,
    RecommendationFigures,
    Report,
)
from .report_window import BackendFigures, PodWindowFigures


def number(value: float | None, unit: str = "", digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}{unit}"


def mark(within: bool | None, objective: str) -> str:
    if within is None:
        return f"not measured ({objective})"
    return f"{'within' if within else 'OUTSIDE'} SLO ({objective})"


def probe_rows(probe: ProbeFigures, slo: SloArgs) -> list[tuple[str, str, str]]:
    budget = 100 - slo.availability_percent
    answered = probe.requests - probe.failed
    return [
        (
            "probe",
            f"{probe.requests} requests in {probe.seconds:.0f} s "
            f"({probe.requests_per_second:.1f}/s), as said below the table",
            "",
        ),
        (
            "availability",
            f"{number(probe.availability_percent, '%', 3)} "
            f"({answered}/{probe.requests} answered 200)",
            mark(probe.availability_within_slo, f">= {slo.availability_percent:g}%"),
        ),
        (
            "error rate",
            f"{number(probe.error_rate_percent, '%', 3)} ({probe.failed} failed)",
            mark(probe.error_rate_within_slo, f"<= {budget:.3g}%"),
        ),
        ("latency p50", number(probe.p50_ms, " ms"), ""),
        ("latency p95", number(probe.p95_ms, " ms"), ""),
        (
            "latency p99",
            number(probe.p99_ms, " ms"),
            mark(probe.p99_within_slo, f"<= {slo.p99_ms} ms"),
        ),
    ]


def of(used: float | None, request: float | None, limit: float | None, unit: str) -> str:
    share = "" if used is None or not limit else f", {100 * used / limit:.0f}% of limit"
    return (
        f"{number(used, unit)} (request {number(request, unit, 0)}, "
        f"limit {number(limit, unit, 0)}{share})"
    )


def pod_rows(pods: Sequence[PodFigures], metrics_api: str) -> list[tuple[str, str, str]]:
    if not pods:
        return [("pods", "none found", "")]
    rows = []
    for pod in pods:
        if pod.metrics == "ok":
            cpu = of(pod.cpu_millicores, pod.cpu_request_millicores, pod.cpu_limit_millicores, "m")
            memory = of(pod.memory_mib, pod.memory_request_mib, pod.memory_limit_mib, "Mi")
        else:
            cpu = memory = pod.metrics
        rows += [
            (f"pod {pod.name} CPU", cpu, ""),
            (f"pod {pod.name} memory", memory, ""),
            (f"pod {pod.name} restarts", f"{pod.restarts}, OOMKilled {pod.oom_killed}", ""),
        ]
    if metrics_api != "ok":
        rows.append(("metrics API", metrics_api, ""))
    return rows


def recommendation_rows(
    recommendations: Sequence[RecommendationFigures] | None,
) -> list[tuple[str, str, str]]:
    if recommendations is None:
        return []
    if not recommendations:
        return [("VPA", "no recommendation yet (vpa off, or the recommender has no data)", "")]
    return [
        (
            f"VPA {each.deployment}/{each.container}",
            f"recommends CPU {number(each.cpu_target_millicores, 'm', 0)} (request "
            f"{number(each.cpu_request_millicores, 'm', 0)}), memory "
            f"{number(each.memory_target_mib, 'Mi', 0)} (request "
            f"{number(each.memory_request_mib, 'Mi', 0)})",
            "",
        )
        for each in recommendations
    ]


def history_rows(history: HistoryFigures) -> list[tuple[str, str, str]]:
    return [
        (
            "updates",
            f"{history.updates} ({history.succeeded} succeeded, {history.failed} failed)",
            "",
        ),
        (
            "deploy time",
            f"median {number(history.deploy_seconds_median, ' s')}, "
            f"last {number(history.deploy_seconds_last, ' s')}",
            "",
        ),
        (
            "rollback rate",
            f"{number(history.rollback_rate_percent, '%', 0)} "
            f"({history.rollbacks} of {history.updates} updates)",
            "",
        ),
        (
            "failed-update rate",
            f"{number(history.failed_rate_percent, '%', 0)} "
            f"({history.failed} of {history.updates} updates)",
            "",
        ),
    ]


def mttr_row(mttr: MttrFigures) -> tuple[str, str, str]:
    if mttr.mttr_seconds is None:
        return ("MTTR", "not measured (no recovery event recorded)", "")
    kinds = ", ".join(f"{kind} {seconds:.1f} s" for kind, seconds in mttr.by_kind_seconds.items())
    events_word = "event" if mttr.events == 1 else "events"
    return ("MTTR", f"{mttr.mttr_seconds:.1f} s over {mttr.events} {events_word} ({kinds})", "")


def backend_rows(backends: Sequence[BackendFigures], slo: SloArgs) -> list[tuple[str, str, str]]:
    if not backends:
        return [("requests", "none reached the app through the gateway in the window", "")]
    rows = []
    for backend in backends:
        rows += [
            (
                f"{backend.service} requests",
                f"{backend.requests}, {backend.errors} failed (5xx): "
                f"{number(backend.availability_percent, '%', 3)} answered",
                mark(backend.availability_within_slo, f">= {slo.availability_percent:g}%"),
            ),
            (
                f"{backend.service} latency",
                f"p50 {number(backend.p50_ms, ' ms')}, p95 {number(backend.p95_ms, ' ms')}, "
                f"p99 {number(backend.p99_ms, ' ms')}",
                mark(backend.p99_within_slo, f"p99 <= {slo.p99_ms} ms"),
            ),
        ]
    return rows


def pod_window_rows(pods: Sequence[PodWindowFigures]) -> list[tuple[str, str, str]]:
    return [
        (
            f"pod {pod.pod} over the window",
            f"CPU mean {number(pod.cpu_millicores_mean, 'm')}, throttled "
            f"{number(pod.throttled_percent, '%')} of periods, memory max "
            f"{number(pod.memory_mib_max, 'Mi')}, OOM events {pod.oom_events}",
            "",
        )
        for pod in pods
    ]


def traffic_rows(report: Report) -> list[tuple[str, str, str]]:
    if report.probe is not None:
        return probe_rows(report.probe, report.slo)
    return [
        ("window", f"{report.window}", ""),
        *backend_rows(report.real_traffic or [], report.slo),
        *pod_window_rows(report.pods_over_window or []),
    ]


def table(report: Report) -> str:
    rows = [
        ("figure", "value", "SLO"),
        *traffic_rows(report),
        *pod_rows(report.pods, report.metrics_api),
        *recommendation_rows(report.recommendations),
        *history_rows(report.history),
        mttr_row(report.mttr),
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(2)]
    lines = [
        f"Report of stack {report.stack} (namespace {report.namespace}, deployment "
        f"{report.deployment}), {report.measured_at}"
    ]
    for index, (name, value, slo) in enumerate(rows):
        lines.append(f"{name:<{widths[0]}}  {value:<{widths[1]}}  {slo}".rstrip())
        if index == 0:
            lines.append(f"{'-' * widths[0]}  {'-' * widths[1]}  ---")
    if report.probe is not None:
        lines.append(f"The probe's requests went {report.probe.measured}.")
    else:
        lines.append(
            "The window's figures are the users' requests through the gateway, per backend "
            "Service, and cAdvisor's, as the cluster's Prometheus recorded them."
        )
    return "\n".join(lines)
