"""The headline case: Pulumi, kubectl and Helm run the demo's operations on the same cluster, in
the same run, each in its own sandbox, and each operation's time is split into the cluster's own
time and the tool's overhead above it (bench/spans.py).

Every run deploys from nothing and ends with an uninstall; the tools take turns operation by
operation inside a run, in an order that rotates from run to run. The BlueGreen switch back runs
in a sandbox of its own per tool, set up before it and removed after it (untimed).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field

from bench.spans import (
    ClusterWork,
    Span,
    deleting,
    deletion_work,
    endpoint_pod,
    endpoints,
    pods_after,
    ready,
    rollout_work,
    serves_only,
    split,
    switch_work,
    template,
    with_label,
)
from bench.timing import format_number, median
from bench.tools import (
    REPLICAS,
    SCALED,
    SWITCHED_FROM,
    SWITCHED_TO,
    V1,
    V2,
    Tool,
    blue_green_selector,
    make_tools,
)
from bench.watch import (
    ApiWatch,
    endpoint_slice_watch,
    namespace_watch,
    pod_watch,
    service_watch,
)
from demo_orq import facts
from demo_orq.kube import namespace_exists

SELECTOR = f"app={facts.DEPLOYMENT}"
SETTLE_TIMEOUT_SECONDS = 300


@dataclass(frozen=True)
class Operation:
    key: str
    title: str
    action: str
    """The Tool method that performs it."""
    version: tuple[str, int] | None = None
    """(message, replicas) prepared before it, untimed."""
    replicas: int | None = None
    """The pods the cluster must have Ready after it; None: it changes no pod."""
    removes: bool = False
    switch_to: str | None = None
    """BlueGreen: the color that the Service selects after it (in the tool's BlueGreen sandbox,
    set up before it and removed after it, untimed); the cluster is done when the Service's
    EndpointSlices list that color's pods alone."""

    @property
    def watched(self) -> bool:
        """The cluster has work to do, which its watches time."""
        return self.replicas is not None or self.removes or self.switch_to is not None


OPERATIONS = (
    Operation("deploy", f"cold deploy (v1, {REPLICAS} pods)", "apply", (V1, REPLICAS), REPLICAS),
    Operation("upgrade", f"upgrade v1 -> v2 ({REPLICAS} pods)", "apply", (V2, REPLICAS), REPLICAS),
    Operation("no-change", "no-change check", "check_no_change"),
    Operation("rollback", "rollback to v1 (previous)", "rollback", None, REPLICAS),
    Operation("scale", f"scale {REPLICAS} -> {SCALED}", "scale", (V1, SCALED), SCALED),
    Operation(
        "switch-back",
        f"BlueGreen switch back {SWITCHED_FROM} -> {SWITCHED_TO} ({REPLICAS} + {REPLICAS} pods)",
        "switch_back",
        switch_to=SWITCHED_TO,
    ),
    Operation("uninstall", "uninstall (namespace gone)", "uninstall", removes=True),
)


@dataclass
class Comparison:
    """The spans of every (operation, tool), one per run."""

    tools: list[str]
    commands: dict[str, dict[str, str]] = field(default_factory=dict)
    spans: dict[tuple[str, str], list[Span]] = field(default_factory=dict)
    traces: dict[tuple[str, str], list[list[list[object]]]] = field(default_factory=dict)
    failed_runs: list[str] = field(default_factory=list)

    def add(
        self, operation: str, tool: str, span: Span, trace: list[list[object]] | None = None
    ) -> None:
        self.spans.setdefault((operation, tool), []).append(span)
        self.traces.setdefault((operation, tool), []).append(trace or [])

    def of(self, operation: str, tool: str) -> list[Span]:
        return self.spans.get((operation, tool), [])

    def as_dict(self) -> dict[str, object]:
        return {
            "tools": self.tools,
            "commands": self.commands,
            "failed_runs": self.failed_runs,
            "spans": [
                {
                    "operation": operation,
                    "tool": tool,
                    "runs": [span_dict(s) for s in spans],
                    "pod_events": self.traces.get((operation, tool), []),
                }
                for (operation, tool), spans in self.spans.items()
            ],
        }


def span_dict(span: Span) -> dict[str, object]:
    return {
        "total": span.total,
        "cluster": span.cluster,
        "overhead": span.overhead,
        "before": span.before,
        "after": span.after,
        "first_probe": span.first_probe,
    }


def spread(values: list[float]) -> str:
    """`median [min..max]`, or the value of a single run."""
    if not values:
        return "-"
    if len(values) == 1:
        return format_number(values[0])
    return (
        f"{format_number(median(values))} "
        f"[{format_number(min(values))}..{format_number(max(values))}]"
    )


