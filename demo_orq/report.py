"""The operating figures of a deployed stack, in one table, as JSON and as a timeline picture.

    python -m demo_orq report                              # stack dev, a 30 s probe at 20 req/s
    python -m demo_orq report --stack dev --probe-seconds 60 --rate 50 --out DIR
    python -m demo_orq report --stack dev -- pulumi up --yes --skip-preview -m v2
                      # measures while the command runs (a rollout), then 3 s more

It measures:
- availability, error rate and latency p50/p95/p99 of a probe window: a steady load on the
  stack's Service through the API server of its kubeconfig and context (any cluster), bounded
  in time (--probe-seconds) and rate (--rate); the hop to the API server is measured beside it
  and taken off the latencies;
- CPU and memory of each pod against its requests and limits (the metrics.k8s.io API), its
  restarts and OOMKilled terminations;
- from the stack history: updates, deploy time (median, last), rollback and failed-update rates;
- MTTR from the recovery events recorded for the stack (demo_orq.events), else "not measured";
and marks availability, error rate and p99 within or outside the stack's SLO
(`sloAvailabilityPercent`, `sloP99Ms`). It writes report.json and report-timeline.png (requests
per second, errors, p99 and ready pods per version over the probe window) into --out
(default: .demo-orq/reports/<stack>/ in the project folder).
"""

from __future__ import annotations

import argparse
import json
import math
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pulumi import automation as auto

from components.kubeapi import ServiceProxy
from components.traffic import TrafficReport

from . import events
from .config import DemoConfig, Slo
from .kube import KubectlError, Object, kubectl, kubectl_json
from .stacks import (
    StackError,
    add_stack_arguments,
    deployed_outputs,
    reach,
    select_stack,
    stack_config,
)
from .timeline import Recorder, Timeline, draw, pod_version

PROBE_SECONDS = (5, 600)
RATE = (1, 200)
MAX_COMMAND_SECONDS = 1800
"""The load stops after this long even if the measured command still runs."""
SECONDS_AFTER_COMMAND = 3
SECONDS_BEFORE_COMMAND = 2
ROLLBACK_MESSAGE = re.compile(r"rollback\b", re.IGNORECASE)
"""`python -m demo_orq rollback` writes "rollback to update N"."""
METRICS_UNAVAILABLE = "metrics API unavailable"


# ---- figures ----


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
    slo: Slo,
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


_QUANTITY = re.compile(r"([0-9.]+(?:[eE][-+]?[0-9]+)?)([a-zA-Z]*)")
_SUFFIXES = {
    "": 1.0, "n": 1e-9, "u": 1e-6, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12,
    "Ki": 2.0**10, "Mi": 2.0**20, "Gi": 2.0**30, "Ti": 2.0**40,
}  # fmt: skip


def quantity(text: str) -> float:
    """A Kubernetes quantity in base units: `250m` -> 0.25 (cores), `64Mi` -> 67108864 (bytes)."""
    match = _QUANTITY.fullmatch(text.strip())
    if not match or match.group(2) not in _SUFFIXES:
        raise ValueError(f"not a Kubernetes quantity: {text!r}")
    return float(match.group(1)) * _SUFFIXES[match.group(2)]


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
    slo: Slo
    probe: ProbeFigures
    pods: list[PodFigures]
    metrics_api: str
    history: HistoryFigures
    mttr: MttrFigures
    command: list[str]
    command_exit_code: int | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# ---- the table ----


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
            f"({probe.requests_per_second:.1f}/s) {probe.measured}",
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
    return "\n".join(lines)


# ---- measuring a stack ----


@dataclass(frozen=True)
class Target:
    """What the report measures: the stack's outputs and config."""

    app: ServiceProxy
    namespace: str
    deployment: str
    config: DemoConfig

    @property
    def kubectl_args(self) -> list[str]:
        """The stack's own cluster, never whatever context is current."""
        kubeconfig = ["--kubeconfig", self.config.kubeconfig] if self.config.kubeconfig else []
        return [*kubeconfig, "--context", self.config.context]

    @property
    def selector(self) -> str:
        return f"app={self.deployment}"


def target(stack: auto.Stack) -> Target:
    app = reach(stack)
    outputs = deployed_outputs(stack, "namespace", "deploymentName")
    return Target(
        app=app,
        namespace=outputs["namespace"],
        deployment=outputs["deploymentName"],
        config=stack_config(stack),
    )


def run_command(command: Sequence[str]) -> int:
    """Runs the measured command in the foreground (its output shown); returns its exit code."""
    try:
        return subprocess.run(list(command), check=False).returncode
    except OSError as error:
        print(f"report: cannot run {command[0]!r}: {error}", file=sys.stderr)
        return 127


def probe(
    target: Target, seconds: float, rate: float, command: Sequence[str]
) -> tuple[Recorder, int | None]:
    """A probe window of `seconds`, or, with a command, the time it runs plus a few seconds."""
    exit_code = None
    bound = MAX_COMMAND_SECONDS if command else seconds + 5
    recorder = Recorder(
        target.app, target.namespace, target.selector, rate, bound, target.kubectl_args
    )
    with recorder:
        if command:
            time.sleep(SECONDS_BEFORE_COMMAND)
            recorder.mark(f"{command[0]} started")
            exit_code = run_command(command)
            recorder.mark(f"{command[0]} ended ({exit_code})")
            time.sleep(SECONDS_AFTER_COMMAND)
        else:
            time.sleep(seconds)
    return recorder, exit_code


