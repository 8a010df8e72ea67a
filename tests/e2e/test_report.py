"""`demo-orq report` on a deployed throwaway stack: every figure, the JSON and the PNG.

The stack is the test's own (a copy of the program with its own local backend, deployed into the
`report` sandbox); it is destroyed afterwards, even when a test failed. The tests fail (never
skip) when the cluster, the toolchain or the metrics API (metrics-server) is missing.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import matplotlib.image
import numpy
import pytest
from pulumi import automation as auto

from demo_orq import events, facts
from demo_orq.kube import deployment_settled, kubectl, kubectl_json, namespace_exists, wait_until
from tests.sandbox import (
    SANDBOXES,
    ProjectCopy,
    copy_project,
    demo_orq_command,
    require_pulumi_cli,
    sandbox_stack,
)

pytestmark = pytest.mark.e2e

SANDBOX = SANDBOXES["report"]
STACK = "report"
NAMESPACE = SANDBOX.namespace
REPLICAS = 2
SELECTOR = f"app={facts.DEPLOYMENT}"
PROBE_SECONDS, RATE = 8, 20
V1, V2 = facts.V1_MESSAGE, facts.V2_MESSAGE
METRICS_API = "v1beta1.metrics.k8s.io"
FIGURES = ("availability", "error rate", "latency p50", "latency p95", "latency p99",
           "updates", "deploy time", "rollback rate", "failed-update rate", "MTTR")  # fmt: skip


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> ProjectCopy:
    require_pulumi_cli()
    return copy_project(tmp_path_factory.mktemp("report") / "project")


@pytest.fixture(scope="module")
def stack(project: ProjectCopy) -> Iterator[auto.Stack]:
    with sandbox_stack(project, STACK, SANDBOX, replicas=str(REPLICAS)) as stack:
        stack.up(message="v1", on_output=print)
        wait_until(lambda: deployment_settled(NAMESPACE, facts.DEPLOYMENT, REPLICAS), 120, "v1")
        yield stack
    wait_until(lambda: not namespace_exists(NAMESPACE), 180, f"{NAMESPACE} to be gone")


def report(project: ProjectCopy, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """The report command as a user runs it, on the copy's stack and backend."""
    completed = subprocess.run(
        [demo_orq_command(), "report", "--stack", STACK, "--work-dir", str(project.directory),
         *args],
        cwd=project.directory, env=project.env, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip
    print(completed.stdout, completed.stderr)
    return completed


def metrics_for_every_pod() -> bool:
    """Whether metrics-server has measured every pod of the sandbox (it scrapes every 10 s)."""
    path = f"/apis/metrics.k8s.io/v1beta1/namespaces/{NAMESPACE}/pods"
    items = json.loads(kubectl("get", "--raw", path).stdout)["items"]
    measured = {item["metadata"]["name"] for item in items}
    pods = kubectl_json("-n", NAMESPACE, "get", "pods", "-l", SELECTOR)["items"]
    return bool(pods) and all(pod["metadata"]["name"] in measured for pod in pods)


def assert_picture_is_drawn(path: Path) -> None:
    pixels = matplotlib.image.imread(path)
    assert pixels.shape[0] > 500 and pixels.shape[1] > 800, pixels.shape
    assert numpy.std(pixels[..., :3]) > 0.05, "the picture is blank"


def written(out: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert Path(document["picture"]) == out / "report-timeline.png"
    assert_picture_is_drawn(out / "report-timeline.png")
    return document


def test_the_metrics_api_is_served_by_the_cluster():
    available = kubectl("get", "apiservice", METRICS_API, "-o", "json", check=False)
    assert available.returncode == 0, f"{METRICS_API} is not registered: {available.stderr}"
    conditions = json.loads(available.stdout)["status"].get("conditions", [])
    assert {"type": "Available", "status": "True"} in [
        {"type": c["type"], "status": c["status"]} for c in conditions
    ], conditions


def test_bad_arguments_are_refused_before_anything_is_measured(project: ProjectCopy):
    unknown = subprocess.run(
        [demo_orq_command(), "report", "--stack", "nope", "--work-dir", str(project.directory)],
        cwd=project.directory, env=project.env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert unknown.returncode == 2
    [line] = unknown.stderr.strip().splitlines()
    assert line.startswith(f"report refused: no stack 'nope' in {project.directory} (stacks: ")
    assert not (project.directory / ".demo-orq").exists()


def test_a_report_measured_during_the_v2_rollout_draws_both_versions(
    stack: auto.Stack, project: ProjectCopy, tmp_path: Path
):
    project.pulumi("config", "set", "--stack", STACK, f"{facts.PROJECT}:message", "--", V2)
    rollout = ["pulumi", "up", "--yes", "--skip-preview", "--stack", STACK, "-m", "v2"]
    completed = report(project, "--rate", str(RATE), "--out", str(tmp_path), "--", *rollout)

    assert completed.returncode == 0, completed.stderr[-3000:]
    document = written(tmp_path)
    assert document["command"] == rollout and document["command_exit_code"] == 0
    assert document["timeline"]["versions"][:2] == [V1, V2]
    seconds = document["timeline"]["seconds"]
    assert seconds[0]["ready"] == {V1: REPLICAS} and seconds[-1]["ready"] == {V2: REPLICAS}
    assert document["probe"]["availability_percent"] == 100.0, document["probe"]
    assert document["history"]["updates"] == 2


def test_the_report_of_the_stack_has_every_figure(
    stack: auto.Stack, project: ProjectCopy, tmp_path: Path
):
    events.record(STACK, "heal", 4.0, "test", work_dir=project.directory)
    events.record(STACK, "failed-rollout", 50.0, "test", work_dir=project.directory)
    wait_until(metrics_for_every_pod, 90, "metrics-server to measure every pod")

    completed = report(project, "--probe-seconds", str(PROBE_SECONDS), "--rate", str(RATE),
                       "--out", str(tmp_path))  # fmt: skip

    assert completed.returncode == 0, completed.stderr[-3000:]
    printed = completed.stdout
    for figure in FIGURES:
        assert f"\n{figure} " in printed, figure
    assert "within SLO (>= 99.9%)" in printed and "within SLO (<= 500 ms)" in printed
    assert "27.0 s over 2 events (heal 4.0 s, failed-rollout 50.0 s)" in printed
    assert f"picture: {tmp_path / 'report-timeline.png'}" in printed

    document = written(tmp_path)
    probe = document["probe"]
    assert probe["requests"] >= PROBE_SECONDS * RATE * 0.8, probe
    assert probe["availability_percent"] == 100.0 and probe["error_rate_percent"] == 0.0
    # The app's own latencies, the hop taken off: 0 when the app answers within the hop's jitter.
    assert 0 <= probe["p50_ms"] <= probe["p95_ms"] <= probe["p99_ms"] < 500, probe
    assert document["metrics_api"] == "ok"
    assert len(document["pods"]) == REPLICAS
    for pod in document["pods"]:
        assert pod["metrics"] == "ok", pod
        assert pod["cpu_millicores"] >= 0 and pod["memory_mib"] > 0, pod
        assert (pod["cpu_request_millicores"], pod["cpu_limit_millicores"]) == (50, 200)
        assert (pod["memory_request_mib"], pod["memory_limit_mib"]) == (64, 128)
        assert (pod["restarts"], pod["oom_killed"]) == (0, 0)
        assert f"pod {pod['name']} CPU" in printed and f"pod {pod['name']} memory" in printed
    history = document["history"]
    assert (history["updates"], history["failed"], history["rollbacks"]) == (2, 0, 0)
    assert history["deploy_seconds_median"] > 0 and history["deploy_seconds_last"] > 0
    assert history["rollback_rate_percent"] == 0.0
    assert document["mttr"]["mttr_seconds"] == 27.0
    assert len(document["timeline"]["seconds"]) >= PROBE_SECONDS