def ratios(medians: list[float]) -> list[str]:
    """Each median as a multiple of the smallest (`x1.0` for the fastest); none when a median
    is not positive (a ratio to zero or to a negative overhead means nothing). A tool without
    runs of the operation (nan) gets none and is left out of the others'."""
    present = [value for value in medians if value == value]
    if not present or any(not value > 0 for value in present):
        return [""] * len(medians)
    fastest = min(present)
    return [f" x{value / fastest:.1f}" if value == value else "" for value in medians]


MeasureRow = tuple[str, Callable[[Span], float | None], bool]
MEASURES: tuple[MeasureRow, ...] = (
    ("total s", lambda span: span.total, True),
    ("overhead s", lambda span: span.overhead, True),
    ("cluster s", lambda span: span.cluster, False),
    ("before / after s", lambda span: None, False),
)


def rows(comparison: Comparison) -> list[list[str]]:
    """The table: per operation, total, overhead, cluster, before/after, probes."""
    table = [["operation", "measure", *comparison.tools]]
    for operation in OPERATIONS:
        spans = [comparison.of(operation.key, tool) for tool in comparison.tools]
        if not any(spans):
            continue
        title = operation.title
        for measure, read, with_ratio in MEASURES:
            if not operation.watched and measure != "total s":
                continue
            if measure == "before / after s":
                cells = [before_after(runs) for runs in spans]
            else:
                values = [[v for v in map(read, runs) if v is not None] for runs in spans]
                shown = ratios([median(v) for v in values]) if with_ratio else [""] * len(values)
                cells = [spread(v) + ratio for v, ratio in zip(values, shown, strict=True)]
            table.append([title, measure, *cells])
            title = ""
        if operation.replicas is not None or operation.switch_to is not None:
            table.append(["", "first probe / early", *[probes(runs) for runs in spans]])
    return table


def before_after(runs: list[Span]) -> str:
    before = [span.before for span in runs if span.before is not None]
    after = [span.after for span in runs if span.after is not None]
    if not before:
        return "-"
    return f"{format_number(median(before))} / {format_number(median(after))}"


def probes(runs: list[Span]) -> str:
    """`k/N first, e early`: runs whose new pods were all Ready at their first readiness probe,
    and runs in which the tool returned before the cluster was done."""
    if not runs:
        return "-"
    first = sum(1 for span in runs if span.first_probe)
    early = returned_early(runs)
    if all(span.first_probe is None for span in runs):
        text = "no new pods"
    else:
        text = f"{first}/{len(runs)} at 1st probe"
    return text + (f", {early} returned early" if early else "")


def returned_early(runs: list[Span]) -> int:
    """The runs in which the tool returned before the cluster was done."""
    return sum(1 for span in runs if span.after is not None and span.after < 0)


def format_comparison(comparison: Comparison) -> str:
    return format_rows(rows(comparison))


def ratio_to_best(ours: float, theirs: dict[str, float], early: dict[str, int]) -> str:
    """`ours` divided by the smallest of the other tools' medians (`theirs`, by tool; a missing
    or non-positive one is left out), with that tool's name and, when it returned before the
    cluster was done in some runs (`early`, by tool), how many: its median then ends before
    the cluster's work did."""
    positive = {name: value for name, value in theirs.items() if value > 0}
    if not positive or ours != ours:
        return "-"
    best = min(positive, key=lambda name: positive[name])
    note = f", {early[best]} returned early" if early.get(best) else ""
    return f"{ours / positive[best]:.1f} ({best}{note})"


def ratio_rows(comparison: Comparison, tool: str) -> list[list[str]]:
    """`tool`'s medians divided by each other tool's, total and overhead, per operation, and by
    the best (smallest) of the others'."""
    others = [other for other in comparison.tools if other != tool]
    best = "best" if len(others) > 1 else ""
    table = [["operation"]]
    for measure in ("total", "overhead"):
        table[0] += [f"{measure} {tool}/{other}" for other in others]
        table[0] += [f"{measure} {tool}/{best}"] if best else []
    for operation in OPERATIONS:
        mine = comparison.of(operation.key, tool)
        if not mine:
            continue
        early = {other: returned_early(comparison.of(operation.key, other)) for other in others}
        cells = []
        for read in (lambda span: span.total, lambda span: span.overhead):
            ours = median([read(span) for span in mine])
            theirs = {
                other: median([read(span) for span in comparison.of(operation.key, other)])
                for other in others
            }
            cells += [f"{ours / value:.1f}" if value > 0 else "-" for value in theirs.values()]
            cells += [ratio_to_best(ours, theirs, early)] if best else []
        table.append([operation.title, *cells])
    return table


def format_rows(table: list[list[str]]) -> str:
    widths = [max(len(row[column]) for row in table) for column in range(len(table[0]))]
    lines = []
    for index, row in enumerate(table):
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(line.rstrip() for line in lines)