def pod_metrics(target: Target) -> Mapping[str, Any] | None:
    """The metrics.k8s.io PodMetricsList of the namespace; None when the API does not answer."""
    path = f"/apis/metrics.k8s.io/v1beta1/namespaces/{target.namespace}/pods"
    answer = kubectl(*target.kubectl_args, "get", "--raw", path, check=False, timeout=30)
    if answer.returncode != 0:
        return None
    metrics: Mapping[str, Any] = json.loads(answer.stdout)
    return metrics


def measure_pods(target: Target) -> tuple[list[PodFigures], str]:
    listing = kubectl_json(
        *target.kubectl_args, "-n", target.namespace, "get", "pods", "-l", target.selector
    )
    metrics = pod_metrics(target)
    usage = None if metrics is None else pod_usage(metrics)
    # Pods on their way out (an old version after a rollout) are no longer the stack's.
    current = [pod for pod in listing["items"] if not pod["metadata"].get("deletionTimestamp")]
    pods = [pod_figures(pod, usage) for pod in current]
    return sorted(pods, key=lambda p: p.name), "ok" if metrics is not None else METRICS_UNAVAILABLE


@dataclass(frozen=True)
class Options:
    stack: str
    work_dir: Path
    probe_seconds: float
    rate: float
    out: Path
    command: list[str]


def make_report(options: Options) -> tuple[Report, Timeline]:
    stack = select_stack(options.stack, options.work_dir)
    measured = target(stack)
    recorder, exit_code = probe(measured, options.probe_seconds, options.rate, options.command)
    seconds = recorder.end - recorder.start
    pods, metrics_api = measure_pods(measured)
    history = history_figures(stack.history(show_secrets=False))
    events_path = events.events_file(options.stack, options.work_dir)
    report = Report(
        stack=options.stack,
        namespace=measured.namespace,
        deployment=measured.deployment,
        measured_at=time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(recorder.started_at)),
        slo=measured.config.slo,
        probe=probe_figures(
            recorder.report,
            recorder.probe.how(),
            seconds,
            measured.config.slo,
            recorder.probe.app_percentiles_ms(),
        ),
        pods=pods,
        metrics_api=metrics_api,
        history=history,
        mttr=mttr_figures(events.read(options.stack, options.work_dir), events_path),
        command=options.command,
        command_exit_code=exit_code,
    )
    what = f"while {' '.join(options.command)}" if options.command else "probe window"
    return report, recorder.timeline(f"Stack {options.stack}: {what}")


def write(report: Report, timeline: Timeline, out: Path) -> tuple[Path, Path]:
    """report.json (the figures and the timeline) and report-timeline.png in `out`."""
    picture = draw(timeline, out / "report-timeline.png", report.slo.p99_ms)
    json_path = out / "report.json"
    document = {**report.to_dict(), "timeline": timeline.to_dict(), "picture": str(picture)}
    json_path.write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n", "utf-8")
    return json_path, picture


# ---- the command ----


def bounded(name: str, low: float, high: float) -> Callable[[str], float]:
    def parse(raw: str) -> float:
        try:
            value = float(raw)
        except ValueError:
            value = float("nan")
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"{raw!r} (accepted: a number of {name} from {low:g} to {high:g})"
            )
        return value

    return parse


def parse_arguments(argv: Sequence[str]) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m demo_orq report",
        description="Measure a deployed stack: one table, report.json and report-timeline.png.",
        epilog="With `-- COMMAND...`, the probe lasts while COMMAND runs (e.g. a rollout).",
    )
    add_stack_arguments(parser)
    parser.add_argument(
        "--probe-seconds",
        type=bounded("seconds", *PROBE_SECONDS),
        default=30.0,
        help=f"probe window, {PROBE_SECONDS[0]}-{PROBE_SECONDS[1]} s (default: 30)",
    )
    parser.add_argument(
        "--rate",
        type=bounded("requests per second", *RATE),
        default=20.0,
        help=f"probe requests per second, {RATE[0]}-{RATE[1]} (default: 20)",
    )
    parser.add_argument("--out", type=Path, help="folder for the JSON and the PNG")
    own, command = split_command(argv)
    arguments = parser.parse_args(own)
    out = arguments.out or arguments.work_dir / ".demo-orq" / "reports" / arguments.stack
    return Options(
        arguments.stack, arguments.work_dir, arguments.probe_seconds, arguments.rate, out, command
    )


def split_command(argv: Sequence[str]) -> tuple[list[str], list[str]]:
    arguments = list(argv)
    if "--" not in arguments:
        return arguments, []
    index = arguments.index("--")
    return arguments[:index], arguments[index + 1 :]


def main(argv: Sequence[str]) -> int:
    options = parse_arguments(argv)
    try:
        report, timeline = make_report(options)
    except StackError as error:
        print(f"report: {error}", file=sys.stderr)
        return 2
    except (auto.CommandError, KubectlError) as error:
        print(f"report failed: {error}", file=sys.stderr)
        return 1
    json_path, picture = write(report, timeline, options.out)
    print(table(report))
    print(f"events: {report.mttr.events_file}")
    print(f"figures: {json_path}")
    print(f"picture: {picture}")
    return report.command_exit_code or 0
