"""Measuring a deployed stack for the report: a probe window (a steady load and the pods listed
beside it, while a command runs when one is given), then its pods' resources, its history and
its recovery events."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from pulumi import automation as auto

from components.kubeapi import ApiServer, KubeAccessError
from components.names import ROUTED_ROLES, role_service_name
from components.prometheus import SCRAPE_SECONDS, Prometheus
from components.traffic import Target as AppTarget

from . import events
from .cli import run_command
from .config import DemoConfig
from .kube import kubectl, kubectl_json
from .report_figures import (
    METRICS_UNAVAILABLE,
    PodFigures,
    RecommendationFigures,
    Report,
    history_figures,
    mttr_figures,
    pod_figures,
    pod_usage,
    probe_figures,
    recommendation_figures,
)
from .report_window import (
    Window,
    between,
    pods_over_window,
    real_traffic,
    since,
    traffic_timeline,
)
from .stacks import (
    Reached,
    StackError,
    deployed_outputs,
    reach,
    select_stack,
    stack_config,
)
from .timeline import Recorder, Timeline

MAX_COMMAND_SECONDS = 1800
"""The load stops after this long even if the measured command still runs."""
SECONDS_AFTER_COMMAND = 3
SECONDS_BEFORE_COMMAND = 2


@dataclass(frozen=True)
class Deployed:
    """Where the stack's app runs: its outputs and config."""

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


@dataclass(frozen=True)
class Target(Deployed):
    """What the report's probe measures."""

    app: AppTarget


def target(stack: auto.Stack, options: Options) -> Target:
    app = reach(stack, options.service, options.headers)
    outputs = deployed_outputs(stack, "namespace", "deploymentName")
    return Target(
        namespace=outputs["namespace"],
        deployment=outputs["deploymentName"],
        config=stack_config(stack),
        app=app,
    )


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
            exit_code = run_command("report", command)
            recorder.mark(f"{command[0]} ended ({exit_code})")
            time.sleep(SECONDS_AFTER_COMMAND)
        else:
            time.sleep(seconds)
    return recorder, exit_code


def pod_metrics(target: Deployed) -> Mapping[str, Any] | None:
    """The metrics.k8s.io PodMetricsList of the namespace; None when the API does not answer."""
    path = f"/apis/metrics.k8s.io/v1beta1/namespaces/{target.namespace}/pods"
    answer = kubectl(*target.kubectl_args, "get", "--raw", path, check=False, timeout=30)
    if answer.returncode != 0:
        return None
    metrics: Mapping[str, Any] = json.loads(answer.stdout)
    return metrics


def measure_pods(target: Deployed) -> tuple[list[PodFigures], str]:
    listing = kubectl_json(
        *target.kubectl_args, "-n", target.namespace, "get", "pods", "-l", target.selector
    )
    metrics = pod_metrics(target)
    usage = None if metrics is None else pod_usage(metrics)
    # Pods on their way out (an old version after a rollout) are no longer the stack's.
    current = [pod for pod in listing["items"] if not pod["metadata"].get("deletionTimestamp")]
    pods = [pod_figures(pod, usage) for pod in current]
    return sorted(pods, key=lambda p: p.name), "ok" if metrics is not None else METRICS_UNAVAILABLE


def measure_recommendations(deployed: Deployed) -> list[RecommendationFigures] | None:
    """The app's VerticalPodAutoscalers' recommendations; None without the VPA API."""
    where = [*deployed.kubectl_args, "-n", deployed.namespace]
    listed = kubectl(*where, "get", "verticalpodautoscalers", "-o", "json", check=False)
    if listed.returncode != 0:
        return None
    deployments = kubectl_json(*where, "get", "deployments")["items"]  # the app's namespace
    by_name = {d["metadata"]["name"]: d for d in deployments}
    return recommendation_figures(json.loads(listed.stdout)["items"], by_name)


