"""The README's first command, `scripts/demo.sh`, start to finish on the local cluster.

It runs in a copy of the repository with its own local backend, so the repository's
Pulumi.dev.yaml and state are left alone, and the stack is destroyed afterwards.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.kube import kubectl, wait_until
from tests.support.project import PROJECT_DIR, ProjectCopy, require_pulumi_cli

pytestmark = pytest.mark.e2e


def copy_repository(destination: Path) -> ProjectCopy:
    tracked = subprocess.run(["git", "ls-files"], cwd=PROJECT_DIR, capture_output=True, text=True,
                             check=True).stdout.splitlines()
    for name in tracked:
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(PROJECT_DIR / name, target)
    (destination / "venv").symlink_to(PROJECT_DIR / "venv")
    (destination / ".state").mkdir()
    return ProjectCopy(destination)


def test_the_demo_command_walks_through_every_step(tmp_path: Path):
    require_pulumi_cli()
    assert kubectl("get", "namespace", "demo", check=False).returncode != 0, "namespace demo already exists"
    repository = copy_repository(tmp_path / "repo")
    try:
        demo = subprocess.run(["bash", "scripts/demo.sh"], cwd=repository.directory, env=repository.env,
                              capture_output=True, text=True, timeout=900)
        output = demo.stdout + demo.stderr
        print(output)
        assert demo.returncode == 0, output[-4000:]
        steps = ["0) Set up", "1) Deploy v1", "2) Reach it", "3) Scale to 5", "4) Roll out v2",
                 "5) Roll back", "6) Self-healing"]
        positions = [output.index(step) for step in steps]
        assert positions == sorted(positions)
        reach = output[output.index("2) Reach it"):output.index("3) Scale to 5")]
        assert reach.count("\nHola desde Kubernetes 👋\n") == 2  # NodePort and port-forward
        v2 = output[output.index("4) Roll out v2"):output.index("5) Roll back")]
        assert "\nHola desde K8s v2 🚀\n" in v2
        back = output[output.index("5) Roll back"):output.index("6) Self-healing")]
        assert "rolled back: rollback to update 2" in back and "\nHola desde Kubernetes 👋\n" in back
        assert "all pods Ready again after" in output
    finally:
        repository.pulumi("destroy", "--stack", "dev", "--yes", check=False)
        wait_until(lambda: kubectl("get", "namespace", "demo", check=False).returncode != 0, 180,
                   "namespace demo to be gone")
