"""Case cuts: what each cut in Pulumi's overhead saved, measured side by side in the same run.

Each variant is the Python language host of one commit of toolchain/pulumi_language_python.py
(the cuts are commits of it), optionally with environment settings (`COMMIT+NAME=VALUE`): a
directory with that host, Pulumi's program runner and the wrapper the engine starts, put first
on PATH for Pulumi's commands (the engine takes the language plugin from PATH first). Run by run
and variant by variant, the bench stack is deployed cold, upgraded v1 -> v2, previewed with no
change and destroyed, with the cluster's own time taken out as in the tools case. The CPU time of
each command (Pulumi and every process it waited for) shows the same cuts with less noise from
other work on the machine.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.compare import SELECTOR, refuse_existing_namespaces
from bench.spans import ClusterWork, rollout_work, split
from bench.timing import Figures
from bench.tools import REPLICAS, V1, V2, PulumiDemo
from bench.watch import ApiWatch, pod_watch
from demo_orq.facts import PROJECT_DIR
from tests.sandbox import require_pulumi_cli

CUTS = "11 cuts"
HOST = "toolchain/pulumi_language_python.py"
BEFORE = "3a5f00b"
"""The language host before the cuts of issue 15."""
DEFAULT_VARIANTS = (BEFORE, "37b6421", "b14f9da", "7a00cab")
"""Before, then each cut on top of the previous: the host loads only the SDK's gRPC modules;
the program's runner freezes the collector at exit; and after importing the SDK."""
RUNNER_FILES = ("pulumi-language-python", "pulumi-language-python-exec")
SETTLE_SECONDS = 300


@dataclass(frozen=True)
class Variant:
    spec: str
    commit: str
    env: dict[str, str]
    bin: Path

    @property
    def label(self) -> str:
        return self.spec


def git(*args: str) -> str:
    completed = subprocess.run(
        ["git", *args], cwd=PROJECT_DIR, capture_output=True, text=True, check=True
    )
    return completed.stdout


def make_variant(spec: str, root: Path) -> Variant:
    """`COMMIT[+NAME=VALUE...]`: the host of COMMIT (WORKTREE: the working tree's), with env."""
    commit, *settings = spec.split("+")
    env = dict(setting.split("=", 1) for setting in settings)
    directory = root / f"variant-{len(list(root.iterdir()))}"
    directory.mkdir()
    cli_bin = Path(require_pulumi_cli()).resolve().parent
    for name in RUNNER_FILES:
        shutil.copy2(cli_bin / name, directory / name)
    host = directory / Path(HOST).name
    if commit == "WORKTREE":
        shutil.copy2(PROJECT_DIR / HOST, host)
    else:
        host.write_text(git("show", f"{commit}:{HOST}"), encoding="utf-8")
    return Variant(spec, commit, env, directory)


@contextmanager
def using(variant: Variant) -> Iterator[None]:
    """The variant's host first on PATH, and its settings, for the commands run inside."""
    saved = dict(os.environ)
    os.environ.update(variant.env)
    os.environ["PATH"] = f"{variant.bin}{os.pathsep}{saved['PATH']}"
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(action: Callable[[], None]) -> tuple[float, float, float]:
    """(started, ended, CPU seconds of the processes it ran)."""
    cpu = children_cpu()
    started = time.monotonic()
    action()
    ended = time.monotonic()
    return started, ended, children_cpu() - cpu


def settle(pods: ApiWatch, started: float) -> ClusterWork:
    deadline = time.monotonic() + SETTLE_SECONDS
    while time.monotonic() < deadline:
        work = rollout_work(pods.initial, pods.snapshot(), started, REPLICAS)
        if work is not None:
            return work
        time.sleep(0.1)
    raise TimeoutError(f"the cluster did not finish in {SETTLE_SECONDS}s")


MEASURES = {
    "cold deploy": ("overhead", "after last Ready", "CPU"),
    "v1->v2 rollout": ("overhead", "after last Ready", "CPU"),
    "no-change preview": ("total", "CPU"),
}


def row(measure: str, kind: str, variant: Variant) -> str:
    return f"{measure}: {kind}, {variant.label}"


def measure_rollout(
    tool: PulumiDemo, pods: ApiWatch, message: str, measure: str, variant: Variant, figures: Figures
) -> None:
    tool.prepare(message, REPLICAS)
    started, ended, cpu = timed(tool.apply)
    span = split(started, ended, settle(pods, started))
    figures.add(CUTS, row(measure, "overhead", variant), span.overhead)
    figures.add(CUTS, row(measure, "after last Ready", variant), span.after or 0.0)
    figures.add(CUTS, row(measure, "CPU", variant), cpu)


def measure_preview(tool: PulumiDemo, variant: Variant, figures: Figures) -> None:
    started, ended, cpu = timed(tool.check_no_change)
    figures.add(CUTS, row("no-change preview", "total", variant), ended - started)
    figures.add(CUTS, row("no-change preview", "CPU", variant), cpu)


def run_cuts(runs: int, figures: Figures, specs: tuple[str, ...] = DEFAULT_VARIANTS) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-cuts-") as directory, ExitStack() as stack:
        variants = [make_variant(spec, Path(directory)) for spec in specs]
        tool = PulumiDemo()
        stack.callback(tool.close)
        refuse_existing_namespaces([tool])
        # The table reads down a measure, variant after variant.
        for measure, kinds in MEASURES.items():
            for kind in kinds:
                for variant in variants:
                    figures.get(CUTS, row(measure, kind, variant))
        failures = 0
        for run in range(1, runs + 1):
            for variant in variants:
                print(f"[bench] cuts run {run}/{runs}: {variant.label}", flush=True)
                with using(variant), pod_watch(tool.sandbox.namespace, SELECTOR) as pods:
                    try:
                        measure_rollout(tool, pods, V1, "cold deploy", variant, figures)
                        measure_rollout(tool, pods, V2, "v1->v2 rollout", variant, figures)
                        measure_preview(tool, variant, figures)
                    except Exception as error:
                        # As in the tools case: reported, and the other runs go on.
                        print(f"[bench] cuts run {run} of {variant.label} failed: {error}")
                        failures += 1
                    finally:
                        tool.clean_up()
        if failures == runs * len(variants):
            raise RuntimeError("every run of the cuts case failed")
