"""Cases 1, 2, 3, 4, 7 and 8: the demo deployed by Pulumi and by kubectl, one after the other, on
the same cluster and in the same run."""

from __future__ import annotations

import time
from collections.abc import Callable

from bench.pods import SELECTOR, readiness_span, uids, wait_for_new_ready_pods
from bench.timing import Figures, stopwatch
from bench.tools import REPLICAS, V1, V2, KubectlDemo, PulumiDemo, Tool
from demo_orq.kube import kubectl, namespace_exists
from demo_orq.traffic import SteadyLoad, TrafficReport

DEPLOY, ROLLOUT, NO_CHANGE = "1 cold deploy", "2 rollout v1->v2", "3 no-change check"
PHYSICAL, TRAFFIC, HEAL = "4 physical limit", "7 traffic, rollout v2->v1", "8 heal"
TEAR_DOWN = "9 tear down (extra)"
DEMO_CASES = {"1", "2", "3", "4", "7", "8"}
TRAFFIC_WINDOW_SECONDS = 5.0
TRAFFIC_RATE = 150
PHYSICAL_NOTE = "first new pod created -> last Ready; pod timestamps: 1 s resolution"


def run_demo_cases(runs: int, cases: set[str], figures: Figures) -> None:
    for sandbox in (PulumiDemo.sandbox, KubectlDemo.sandbox):
        if namespace_exists(sandbox.namespace):
            raise SystemExit(
                f"namespace {sandbox.namespace} already exists (another run or test?): "
                "the benchmark deploys its own and will not touch it"
            )
    tools: list[Tool] = []
    try:
        tools = [PulumiDemo(), KubectlDemo()]
        for run in range(1, runs + 1):
            for tool in tools:
                print(f"[bench] demo run {run}/{runs}: {tool.name}", flush=True)
                run_once(tool, cases, figures)
    finally:
        for tool in tools:
            tool.close()


def run_once(tool: Tool, cases: set[str], figures: Figures) -> None:
    """Deploy, roll out, check, roll back under traffic, heal, tear down; it always tears down."""
    try:
        measure_rollout(tool, figures, DEPLOY, tool.deploy, tool.deploy_command)
        tool.prepare(V2)
        measure_rollout(tool, figures, ROLLOUT, tool.roll_out, tool.rollout_command)
        if "3" in cases:
            with stopwatch() as elapsed:
                tool.check_no_change()
            figures.add(NO_CHANGE, tool.no_change_command, elapsed[0])
        if "7" in cases:
            measure_traffic(tool, figures)
        if "8" in cases:
            measure_heal(tool, figures)
    finally:
        with stopwatch() as elapsed:
            tool.tear_down()
    figures.add(TEAR_DOWN, f"{tool.name}: delete all, namespace gone", elapsed[0])


def measure_rollout(
    tool: Tool, figures: Figures, case: str, action: Callable[[], None], command: str
) -> None:
    """Times `action` until all new pods are Ready, and the cluster's own span of the same pods."""
    namespace = tool.sandbox.namespace
    old = uids(namespace) if namespace_exists(namespace) else set()
    with stopwatch() as elapsed:
        action()
    span = readiness_span(wait_for_new_ready_pods(namespace, REPLICAS, old))
    figures.add(case, command, elapsed[0])
    short = case.split(" ", 1)[1]
    figures.add(PHYSICAL, f"{short}: cluster span ({tool.name} runs)", span, note=PHYSICAL_NOTE)
    figures.add(PHYSICAL, f"{short}: {tool.name} overhead above it", elapsed[0] - span)


def measure_traffic(tool: Tool, figures: Figures) -> None:
    """SteadyLoad through the NodePort before, during and after a rollout (back to v1)."""
    namespace = tool.sandbox.namespace
    old = uids(namespace)
    tool.prepare(V1)
    with SteadyLoad(tool.sandbox.url, rate=TRAFFIC_RATE) as load:
        time.sleep(TRAFFIC_WINDOW_SECONDS)
        started = time.monotonic()
        tool.roll_out()
        ended = time.monotonic()
        time.sleep(TRAFFIC_WINDOW_SECONDS)
    wait_for_new_ready_pods(namespace, REPLICAS, old)
    windows = {"before": (0.0, started), "during": (started, ended), "after": (ended, float("inf"))}
    for window, (start, end) in windows.items():
        report = TrafficReport([a for a in load.report.answers if start <= a.started < end])
        prefix = f"{tool.name}, {window}:"
        figures.add(
            TRAFFIC,
            f"{prefix} requests/s",
            report.requests_per_second(),
            "req/s",
            note=f"{TRAFFIC_RATE} req/s offered, a new connection each, via the NodePort",
        )
        figures.add(TRAFFIC, f"{prefix} failed requests", len(report.failures), "count")
        for name, milliseconds in report.latency_percentiles_ms().items():
            figures.add(TRAFFIC, f"{prefix} {name} latency", milliseconds, "ms")


def measure_heal(tool: Tool, figures: Figures) -> None:
    namespace = tool.sandbox.namespace
    old = uids(namespace)
    with stopwatch() as elapsed:
        kubectl(
            "-n",
            namespace,
            "delete",
            "pod",
            "-l",
            SELECTOR,
            "--force",
            "--grace-period=0",
            "--wait=false",
        )
        new = wait_for_new_ready_pods(namespace, REPLICAS, old)
    figures.add(HEAL, f"delete all pods -> {REPLICAS} new Ready ({tool.name}'s app)", elapsed[0])
    figures.add(HEAL, f"cluster span ({tool.name}'s app)", readiness_span(new), note=PHYSICAL_NOTE)
