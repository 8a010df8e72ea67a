"""The benchmark's own helpers work (bench/timing.py, spans.py, compare.py); no timing is
asserted."""

import json
import math

from bench.compare import (
    Comparison,
    format_comparison,
    markdown_comparison,
    ratio_rows,
    ratios,
)
from bench.spans import Span, all_at_first_probe, deletion_work, rollout_work, split
from bench.timing import Figure, Figures, format_figure, format_table, stopwatch
from bench.watch import Event


def test_a_figure_has_the_median_and_the_spread_of_its_runs():
    figure = Figure("1 cold deploy", "pulumi up", values=[3.0, 1.0, 2.0, 10.0])

    assert figure.median == 2.5
    assert figure.spread == (1.0, 10.0)
    assert format_figure(figure) == "2.50 [1.00..10.0]"


def test_a_figure_without_runs_shows_a_dash_and_one_run_shows_its_value():
    assert math.isnan(Figure("c", "m").median)
    assert format_figure(Figure("c", "m")) == "- [-..-]"
    assert format_figure(Figure("c", "m", values=[123.4])) == "123"


def test_figures_are_listed_by_case_number_then_in_the_order_of_first_use():
    figures = Figures()
    figures.add("10 start-up overhead", "python -c pass", 0.1)
    figures.get("5 scaling", "pulumi up, N=30")
    figures.add("5 scaling", "pulumi up, N=1", 1.0)
    figures.add("5 scaling", "pulumi up, N=30", 9.0, note="runs=1")

    assert [(f.what, f.values, f.note) for f in figures] == [
        ("pulumi up, N=30", [9.0], "runs=1"),
        ("pulumi up, N=1", [1.0], ""),
        ("python -c pass", [0.1], ""),
    ]


def test_the_table_has_a_header_and_one_row_per_figure_and_the_json_is_plain():
    figures = Figures()
    figures.add("1 cold deploy", "pulumi up", 12.0)
    figures.add("7 traffic", "pulumi, during: failed requests", 0, unit="count", note="150 req/s")

    lines = format_table(figures).splitlines()
    assert lines[0].split() == ["case", "measure", "unit", "runs", "median", "[min..max]", "note"]
    assert len(lines) == 4 and lines[3].endswith("150 req/s")
    row = json.loads(json.dumps([f.as_dict() for f in figures]))[0]
    assert (row["median"], row["min"], row["max"], row["runs"]) == (12.0, 12.0, 12.0, 1)


def test_the_stopwatch_measures_also_when_the_block_fails():
    try:
        with stopwatch() as elapsed:
            raise RuntimeError
    except RuntimeError:
        pass
    assert len(elapsed) == 1 and elapsed[0] >= 0


# bench/spans.py and bench/compare.py: the cluster's own time from watch events, the table.


def pod(name: str, template: str, ready: bool = False, deleting: bool = False, **times: str):
    """A pod as the API sends it; times: started, ready_at (ISO, 1 s resolution)."""
    metadata = {"uid": name, "name": name, "labels": {"pod-template-hash": template}}
    if deleting:
        metadata["deletionTimestamp"] = "2026-01-01T00:00:30Z"
    status = {"conditions": [{"type": "Ready", "status": "True" if ready else "False",
                              "lastTransitionTime": times.get("ready_at", "")}]}  # fmt: skip
    if "started" in times:
        status["containerStatuses"] = [{"state": {"running": {"startedAt": times["started"]}}}]
    return {"metadata": metadata, "status": status}


def at(arrived: float, kind: str, obj) -> Event:
    return Event(arrived, kind, obj)


def test_a_rollout_is_done_when_only_new_pods_live_and_all_are_ready():
    old = [pod("a", "v1", ready=True), pod("b", "v1", ready=True)]
    events = [
        at(9.0, "MODIFIED", pod("a", "v1", ready=True)),  # before the operation: not counted
        at(11.0, "ADDED", pod("c", "v2")),
        at(11.1, "MODIFIED", pod("a", "v1", ready=True, deleting=True)),
        at(12.0, "ADDED", pod("d", "v2")),
        at(13.0, "MODIFIED", pod("c", "v2", ready=True, started="T00:00:10Z")),
        at(13.5, "MODIFIED", pod("b", "v1", ready=True, deleting=True)),
        at(14.0, "DELETED", pod("a", "v1", deleting=True)),
        at(15.0, "MODIFIED", pod("d", "v2", ready=True)),
        at(16.0, "DELETED", pod("b", "v1", deleting=True)),
    ]
    work = rollout_work(old, events, started=10.0, replicas=2)
    assert work is not None
    assert (work.first, work.done) == (11.0, 15.0)
    assert sorted(p["metadata"]["name"] for p in work.new_pods) == ["c", "d"]
    assert rollout_work(old, events[:6], started=10.0, replicas=2) is None


