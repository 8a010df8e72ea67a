"""The README's first command, `scripts/demo.sh`, start to finish on the local cluster.

It runs in a copy of the repository (a git repository of its own, in an empty temporary folder)
with its own local backend, in its own sandbox: the copy's Pulumi.dev.yaml moves the demo to
another namespace and node ports, so a demo the user deployed is left alone, and names the
strategy of the run (a stack refuses another strategy's keys, such as its node ports). The demo
must leave the copy's working tree as it found it; the stack is destroyed afterwards.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from demo_orq import facts
from demo_orq.kube import delete_namespace_now, namespace_exists, wait_until
from demo_orq.settings import KEYS
from tests.sandbox import SANDBOXES, ProjectCopy, node_port_config, require_pulumi_cli

pytestmark = pytest.mark.e2e

SANDBOX = SANDBOXES["demo-command"]
FORWARD_PORT = 18290
STEPS = ["0) Set up", "1) Deploy v1", "2) Reach it", "3) Scale to", "4) Roll out v2",
         "5) Roll back", "6) Self-healing", "7) Back to", "8) Report"]  # fmt: skip


def git(directory: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=directory, capture_output=True, text=True,
                          check=True).stdout  # fmt: skip


def copy_repository(destination: Path, strategy: str) -> ProjectCopy:
    """The tracked files as they are now, committed in a new repository, the dev stack moved to
    the test's sandbox with `strategy`."""
    for name in git(facts.PROJECT_DIR, "ls-files").splitlines():
        if (facts.PROJECT_DIR / name).is_file():
            target = destination / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(facts.PROJECT_DIR / name, target)
    stack_file = destination / "Pulumi.dev.yaml"
    stack = yaml.safe_load(stack_file.read_text(encoding="utf-8"))
    config = {"namespace": SANDBOX.namespace, "strategy": strategy,
              **node_port_config(SANDBOX, strategy)}  # fmt: skip
    if KEYS["gateSeconds"].applies_to(strategy):
        # A shorter analysis gate keeps the suite short; test_strategies.py runs a longer one.
        config["gateSeconds"] = "3"
    stack["config"].update({f"{facts.PROJECT}:{key}": value for key, value in config.items()})
    stack_file.write_text(yaml.safe_dump(stack, allow_unicode=True), encoding="utf-8")
    (destination / "venv").symlink_to(facts.PROJECT_DIR / "venv")
    (destination / ".state").mkdir()
    git(destination, "init", "-q")
    (destination / ".git" / "info" / "exclude").write_text("venv\n.state/\n", encoding="utf-8")
    git(destination, "add", "-A")
    git(destination, "-c", "user.name=test", "-c", "user.email=test@localhost",
        "commit", "-qm", "copy")  # fmt: skip
    return ProjectCopy(destination)


def section(output: str, start: str, end: str) -> str:
    return output[output.index(start) : output.index(end)]


# What each strategy's tour must show in its steps 4 (v2) and 5 (rollback).
EVIDENCE = {
    "BlueGreen": (
        [f"preview (green):\n$ demo-orq get --stack dev --service preview\n"
         f"{facts.V2_MESSAGE}\n", "watched through the API server", "0 failed",
         "gate: passed", "through the API server"],
        ["rolled back: rollback to update", "watched through the API server", "0 failed"],
    ),
}  # fmt: skip
# The other tours share their steps with this one. RollingUpdate's is the one `.ci/run` runs on
# the dev stack before the suite (it must end with exit 0), and its steps are tested one by one
# in tests/e2e/test_demo_with_pulumi.py; Recreate's is RollingUpdate's with the downtime
# watched; Canary's runs `demo-orq canary`. What they show, the downtime and the stepped canary
# with its promotion and abort, is tested in tests/e2e/test_strategies.py. This keeps the suite
# within its time.


@pytest.mark.parametrize("strategy", list(EVIDENCE))
def test_the_demo_command_walks_through_every_step_and_leaves_the_tree_clean(
    tmp_path: Path, strategy: str
):
    require_pulumi_cli()
    SANDBOX.claim()
    repository = copy_repository(tmp_path / "repo", strategy)
    try:
        demo = subprocess.run(
            [
                "bash",
                "scripts/demo.sh",
                "--strategy",
                strategy,
                "--forward-port",
                str(FORWARD_PORT),
            ],
            cwd=repository.directory,
            env=repository.env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        output = demo.stdout + demo.stderr
        print(output)
        assert demo.returncode == 0, output[-4000:]
        positions = [output.index(step) for step in STEPS]
        assert positions == sorted(positions)
        v1 = f"\n{facts.V1_MESSAGE}\n"
        assert section(output, "2) Reach it", "3) Scale to").count(v1) == 2  # NodePort, forward
        v2_evidence, back_evidence = EVIDENCE[strategy]
        v2_step = section(output, "4) Roll out v2", "5) Roll back")
        for text in v2_evidence:
            assert text in v2_step, text
        back = section(output, "5) Roll back", "6) Self-healing")
        for text in [*back_evidence, v1]:
            assert text in back, text
        assert "all pods Ready again after" in output
        report = output[output.index("8) Report") :]
        for figure in ("availability", "latency p99", "deploy time", "rollback rate", "MTTR"):
            assert figure in report, figure
        picture = report.split("picture: ", 1)[1].split()[0]
        assert (repository.directory / picture).is_file() or Path(picture).is_file(), picture
        assert git(repository.directory, "status", "--porcelain") == ""
        repository.pulumi("preview", "--stack", "dev", "--expect-no-changes")
    finally:
        delete_namespace_now(SANDBOX.namespace)
        repository.pulumi("destroy", "--stack", "dev", "--yes", check=False)
        wait_until(
            lambda: not namespace_exists(SANDBOX.namespace),
            180,
            f"namespace {SANDBOX.namespace} to be gone",
        )
