"""The benchmark's own helpers work (bench/timing.py, spans.py, compare.py, tools.py); no timing
is asserted."""

import json
import math

from bench.compare import (
    Comparison,
    format_comparison,
    markdown_comparison,
    probes,
    ratio_rows,
    ratio_to_best,
    ratios,
)
from bench.spans import (
    Span,
    all_at_first_probe,
    deletion_work,
    rollout_work,
    serves_only,
    split,
    switch_work,
    with_label,
)
from bench.timing import Figure, Figures, format_figure, format_table, stopwatch
from bench.tools import V1, V2, blue_green_objects, blue_green_selector
from bench.watch import Event
from tests.sandbox import SANDBOXES


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


def test_a_tool_without_runs_of_an_operation_gets_no_ratio_and_the_others_keep_theirs():
    assert ratios([2.0, math.nan, 1.0]) == [" x2.0", "", " x1.0"]


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
        "total pulumi/best",
        "overhead pulumi/kubectl",
        "overhead pulumi/helm",
        "overhead pulumi/best",
    ]
    assert table[1] == ["no-change check", "3.0", "1.5", "3.0 (kubectl)", "3.0", "1.5",
                        "3.0 (kubectl)"]  # fmt: skip


def test_the_ratio_to_the_best_names_it_and_says_when_it_returned_before_the_cluster_was_done():
    assert ratio_to_best(6.0, {"kubectl": 4.0, "helm": 3.0}, {"helm": 4}) == (
        "2.0 (helm, 4 returned early)"
    )
    assert ratio_to_best(6.0, {"kubectl": 4.0, "helm": 3.0}, {"kubectl": 2}) == "2.0 (helm)"
    # A tool without runs (nan) or with a median that is not positive is left out.
    assert ratio_to_best(6.0, {"kubectl": 4.0, "helm": math.nan}, {}) == "1.5 (kubectl)"
    assert ratio_to_best(6.0, {"kubectl": 0.0, "helm": 2.0}, {}) == "3.0 (helm)"
    assert ratio_to_best(6.0, {"kubectl": math.nan}, {}) == "-"


def test_the_ratios_per_operation_take_the_best_of_each_measure_apart():
    comparison = Comparison(["pulumi", "kubectl", "helm"])
    # Helm's total is the smaller (it returned 1 s before the cluster was done), kubectl's
    # overhead is.
    comparison.add("deploy", "pulumi", Span(8.0, 5.0, 2.0, 1.0, True))
    comparison.add("deploy", "kubectl", Span(6.0, 5.0, 0.5, 0.5, True))
    comparison.add("deploy", "helm", Span(5.0, 5.0, 1.0, -1.0, True))
    table = ratio_rows(comparison, "pulumi")
    assert table[1] == ["cold deploy (v1, 3 pods)", "1.3", "1.6", "1.6 (helm, 1 returned early)",
                        "3.0", "3.0", "3.0 (kubectl)"]  # fmt: skip


def slice_of(name: str, *endpoints: tuple[str, bool], deleting: bool = False):
    """An EndpointSlice of the Service listing pods (uid, Ready)."""
    metadata = {"uid": name, "name": name}
    if deleting:
        metadata["deletionTimestamp"] = "2026-01-01T00:00:30Z"
    return {
        "metadata": metadata,
        "endpoints": [
            {"targetRef": {"kind": "Pod", "uid": pod, "name": pod}, "conditions": {"ready": ok}}
            for pod, ok in endpoints
        ],
    }


def service_selecting(color: str):
    return {"metadata": {"uid": "svc", "name": "svc"},
            "spec": {"selector": {"app": "hello-api", "color": color}}}  # fmt: skip


BLUE = {"app": "hello-api", "color": "blue"}


def test_a_service_serves_only_the_given_pods_when_its_slices_list_them_all_ready():
    pods = {"b1", "b2"}
    assert serves_only({"s": slice_of("s", ("b1", True), ("b2", True))}, pods)
    assert not serves_only({"s": slice_of("s", ("b1", True), ("b2", False))}, pods)
    assert not serves_only({"s": slice_of("s", ("b1", True))}, pods)
    assert not serves_only({"s": slice_of("s", ("b1", True), ("b2", True), ("g1", True))}, pods)
    # Across slices; a slice being deleted lists nothing.
    two = {"s": slice_of("s", ("b1", True)), "t": slice_of("t", ("b2", True))}
    assert serves_only(two, pods)
    gone = {**two, "u": slice_of("u", ("g1", True), deleting=True)}
    assert serves_only(gone, pods)
    assert not serves_only({}, set())


