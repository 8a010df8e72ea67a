"""Case 5 (a stack of N HelloApp instances on the cluster) and case 6 (the same program evaluated
alone under mocks): how preview and update times grow with N."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from bench.evaluate import MANY_APPS, PROJECT
from bench.timing import Figures, stopwatch
from bench.tools import delete_namespace, wait_namespace_gone
from demo_orq import facts
from demo_orq.facts import PROJECT_DIR
from demo_orq.kube import namespace_exists
from tests.sandbox import ProjectCopy, cluster_location

SCALING, EVALUATION = "5 scaling", "6 evaluation"
SIZES = (1, 10, 30)
LARGEST_RUNS = 1  # N=30 takes minutes per run: one run keeps the whole benchmark short.


def runs_for(apps: int, runs: int) -> int:
    return min(runs, LARGEST_RUNS) if apps == max(SIZES) else runs


def size_note(apps: int, runs: int) -> str:
    return "runs=1 to keep the benchmark short" if runs_for(apps, runs) < runs else ""


def copy_many_apps(destination: Path) -> ProjectCopy:
    """bench/many_apps with the component next to it, as copy_project does for the program."""
    shutil.copytree(MANY_APPS, destination, ignore=shutil.ignore_patterns("__pycache__"))
    for package in ("components", "demo_orq"):
        shutil.copytree(
            PROJECT_DIR / package,
            destination / package,
            ignore=shutil.ignore_patterns("__pycache__"),
        )
    (destination / "venv").symlink_to(PROJECT_DIR / "venv")
    (destination / ".state").mkdir()
    return ProjectCopy(destination)


def many_apps_config(apps: int) -> dict[str, str]:
    return {
        f"{PROJECT}:apps": str(apps),
        # The many-apps program hands the path to the provider as it is: expand ~ here.
        **{
            key.replace(f"{facts.PROJECT}:", f"{PROJECT}:"): os.path.expanduser(value)
            for key, value in cluster_location().items()
        },
    }


def namespaces(apps: int) -> list[str]:
    return [f"bench-{index}" for index in range(apps)]


def timed(figures: Figures, what: str, action: Callable[[], object], note: str = "") -> float:
    with stopwatch() as elapsed:
        action()
    figures.add(SCALING, what, elapsed[0], note=note)
    return elapsed[0]


def resource_count(project: ProjectCopy, stack: str) -> int:
    exported = json.loads(project.pulumi("stack", "export", "--stack", stack).stdout)
    return len(exported["deployment"].get("resources") or [])


def measure_scaling_once(apps: int, figures: Figures, note: str) -> int:
    """Preview, up, no-change preview and destroy of a new stack of N apps; its resource count."""
    leftovers = [name for name in namespaces(apps) if namespace_exists(name)]
    if leftovers:
        raise SystemExit(f"namespaces {leftovers} already exist: the benchmark will not touch them")
    stack = f"n{apps}"
    with tempfile.TemporaryDirectory(prefix="bench-many-apps-") as directory:
        project = copy_many_apps(Path(directory) / "project")
        project.new_stack(stack, many_apps_config(apps))
        try:
            timed(
                figures,
                f"pulumi preview, empty stack, N={apps}",
                lambda: project.pulumi("preview", "--stack", stack),
                note,
            )
            up = timed(
                figures,
                f"pulumi up, N={apps}",
                lambda: project.pulumi(
                    "up", "--yes", "--skip-preview", "--stack", stack, timeout=1800
                ),
                note,
            )
            resources = resource_count(project, stack)
            preview = timed(
                figures,
                f"pulumi preview, no change, N={apps}",
                lambda: project.pulumi("preview", "--expect-no-changes", "--stack", stack),
                note,
            )
            counted = f"{resources} resources; {note}".rstrip("; ")
            figures.add(
                SCALING, f"up per resource, N={apps}", 1000 * up / resources, "ms/res", counted
            )
            figures.add(
                SCALING,
                f"no-change preview per resource, N={apps}",
                1000 * preview / resources,
                "ms/res",
                counted,
            )
        finally:
            try:
                timed(
                    figures,
                    f"pulumi destroy, N={apps}",
                    lambda: project.pulumi(
                        "destroy", "--yes", "--skip-preview", "--stack", stack, timeout=1800
                    ),
                    note,
                )
                project.pulumi("stack", "rm", "--yes", stack)
            except BaseException:
                # The stack's state goes with the directory: leave no object of it behind either.
                for name in namespaces(apps):
                    delete_namespace(name)
                raise
            for name in namespaces(apps):
                wait_namespace_gone(name)
    return resources


def order_rows(figures: Figures, case: str, measures: list[tuple[str, str]]) -> None:
    """Creates the rows measure by measure, N after N, so that the table reads down a measure."""
    for measure, unit in measures:
        for apps in SIZES:
            figures.get(case, f"{measure}, N={apps}", unit)


def run_scaling(runs: int, figures: Figures) -> None:
    order_rows(
        figures,
        SCALING,
        [
            ("pulumi preview, empty stack", "s"),
            ("pulumi up", "s"),
            ("pulumi preview, no change", "s"),
            ("up per resource", "ms/res"),
            ("no-change preview per resource", "ms/res"),
            ("pulumi destroy", "s"),
        ],
    )
    resources: dict[int, int] = {}
    for apps in SIZES:
        for run in range(1, runs_for(apps, runs) + 1):
            print(f"[bench] scaling N={apps} run {run}/{runs_for(apps, runs)}", flush=True)
            resources[apps] = measure_scaling_once(apps, figures, size_note(apps, runs))
    for measure in ("pulumi up", "pulumi preview, no change", "pulumi destroy"):
        add_marginal_costs(figures, SCALING, measure, resources)


def add_marginal_costs(
    figures: Figures, case: str, measure: str, resources: dict[int, int]
) -> None:
    """What each resource added between two sizes costs, from the medians: the cost per resource
    is flat when these rows agree (the average per resource also spreads the fixed costs)."""
    for small, large in itertools.pairwise(SIZES):
        extra = (
            figures.get(case, f"{measure}, N={large}").median
            - figures.get(case, f"{measure}, N={small}").median
        )
        figures.add(
            case,
            f"{measure}: per added resource, N={small}->{large}",
            1000 * extra / (resources[large] - resources[small]),
            "ms/res",
            "difference of the medians",
        )


def evaluate_in_fresh_python(apps: int) -> dict[str, float]:
    with stopwatch() as elapsed:
        completed = subprocess.run(
            [sys.executable, "-m", "bench.evaluate", str(apps)],
            cwd=PROJECT_DIR,
            capture_output=True,
            text=True,
            check=True,
            timeout=300,
        )
    return {**json.loads(completed.stdout), "process_seconds": elapsed[0]}


def run_evaluation(runs: int, figures: Figures) -> None:
    order_rows(
        figures,
        EVALUATION,
        [
            ("python process, all in", "s"),
            ("imports (pulumi, pulumi_kubernetes)", "s"),
            ("program under mocks", "s"),
            ("program per resource", "ms/res"),
        ],
    )
    resources: dict[int, int] = {}
    for apps in SIZES:
        for _ in range(runs):
            result = evaluate_in_fresh_python(apps)
            figures.add(EVALUATION, f"python process, all in, N={apps}", result["process_seconds"])
            figures.add(
                EVALUATION,
                f"imports (pulumi, pulumi_kubernetes), N={apps}",
                result["import_seconds"],
            )
            figures.add(EVALUATION, f"program under mocks, N={apps}", result["evaluate_seconds"])
            resources[apps] = result["resources"]
            figures.add(
                EVALUATION,
                f"program per resource, N={apps}",
                1000 * result["evaluate_seconds"] / result["resources"],
                "ms/res",
                f"{result['resources']} resources registered",
            )
    add_marginal_costs(figures, EVALUATION, "program under mocks", resources)
