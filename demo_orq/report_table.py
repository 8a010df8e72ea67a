"""The report as one table: each figure, its value and, for those with an objective, whether it
is within the stack's SLO."""

from __future__ import annotations

from collections.abc import Sequence

from .config import Slo
from .report_figures import HistoryFigures, MttrFigures, PodFigures, ProbeFigures, Report


def number(value: float | None, unit: str = "", digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}{unit}"


def mark(within: bool | None, objective: str) -> str:
    if within is None:
        return f"not measured ({objective})"
    return f"{'within' if within else 'OUTSIDE'} SLO ({objective})"


def probe_rows(probe: ProbeFigures, slo: Slo) -> list[tuple[str, str, str]]:
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


def table(report: Report) -> str:
    rows = [
        ("figure", "value", "SLO"),
        *probe_rows(report.probe, report.slo),
        *pod_rows(report.pods, report.metrics_api),
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
    lines.append(f"The probe's requests went {report.probe.measured}.")
    return "\n".join(lines)
