"""Where Pulumi's time goes outside the cluster: the start-up of each process it runs, and a
preview of programs that do less and less than the demo.

- language host: the demo-orq Python language host (toolchain/pulumi_language_python.py), from
  spawn to the port it announces;
- provider: the pulumi-resource-kubernetes plugin, from spawn to its port;
- Python imports of the program (pulumi, pulumi_kubernetes, the component);
- `pulumi preview` of an empty Python program (engine + language host + Python), of a program
  with only the Kubernetes provider (+ provider start and configure), and of the demo itself.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

from bench.timing import Figures, stopwatch
from demo_orq.facts import PROJECT_DIR
from demo_orq.sandbox import ProjectCopy, cluster_location, copy_project, require_pulumi_cli

OVERHEAD = "10 start-up overhead"

PYTHON = str(PROJECT_DIR / "venv" / "bin" / "python")
PROGRAM_IMPORTS = (
    "import pulumi, pulumi_kubernetes as k8s, components; "
    "k8s.core.v1.Namespace, k8s.core.v1.Service, k8s.apps.v1.Deployment"
)

EMPTY_PROGRAM = "import pulumi\n"
PROVIDER_ONLY_PROGRAM = """\
import pulumi
import pulumi_kubernetes as k8s

config = pulumi.Config("demo-orq")
k8s.Provider("kubernetes", kubeconfig=config.get("kubeconfig"), context=config.require("context"))
"""


def provider_plugin() -> Path:
    """The installed plugin at the SDK version in the virtualenv (the one the program uses)."""
    plugins = Path(os.environ.get("PULUMI_HOME") or Path.home() / ".pulumi") / "plugins"
    return (
        plugins
        / f"resource-kubernetes-v{version('pulumi_kubernetes')}"
        / "pulumi-resource-kubernetes"
    )


def seconds_to_port(command: list[str], cwd: Path) -> float:
    """Seconds from spawning a plugin to the port it prints on its first line; then stops it."""
    started = time.monotonic()
    process = subprocess.Popen(
        command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        port = process.stdout.readline().strip()
        elapsed = time.monotonic() - started
        if not port.isdigit():
            raise AssertionError(f"{command[0]} printed {port!r} instead of a port")
        return elapsed
    finally:
        process.terminate()
        process.wait(timeout=30)


def process_seconds(command: list[str]) -> float:
    with stopwatch() as elapsed:
        subprocess.run(command, check=True, capture_output=True, timeout=120)
    return elapsed[0]


def small_program(directory: Path, program: str) -> ProjectCopy:
    """A project like the demo's (same runtime, virtualenv and name) with another __main__.py."""
    directory.mkdir(parents=True)
    shutil.copy2(PROJECT_DIR / "Pulumi.yaml", directory / "Pulumi.yaml")
    (directory / "__main__.py").write_text(program, encoding="utf-8")
    (directory / "venv").symlink_to(PROJECT_DIR / "venv")
    (directory / ".state").mkdir()
    return ProjectCopy(directory)


def run_overhead(runs: int, figures: Figures) -> None:
    language_host = Path(require_pulumi_cli()).with_name("pulumi-language-python")
    with tempfile.TemporaryDirectory(prefix="bench-overhead-") as directory:
        root = Path(directory)
        projects = {
            "pulumi preview, empty program": small_program(root / "empty", EMPTY_PROGRAM),
            "pulumi preview, provider only": small_program(
                root / "provider", PROVIDER_ONLY_PROGRAM
            ),
            "pulumi preview, the demo (nothing deployed)": copy_project(root / "demo"),
        }
        for project in projects.values():
            project.new_stack("bench", cluster_location())
        try:
            for _ in range(runs):
                figures.add(OVERHEAD, "python -c pass", process_seconds([PYTHON, "-c", "pass"]))
                figures.add(
                    OVERHEAD,
                    "python: import the program's modules",
                    process_seconds([PYTHON, "-c", PROGRAM_IMPORTS]),
                )
                figures.add(
                    OVERHEAD,
                    "language host: spawn -> port",
                    seconds_to_port([str(language_host), "127.0.0.1:1"], root / "demo"),
                )
                figures.add(
                    OVERHEAD,
                    "provider plugin: spawn -> port",
                    seconds_to_port([str(provider_plugin()), "127.0.0.1:1"], root),
                )
                for what, project in projects.items():
                    with stopwatch() as elapsed:
                        project.pulumi("preview", "--stack", "bench")
                    figures.add(OVERHEAD, what, elapsed[0])
        finally:
            for project in projects.values():
                project.pulumi("stack", "rm", "--yes", "bench", check=False)