@dataclass(frozen=True)
class PastWindow:
    """A past window to report on instead of a probe: one of the three, or none."""

    since: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    last_update: bool = False

    @property
    def wanted(self) -> bool:
        return bool(self.since or self.start or self.last_update)

    def of(self, stack: auto.Stack) -> Window:
        if self.since:
            return since(self.since)
        if self.start and self.end:
            return between(self.start, self.end, f"from {self.start} to {self.end}")
        return last_update_window(stack)


def last_update_window(stack: auto.Stack) -> Window:
    """The span of the stack's last update, and a scrape interval after it."""
    for update in stack.history(page_size=5, show_secrets=False):
        if update.kind == "update" and update.end_time is not None:
            said = f"the last update (#{update.version}, {update.message or 'no message'!r})"
            end = update.end_time.timestamp() + SCRAPE_SECONDS + 1
            return Window(update.start_time.timestamp(), end, said)
    raise StackError(f"stack {stack.name!r} has no finished update in its history")


@dataclass(frozen=True)
class Options:
    stack: str
    work_dir: Path
    probe_seconds: float
    rate: float
    out: Path
    command: list[str]
    service: Reached = "app"
    """Where the probe goes: a Service of the stack's, or its gateway."""
    headers: tuple[tuple[str, str], ...] = ()
    past: PastWindow = PastWindow()


def make_report(options: Options) -> tuple[Report, Timeline]:
    stack = select_stack(options.stack, options.work_dir)
    if options.past.wanted:
        return report_of_window(stack, options)
    measured = target(stack, options)
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
        slo=measured.config.app.slo,
        probe=probe_figures(
            recorder.report,
            recorder.probe.how(),
            seconds,
            measured.config.app.slo,
            recorder.probe.app_percentiles_ms(),
        ),
        pods=pods,
        metrics_api=metrics_api,
        recommendations=measure_recommendations(measured),
        history=history,
        mttr=mttr_figures(events.read(options.stack, options.work_dir), events_path),
        command=options.command,
        command_exit_code=exit_code,
    )
    what = f"while {' '.join(options.command)}" if options.command else "probe window"
    return report, recorder.timeline(f"Stack {options.stack}: {what}")


def report_of_window(stack: auto.Stack, options: Options) -> tuple[Report, Timeline]:
    """The report of a past window, from the cluster's Prometheus: no probe of its own."""
    window = options.past.of(stack)
    outputs = deployed_outputs(stack, "namespace", "deploymentName", "serviceName")
    config = stack_config(stack)
    namespace = outputs["namespace"]
    backends = [role_service_name(outputs["serviceName"], role) for role in ROUTED_ROLES]
    prometheus = Prometheus(ApiServer(config.kubeconfig, config.context))
    deployed = Deployed(namespace, outputs["deploymentName"], config)
    try:
        traffic = real_traffic(prometheus, namespace, backends, window, config.app.slo)
        pods_then = pods_over_window(prometheus, namespace, window)
        timeline = traffic_timeline(prometheus, namespace, backends, window,
                                    f"Stack {options.stack}: {window.said}")  # fmt: skip
    except KubeAccessError as error:
        raise StackError(f"report of {window.said}: {error}") from None
    pods, metrics_api = measure_pods(deployed)
    report = Report(
        stack=options.stack,
        namespace=namespace,
        deployment=outputs["deploymentName"],
        measured_at=time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(window.start)),
        slo=config.app.slo,
        probe=None,
        pods=pods,
        metrics_api=metrics_api,
        recommendations=measure_recommendations(deployed),
        history=history_figures(stack.history(show_secrets=False)),
        mttr=mttr_figures(
            events.read(options.stack, options.work_dir),
            events.events_file(options.stack, options.work_dir),
        ),
        command=[],
        command_exit_code=None,
        window=f"{window.said}: {window.seconds:.0f} s",
        real_traffic=traffic,
        pods_over_window=pods_then,
    )
    return report, timeline
