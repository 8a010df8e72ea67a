"""Measuring a deployed stack for the report: a probe window (a steady load and the pods listed
beside it, while a command runs when one is given), then its pods' resources, its history and
its recovery events."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pulumi import automation as auto

from components.traffic import Target as AppTarget

from . import events
from .cli import run_command
from .config import DemoConfig
from .kube import kubectl, kubectl_json
from .report_figures import (
    METRICS_UNAVAILABLE,
    PodFigures,
    Report,
    history_figures,
    mttr_figures,
    pod_figures,
    pod_usage,
    probe_figures,
)
from .stacks import Reached, deployed_outputs, reach, select_stack, stack_config
from .timeline import Recorder, Timeline

MAX_COMMAND_SECONDS = 1800
"""The load stops after this long even if the measured command still runs."""
SECONDS_AFTER_COMMAND = 3
SECONDS_BEFORE_COMMAND = 2


@dataclass(frozen=True)
class Target:
    """What the report measures: the stack's outputs and config."""

    app: AppTarget
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


def target(stack: auto.Stack, options: Options) -> Target:
    app = reach(stack, options.service, options.headers)
    outputs = deployed_outputs(stack, "namespace", "deploymentName")
    return Target(
        app=app,
        namespace=outputs["namespace"],
        deployment=outputs["deploymentName"],
        config=stack_config(stack),
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
    service: Reached = "app"
    """Where the probe goes: a Service of the stack's, or its gateway."""
    headers: tuple[tuple[str, str], ...] = ()


def make_report(options: Options) -> tuple[Report, Timeline]:
    stack = select_stack(options.stack, options.work_dir)
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