def markdown_rows(table: list[list[str]]) -> str:
    lines = ["| " + " | ".join(table[0]) + " |", "|" + "---|" * len(table[0])]
    lines += ["| " + " | ".join(row) + " |" for row in table[1:]]
    return "\n".join(lines)


def markdown_comparison(comparison: Comparison) -> str:
    text = markdown_rows(rows(comparison))
    if "pulumi" in comparison.tools and len(comparison.tools) > 1:
        text += "\n\nMedian ratios:\n\n" + markdown_rows(ratio_rows(comparison, "pulumi"))
    return text


def wait_for_work(
    pods: ApiWatch,
    namespaces: ApiWatch,
    operation: Operation,
    started: float,
) -> ClusterWork:
    deadline = time.monotonic() + SETTLE_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if operation.removes:
            work = deletion_work(pods.snapshot(), namespaces.snapshot(), started)
        else:
            assert operation.replicas is not None
            work = rollout_work(pods.initial, pods.snapshot(), started, operation.replicas)
        if work is not None:
            return work
        time.sleep(0.1)
    raise TimeoutError(
        f"the cluster did not finish '{operation.title}' in {SETTLE_TIMEOUT_SECONDS}s; "
        f"pods now: {pod_summary(pods)}"
    )


def pod_summary(pods: ApiWatch) -> str:
    """name (template, Ready, deleting) of each pod the watch knows, for a failure message."""
    state = pods_after(pods.initial, pods.snapshot())
    described = [
        f"{pod['metadata']['name']} ({template(pod)}, ready={ready(pod)}, deleting={deleting(pod)})"
        for pod in state.values()
    ]
    return ", ".join(described) or "none"


def measure(
    tool: Tool, operation: Operation, pods: ApiWatch, namespaces: ApiWatch
) -> tuple[Span, list[list[object]]]:
    """The operation's span, and the pod events during it (compact, for a second look)."""
    if operation.version is not None:
        tool.prepare(*operation.version)
    if operation.switch_to is not None:
        return measure_switch(tool, operation.switch_to)
    action: Callable[[], None] = getattr(tool, operation.action)
    started = time.monotonic()
    action()
    ended = time.monotonic()
    if not operation.watched:
        return split(started, ended, None), []
    work = wait_for_work(pods, namespaces, operation, started)
    return split(started, ended, work), trace(pods, started, max(ended, work.done))


def trace(pods: ApiWatch, started: float, ended: float) -> list[list[object]]:
    """[seconds since start, event, pod, template, Ready, deleting] of the pod events between."""
    return [
        [round(event.arrived - started, 3), event.type, event.object["metadata"]["name"],
         template(event.object), ready(event.object), deleting(event.object)]
        for event in pods.snapshot()
        if started - 0.5 <= event.arrived <= ended + 0.5
    ]  # fmt: skip


def measure_switch(tool: Tool, color: str) -> tuple[Span, list[list[object]]]:
    """The switch back to `color` in the tool's BlueGreen sandbox, which it sets up before (and
    waits until the Service's EndpointSlices list the other color's pods alone) and removes
    after, untimed; and the Service's and its slices' events during it."""
    namespace = tool.blue_green.namespace
    try:
        tool.set_up_blue_green()
        with ExitStack() as stack:
            pods = stack.enter_context(pod_watch(namespace, SELECTOR))
            slices = stack.enter_context(endpoint_slice_watch(namespace, facts.SERVICE))
            services = stack.enter_context(service_watch(namespace, facts.SERVICE))
            state = pods_after(pods.initial, pods.snapshot())
            wanted, was = (
                with_label(state, "color", color),
                with_label(state, "color", SWITCHED_FROM),
            )
            settle(slices, was, f"{facts.SERVICE} to serve {SWITCHED_FROM} alone")
            started = time.monotonic()
            tool.switch_back()
            ended = time.monotonic()
            work = wait_for_switch(slices, services, started, blue_green_selector(color), wanted)
            changed = [
                event
                for event in pods.snapshot()
                if event.arrived >= started and (event.type != "MODIFIED" or deleting(event.object))
            ]
            if changed:
                raise AssertionError(f"pods came or went during the switch: {pod_summary(pods)}")
            events = switch_trace(slices, services, started, max(ended, work.done))
            return split(started, ended, work), events
    finally:
        tool.remove_blue_green()


def settle(slices: ApiWatch, pods: set[str], what: str) -> None:
    deadline = time.monotonic() + SETTLE_TIMEOUT_SECONDS
    while not serves_only(pods_after(slices.initial, slices.snapshot()), pods):
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {SETTLE_TIMEOUT_SECONDS}s waiting for {what}")
        time.sleep(0.1)