def test_a_scale_up_is_done_when_the_added_pods_are_ready_too():
    old = [pod("a", "v1", ready=True)]
    events = [at(11.0, "ADDED", pod("b", "v1")), at(12.5, "MODIFIED", pod("b", "v1", ready=True))]
    work = rollout_work(old, events, started=10.0, replicas=2)
    assert work is not None and (work.first, work.done) == (11.0, 12.5)


def test_an_uninstall_is_done_when_the_namespace_is_gone():
    pods = [at(11.0, "MODIFIED", pod("a", "v1", deleting=True)), at(12, "DELETED", pod("a", "v1"))]
    namespace = {"metadata": {"uid": "ns", "name": "ns", "deletionTimestamp": "x"}}
    namespaces = [at(11.5, "MODIFIED", namespace), at(14.0, "DELETED", namespace)]
    work = deletion_work(pods, namespaces, started=10.0)
    assert work is not None and (work.first, work.done) == (11.0, 14.0)
    assert deletion_work(pods, namespaces[:1], started=10.0) is None


def test_a_span_splits_the_tools_time_around_the_clusters():
    work = rollout_work(
        [], [at(11.0, "ADDED", pod("a", "v1")), at(14.0, "MODIFIED", pod("a", "v1", True))], 10.0, 1
    )
    span = split(10.0, 14.5, work)
    assert (span.total, span.cluster, span.before, span.after) == (4.5, 3.0, 1.0, 0.5)
    assert span.overhead == 1.5
    early = split(10.0, 13.0, work)
    assert early.after == -1.0 and early.overhead == 1.0
    assert split(10.0, 11.5, None).overhead == 1.5 and split(10.0, 11.5, None).cluster is None


def test_a_pod_ready_2_s_after_its_start_had_the_first_probe_and_7_s_a_later_one():
    first = pod("a", "v", True, started="2026-01-01T00:00:10Z", ready_at="2026-01-01T00:00:12Z")
    later = pod("b", "v", True, started="2026-01-01T00:00:10Z", ready_at="2026-01-01T00:00:17Z")
    assert all_at_first_probe([first]) and not all_at_first_probe([first, later])


def test_ratios_are_to_the_fastest_and_left_out_when_a_median_is_not_positive():
    assert ratios([2.0, 1.0, 4.0]) == [" x2.0", " x1.0", " x4.0"]
    assert ratios([2.0, -0.5]) == ["", ""]


def test_the_comparison_table_has_the_tools_side_by_side_with_probes_and_early_returns():
    comparison = Comparison(["pulumi", "kubectl"])
    for tool, total, cluster, after in (("pulumi", 6.0, 4.0, 0.5), ("kubectl", 4.5, 4.0, -0.1)):
        comparison.add("deploy", tool, Span(total, cluster, total - cluster - after, after, True))
        comparison.add("no-change", tool, Span(total / 4))
    lines = format_comparison(comparison).splitlines()
    assert lines[0].split() == ["operation", "measure", "pulumi", "kubectl"]
    overhead = next(line for line in lines if "overhead s" in line)
    # kubectl returned 0.1 s before the cluster was done: its overhead is its time before.
    assert "2.00 x3.3" in overhead and "0.60 x1.0" in overhead
    assert any("1/1 at 1st probe, 1 returned early" in line for line in lines)
    assert "| no-change check | total s | 1.50 x1.3 | 1.12 x1.0 |" in markdown_comparison(
        comparison
    )


def test_the_ratios_divide_pulumis_medians_by_each_other_tools():
    comparison = Comparison(["pulumi", "kubectl", "helm"])
    for tool, total in (("pulumi", 3.0), ("kubectl", 1.0), ("helm", 2.0)):
        comparison.add("no-change", tool, Span(total))
    table = ratio_rows(comparison, "pulumi")
    assert table[0][1:] == [
        "total pulumi/kubectl",
        "total pulumi/helm",
        "overhead pulumi/kubectl",
        "overhead pulumi/helm",
    ]
    assert table[1] == ["no-change check", "3.0", "1.5", "3.0", "1.5"]