def test_a_switch_is_done_when_the_slices_list_only_the_new_colors_pods():
    green = [slice_of("s", ("g1", True), ("g2", True))]
    services = [
        at(9.0, "MODIFIED", service_selecting("green")),  # the switch before: not this one
        at(11.0, "MODIFIED", service_selecting("blue")),
    ]
    slices = [
        at(9.5, "MODIFIED", slice_of("s", ("g1", True), ("g2", True))),
        at(11.05, "MODIFIED", slice_of("s", ("g1", True), ("b1", True))),  # half-way
        at(11.08, "MODIFIED", slice_of("s", ("b1", True), ("b2", False))),  # b2 not Ready
        at(11.1, "MODIFIED", slice_of("s", ("b1", True), ("b2", True))),
        at(11.3, "MODIFIED", slice_of("s", ("b1", True), ("b2", True))),
    ]
    work = switch_work(green, slices, services, 10.0, BLUE, {"b1", "b2"})
    assert work is not None and (work.first, work.done) == (11.0, 11.1)
    assert work.new_pods == ()
    assert switch_work(green, slices[:3], services, 10.0, BLUE, {"b1", "b2"}) is None
    # Not before the Service was seen to select the new color.
    assert switch_work(green, slices, services[:1], 10.0, BLUE, {"b1", "b2"}) is None


def test_a_switch_starts_at_the_first_slice_change_if_it_came_before_the_services_event():
    green = [slice_of("s", ("g1", True))]
    services = [at(11.2, "MODIFIED", service_selecting("blue"))]
    slices = [
        at(11.1, "DELETED", slice_of("s", ("g1", True))),
        at(11.15, "ADDED", slice_of("t", ("b1", True))),
    ]
    work = switch_work(green, slices, services, 10.0, BLUE, {"b1"})
    assert work is not None and (work.first, work.done) == (11.1, 11.15)


def test_the_pods_of_a_color_are_the_live_ones_with_its_label():
    def colored(name: str, color: str, deleting: bool = False):
        labelled = pod(name, "h", True, deleting)
        labelled["metadata"]["labels"]["color"] = color
        return labelled

    listed = [colored("b1", "blue"), colored("g1", "green"), colored("b0", "blue", deleting=True)]
    pods = {p["metadata"]["uid"]: p for p in listed}
    assert with_label(pods, "color", "blue") == {"b1"}


def test_an_operation_without_new_pods_shows_only_its_early_returns():
    runs = [Span(0.2, 0.05, 0.18, -0.03), Span(0.2, 0.05, 0.1, 0.05)]
    assert probes(runs) == "no new pods, 1 returned early"
    assert probes([Span(1.0, 0.5, 0.2, 0.3, True)]) == "1/1 at 1st probe"


def test_the_blue_green_objects_of_kubectl_and_helm_select_one_color_each():
    sandbox = SANDBOXES["bench-kubectl-bg"]
    objects = {(o["kind"], o["metadata"]["name"]): o for o in blue_green_objects(sandbox, "green")}
    assert sorted(objects) == [
        ("Deployment", "hello-api-blue"),
        ("Deployment", "hello-api-green"),
        ("Namespace", sandbox.namespace),
        ("Service", "hello-svc"),
    ]
    for color, message in (("blue", V1), ("green", V2)):
        spec = objects["Deployment", f"hello-api-{color}"]["spec"]
        assert spec["selector"]["matchLabels"] == spec["template"]["metadata"]["labels"]
        assert spec["selector"]["matchLabels"] == blue_green_selector(color)
        assert spec["template"]["spec"]["containers"][0]["args"][0] == f"-text={message}"
        assert spec["replicas"] == 3
    service = objects["Service", "hello-svc"]
    assert service["spec"]["selector"] == blue_green_selector("green")
    assert service["spec"]["ports"][0]["nodePort"] == sandbox.node_port
