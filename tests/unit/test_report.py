"""The report's figures, table and picture, computed from synthetic data (no CLI, no cluster)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import matplotlib.image
import numpy
import pytest
from pulumi import automation as auto

from components.traffic import Answer, TrafficReport
from demo_orq import events, facts
from demo_orq.config import Slo
from demo_orq.report import (
    METRICS_UNAVAILABLE,
    HistoryFigures,
    Report,
    history_figures,
    main,
    mttr_figures,
    parse_arguments,
    pod_figures,
    pod_usage,
    probe_figures,
    quantity,
    table,
    write,
)
from demo_orq.timeline import (
    Mark,
    PodSample,
    Second,
    Timeline,
    bucket,
    draw,
    percentile,
    pod_version,
    ready_by_version,
    versions_in_order,
)

SLO = Slo(availability_percent=99.0, p99_ms=100)
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


# ---- probe figures and SLO marks ----


def test_percentiles_are_linear_between_ranks():
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == pytest.approx(50.5)
    assert percentile(values, 99) == pytest.approx(99.01)
    assert percentile([7.0], 99) == 7.0
    assert percentile([], 99) is None


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


@pytest.mark.parametrize(
    "text, expected",
    [("250m", 0.25), ("1", 1.0), ("1234567n", 0.001234567), ("64Mi", 64 * 2**20),
     ("12288Ki", 12 * 2**20), ("1e3", 1000.0), ("1G", 1e9)],
)  # fmt: skip
def test_kubernetes_quantities_in_base_units(text, expected):
    assert quantity(text) == pytest.approx(expected)


def test_a_bad_quantity_is_refused():
    with pytest.raises(ValueError, match="not a Kubernetes quantity: '12Qi'"):
        quantity("12Qi")


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


def test_a_version_is_the_text_and_a_foreign_image():
    assert pod_version(pod("a", text="v2")) == "v2"
    assert pod_version(pod("a", text="v2", image="registry.k8s.io/pause:3.9")) == (
        "v2 [registry.k8s.io/pause:3.9]"
    )
    pods = [pod("a", "v1"), pod("b", "v1"), pod("c", "v2"), pod("d", "v2", ready=False)]
    assert ready_by_version(pods) == {"v1": 2, "v2": 1}


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


def test_events_are_recorded_per_stack_and_give_the_mttr(tmp_path: Path):
    events.record("s1", "heal", 4.0, work_dir=tmp_path)
    events.record("s1", "failed-rollout", 50.0, "rolled back", work_dir=tmp_path)
    events.record("other", "heal", 99.0, work_dir=tmp_path)
    recorded = events.read("s1", tmp_path)
    path = events.events_file("s1", tmp_path)
    assert path == tmp_path / ".demo-orq" / "events" / "s1.jsonl"
    figures = mttr_figures(recorded, path)
    assert (figures.events, figures.mttr_seconds) == (2, 27.0)
    assert figures.by_kind_seconds == {"heal": 4.0, "failed-rollout": 50.0}
    assert mttr_figures([], path).mttr_seconds is None


@pytest.mark.parametrize(
    "kind, seconds, expected",
    [("nap", 1.0, "kind 'nap' (accepted: heal, failed-rollout, node-restart)"),
     ("heal", -1.0, "seconds -1.0 (accepted: a number from 0 to 86400)")],
)  # fmt: skip
def test_a_bad_event_is_refused(tmp_path: Path, kind, seconds, expected):
    with pytest.raises(ValueError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        events.record("s1", kind, seconds, work_dir=tmp_path)
    assert events.read("s1", tmp_path) == []


def test_the_events_command_records_and_lists(tmp_path: Path, capsys):
    argv = ["--stack", "s1", "--work-dir", str(tmp_path)]
    assert events.main(["record", *argv, "--kind", "heal", "--seconds", "4.2"]) == 0
    assert events.main(["list", *argv]) == 0
    listed = capsys.readouterr().out.splitlines()[-1]
    assert json.loads(listed)["seconds"] == 4.2


# ---- the table and the files ----


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


FIGURES = ("availability", "error rate", "latency p50", "latency p95", "latency p99",
           "pod hello-api-1 CPU", "pod hello-api-1 memory", "pod hello-api-1 restarts",
           "updates", "deploy time", "rollback rate", "failed-update rate", "MTTR")  # fmt: skip


def test_the_table_has_every_figure_and_marks_the_slo(tmp_path: Path):
    printed = table(a_report(tmp_path))
    for figure in FIGURES:
        assert f"\n{figure} " in printed, figure
    assert "100.000% (100/100 answered 200)" in printed
    assert "within SLO (>= 99%)" in printed
    assert "within SLO (<= 100 ms)" in printed
    assert "1.0m (request 50m, limit 200m, 0% of limit)" in printed
    assert "5.0Mi (request 64Mi, limit 128Mi, 4% of limit)" in printed
    assert "not measured (no recovery event recorded)" in printed


def test_the_table_shows_the_mttr_when_events_were_recorded(tmp_path: Path):
    recorded = [events.Event("heal", 3.0, 0.0), events.Event("heal", 5.0, 0.0)]
    assert "4.0 s over 2 events (heal 4.0 s)" in table(a_report(tmp_path, recorded))


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


def test_the_timeline_buckets_answers_and_pod_listings_per_second():
    load = [Answer(0.1, 0.010, "a"), Answer(0.5, 0.020, None, "refused"), Answer(1.2, 0.005, "a")]
    samples = [PodSample(0.4, {"v1": 3}), PodSample(1.6, {"v1": 2, "v2": 1})]
    seconds = bucket(load, samples, start=0.0, end=3.5)  # the last half second is left out
    assert [(s.t, s.requests, s.errors) for s in seconds] == [(0, 2, 1), (1, 1, 0), (2, 0, 0)]
    assert seconds[0].p99_ms == pytest.approx(10.0)
    assert seconds[2].p99_ms is None
    assert [s.ready for s in seconds] == [{"v1": 3}, {"v1": 2, "v2": 1}, {"v1": 2, "v2": 1}]
    assert versions_in_order(seconds) == ["v1", "v2"]


def test_the_picture_decodes_and_is_not_blank(tmp_path: Path):
    path = draw(synthetic_timeline(), tmp_path / "t.png", slo_p99_ms=100)
    pixels = matplotlib.image.imread(path)
    assert pixels.shape[0] > 500 and pixels.shape[1] > 800
    assert numpy.std(pixels[..., :3]) > 0.05
    assert len(numpy.unique(pixels.reshape(-1, pixels.shape[-1]), axis=0)) > 20


def test_the_report_writes_its_figures_and_picture(tmp_path: Path):
    json_path, picture = write(a_report(tmp_path), synthetic_timeline(), tmp_path / "out")
    document = json.loads(json_path.read_text(encoding="utf-8"))
    assert document["probe"]["availability_within_slo"] is True
    assert document["pods"][0]["cpu_millicores"] == 1.0
    assert len(document["timeline"]["seconds"]) == 30
    assert document["timeline"]["marks"][0] == {"t": 10.5, "label": "pulumi started"}
    assert document["picture"] == str(picture)
    assert matplotlib.image.imread(picture).size > 0


# ---- arguments ----


@pytest.mark.parametrize(
    "argv, expected",
    [
        (["--probe-seconds", "1"], "argument --probe-seconds: '1' (accepted: a number of seconds "
                                   "from 5 to 600)"),
        (["--probe-seconds", "soon"], "argument --probe-seconds: 'soon'"),
        (["--rate", "500"], "argument --rate: '500' (accepted: a number of requests per second "
                            "from 1 to 200)"),
        (["--work-dir", "/nonexistent"], "argument --work-dir: '/nonexistent' is not a folder"),
    ],
)  # fmt: skip
def test_bad_arguments_are_refused_with_one_line(argv, expected, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    assert expected in capsys.readouterr().err


def test_defaults_and_a_measured_command(tmp_path: Path):
    options = parse_arguments(["--work-dir", str(tmp_path), "--", "pulumi", "up", "--yes"])
    assert (options.stack, options.probe_seconds, options.rate) == ("dev", 30.0, 20.0)
    assert options.out == tmp_path / ".demo-orq" / "reports" / "dev"
    assert options.command == ["pulumi", "up", "--yes"]
