"""Synthetic data for the report's tests: answers, stack updates, pods, a whole report and a
timeline (no CLI, no cluster)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from pulumi import automation as auto

from components import SloArgs
from components.traffic import Answer, TrafficReport
from demo_orq import events, facts
from demo_orq.report_figures import (
    Report,
    history_figures,
    mttr_figures,
    pod_figures,
    probe_figures,
)
from demo_orq.timeline import Mark, Second, Timeline, versions_in_order

SLO = SloArgs(availability_percent=99.0, p99_ms=100)
START = datetime(2026, 11, 27, 10, 0, 0)


def answers(latencies_ms: list[float], failed: int = 0) -> list[Answer]:
    ok = [Answer(i * 0.05, ms / 1000, "hola\n") for i, ms in enumerate(latencies_ms)]
    bad = [Answer(i * 0.05, 2.0, None, "timed out") for i in range(failed)]
    return ok + bad


def update(
    seconds: float, result: str = "succeeded", message: str = "", kind: str = "update"
) -> auto.UpdateSummary:
    return auto.UpdateSummary(
        kind=kind,
        start_time=START,
        end_time=START + timedelta(seconds=seconds),
        message=message,
        environment={},
        config={},
        result=result,
    )


def pod(name: str, text: str = facts.V1_MESSAGE, ready: bool = True, **status) -> dict:
    return {
        "metadata": {"name": name},
        "spec": {
            "containers": [
                {
                    "image": status.pop("image", facts.IMAGE),
                    "args": [f"-text={text}", "-listen=:8080"],
                    "resources": {
                        "requests": {"cpu": "50m", "memory": "64Mi"},
                        "limits": {"cpu": "200m", "memory": "128Mi"},
                    },
                }
            ]
        },
        "status": {
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
            "containerStatuses": [{"restartCount": status.get("restarts", 0), **status}],
        },
    }


def a_report(tmp_path: Path, mttr_events: list[events.Event] | None = None) -> Report:
    probe = probe_figures(TrafficReport(answers([5.0] * 100)), "http://127.0.0.1:30480/", 5.0, SLO)
    return Report(
        stack="s1",
        namespace="ns",
        deployment="hello-api",
        measured_at="2026-11-27 10:00:00 UTC",
        slo=SLO,
        probe=probe,
        pods=[pod_figures(pod("hello-api-1"), {"hello-api-1": (0.001, 5 * 2**20)})],
        metrics_api="ok",
        history=history_figures([update(10, message="v1")]),
        mttr=mttr_figures(mttr_events or [], tmp_path / "s1.jsonl"),
        command=[],
        command_exit_code=None,
    )


def synthetic_timeline() -> Timeline:
    seconds = []
    for t in range(30):
        v1 = max(0, 5 - max(0, t - 10) // 2)
        seconds.append(
            Second(
                t,
                requests=20,
                errors=1 if t == 15 else 0,
                p99_ms=4.0 + t % 5,
                ready={"v1 👋": v1, "v2 🚀": 5 - v1} if t > 10 else {"v1 👋": 5},
            )
        )
    marks = [Mark(10.5, "pulumi started"), Mark(21.0, "pulumi ended (0)")]
    return Timeline(
        "synthetic rollout", 1_800_000_000.0, seconds, versions_in_order(seconds), marks
    )
