"""Where Pulumi's time goes outside the cluster: the start-up of each process it runs, and a
preview of programs that do less and less than the demo.

- the CLI: `pulumi version`;
- language host: demo-orq's Python language host (toolchain/langhost), from spawn to the port
  it announces (the engine starts it twice per command);
- provider: the pulumi-resource-kubernetes plugin, from spawn to its port;
- Python: start-up and imports of the program (pulumi, pulumi_kubernetes, the component), and the
  exit after them, run plainly, by the host's runner in a new process, and by the runner through
  the warm server (toolchain/python_program_server.py);
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
from tests.sandbox import ProjectCopy, cluster_location, copy_project, require_pulumi_cli
from toolchain import python_program_server

OVERHEAD = "10 start-up overhead"

PYTHON = str(PROJECT_DIR / "venv" / "bin" / "python")
PROGRAM_IMPORTS = (
    "import pulumi, pulumi_kubernetes as k8s, components, demo_orq.config\n"
    "k8s.core.v1.Namespace, k8s.core.v1.ServiceAccount, k8s.core.v1.Service\n"
    "k8s.apps.v1.Deployment\n"
    "print('imported', flush=True)\n"
)
"""What the program imports before it registers a resource, then a line for the stopwatch."""

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
    assert process.stdout is not None
    try:
        port = process.stdout.readline().strip()
        elapsed = time.monotonic() - started
        if not port.isdigit():
            raise AssertionError(f"{command[0]} printed {port!r} instead of a port")
        return elapsed
    finally:
        process.terminate()
        process.wait(timeout=30)


def import_and_exit_seconds(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(spawn -> the program's modules imported, imported -> process gone) of a Python process
    that runs PROGRAM_IMPORTS: the start-up and the shutdown the engine waits for."""
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=PROJECT_DIR, stdout=subprocess.PIPE, text=True, env=env)
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    imported = time.monotonic()
    if process.wait(timeout=120) != 0 or line != "imported":
        raise AssertionError(f"{command[:3]} failed ({process.returncode}), printed {line!r}")
    return imported - started, time.monotonic() - imported


def measure_program_process(figures: Figures, script: Path) -> None:
    """The program's imports and exit, run plainly, by the host's runner in a new process, and
    by the runner through the warm server (its first run here starts the server and is left
    out: the next ones are what a user's commands get)."""
    runner = [PYTHON, python_program_server.__file__, "run", str(script)]
    new_process = {**os.environ, python_program_server.IDLE_ENV: "0"}
    import_and_exit_seconds(runner, dict(os.environ))  # starts the server if there is none
    ways = {
        "plain python": ([PYTHON, str(script)], new_process),
        "as the host's runner runs it, new process": (runner, new_process),
        "as the host's runner runs it, warm server": (runner, dict(os.environ)),
    }
    for way, (command, env) in ways.items():
        imported, exited = import_and_exit_seconds(command, env)
        figures.add(OVERHEAD, f"python: start + the program's imports, {way}", imported)
        figures.add(OVERHEAD, f"python: exit after them, {way}", exited)


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
        # Beside the program, so that its packages import as they do for the program.
        imports = root / "demo" / "bench_imports.py"
        imports.write_text(PROGRAM_IMPORTS, encoding="utf-8")
        for project in projects.values():
            project.new_stack("bench", cluster_location())
        try:
            for _ in range(runs):
                cli_start = process_seconds([require_pulumi_cli(), "version"])
                figures.add(OVERHEAD, "pulumi version (the CLI's start-up)", cli_start)
                figures.add(OVERHEAD, "python -c pass", process_seconds([PYTHON, "-c", "pass"]))
                measure_program_process(figures, imports)
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