def wait_for_switch(
    slices: ApiWatch, services: ApiWatch, started: float, selector: dict[str, str], pods: set[str]
) -> ClusterWork:
    deadline = time.monotonic() + SETTLE_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        work = switch_work(
            slices.initial, slices.snapshot(), services.snapshot(), started, selector, pods
        )
        if work is not None:
            return work
        time.sleep(0.1)
    listed = endpoints(pods_after(slices.initial, slices.snapshot()))
    raise TimeoutError(
        f"the Service did not switch to {selector} in {SETTLE_TIMEOUT_SECONDS}s; its endpoints "
        f"now: {[(endpoint_pod(e), e.get('conditions')) for e in listed]}, wanted {pods}"
    )


def switch_trace(
    slices: ApiWatch, services: ApiWatch, started: float, ended: float
) -> list[list[object]]:
    """[seconds since start, event, object, what it says] of the Service (its selector) and its
    EndpointSlices (each endpoint's pod and Ready) between."""
    events = [
        [round(event.arrived - started, 3), event.type, "service",
         (event.object.get("spec") or {}).get("selector")]
        for event in services.snapshot()
        if started - 0.5 <= event.arrived <= ended + 0.5
    ] + [
        [round(event.arrived - started, 3), event.type, event.object["metadata"]["name"],
         [[(e.get("targetRef") or {}).get("name"), (e.get("conditions") or {}).get("ready")]
          for e in event.object.get("endpoints") or []]]
        for event in slices.snapshot()
        if started - 0.5 <= event.arrived <= ended + 0.5
    ]  # fmt: skip
    return sorted(events, key=lambda row: float(str(row[0])))


def refuse_existing_namespaces(tools: list[Tool]) -> None:
    taken = [ns for tool in tools for ns in tool.namespaces() if namespace_exists(ns)]
    if taken:
        raise SystemExit(
            f"namespaces {taken} already exist (another run or test?): the benchmark deploys "
            "its own and will not touch them"
        )


def run_comparison(runs: int, operations: set[str] | None = None) -> Comparison:
    """`runs` rounds of the operations (all, or those named; deploy and uninstall always)."""
    chosen = [
        op
        for op in OPERATIONS
        if operations is None or op.key in operations or op.key in ("deploy", "uninstall")
    ]
    tools: list[Tool] = []
    try:
        tools = make_tools()
        refuse_existing_namespaces(tools)
        comparison = Comparison(
            [tool.name for tool in tools], {tool.name: tool.commands for tool in tools}
        )
        for run in range(runs):
            order = tools[run % len(tools) :] + tools[: run % len(tools)]
            print(
                f"[bench] run {run + 1}/{runs}: {', '.join(tool.name for tool in order)}",
                flush=True,
            )
            try:
                run_round(order, chosen, comparison)
            except Exception as error:
                # On a shared machine a run can fail for reasons of its own (a component
                # restarted, a plugin reinstalled): it is reported and left out, whole.
                print(f"[bench] run {run + 1} failed and is left out: {error}", flush=True)
                comparison.failed_runs.append(f"run {run + 1}: {str(error)[:2000]}")
        if len(comparison.failed_runs) == runs:
            raise RuntimeError(f"every run failed: {comparison.failed_runs}")
        return comparison
    finally:
        for tool in tools:
            tool.close()


def run_round(tools: list[Tool], operations: list[Operation], comparison: Comparison) -> None:
    """One run: every tool performs every operation, taking turns operation by operation; its
    figures count only once the whole run went through."""
    with ExitStack() as stack:
        watches = [
            (
                stack.enter_context(pod_watch(tool.sandbox.namespace, SELECTOR)),
                stack.enter_context(namespace_watch(tool.sandbox.namespace)),
            )
            for tool in tools
        ]
        measured: list[tuple[str, str, Span, list[list[object]]]] = []
        try:
            for operation in operations:
                for tool, (pods, namespaces) in zip(tools, watches, strict=True):
                    span, events = measure(tool, operation, pods, namespaces)
                    measured.append((operation.key, tool.name, span, events))
                    print(f"[bench]   {tool.name:8} {operation.key:10} {describe(span)}")
        except BaseException:
            for tool in tools:
                tool.clean_up()
            raise
    for operation_key, tool_name, span, events in measured:
        comparison.add(operation_key, tool_name, span, events)
    for tool in tools:
        # Helm leaves its release namespace behind; nothing else is left after an uninstall.
        tool.clean_up()


def describe(span: Span) -> str:
    text = f"{span.total:6.2f} s"
    if span.cluster is not None:
        text += f"  cluster {span.cluster:5.2f}  before {span.before:5.2f}  after {span.after:5.2f}"
    return text
