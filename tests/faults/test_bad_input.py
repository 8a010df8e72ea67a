"""Bad input for every command the project ships: a wrong flag, an unknown stack, update numbers
0/-1/abc/999, a bad value, a missing passphrase. Each must stop with a clear error on one line
(naming what was wrong), a non-zero exit and no traceback, and change nothing: not the stack's
files and state, not the cluster's processes, not the user's stack.

Fast and without a marker: the Pulumi commands run on a throwaway stack of a copy of the project
(a local backend, nothing deployed); no command here reaches the cluster.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from demo_orq import facts
from tests.sandbox import (
    SANDBOXES,
    ProjectCopy,
    copy_project,
    demo_orq_command,
    sandbox_config,
)

STACK = "bad-input"
BAD_CONTEXT_STACK = "bad-context"
"""A stack whose kubeconfig has no such context: every command that reaches the app says so."""
BAD_KUBECONFIG_STACK = "bad-kubeconfig"
"""A stack whose kubeconfig file does not exist."""
CLUSTER_RUN = Path(os.environ.get("DEMO_ORQ_STATE", "/var/lib/demo-orq")) / "run"


@dataclass(frozen=True)
class Case:
    command: tuple[str, ...]
    """{dir} stands for the project copy's folder, DEMO_ORQ for the project's command."""
    says: tuple[str, ...]
    """What the one error line names (all on the same line)."""
    without_passphrase: bool = False
    env: dict[str, str] = field(default_factory=dict)


DEMO_ORQ = "{demo_orq}"
WORK_DIR = ("--work-dir", "{dir}")
ON_STACK = ("--stack", STACK, *WORK_DIR)
CASES = {
    "demo-orq: unknown command": Case((DEMO_ORQ, "nope"), ("'nope'", "rollback, canary")),
    "rollback: wrong flag": Case((DEMO_ORQ, "rollback", "--bogus"), ("--bogus",)),
    "rollback: update 0": Case((DEMO_ORQ, "rollback", *ON_STACK, "--to", "0"),
                               ("--to", "0", "start at 1")),
    "rollback: update -1": Case((DEMO_ORQ, "rollback", *ON_STACK, "--to", "-1"),
                                ("--to", "-1", "start at 1")),
    "rollback: update abc": Case((DEMO_ORQ, "rollback", *ON_STACK, "--to", "abc"),
                                 ("--to", "'abc'")),
    "rollback: update 999": Case((DEMO_ORQ, "rollback", *ON_STACK, "--to", "999"),
                                 ("update 999", "not in the stack history")),
    "rollback: a refresh": Case((DEMO_ORQ, "rollback", *ON_STACK, "--to", "1"),
                                ("update 1", "'refresh'", "only a successful 'update'")),
    "rollback: unknown stack": Case((DEMO_ORQ, "rollback", "--stack", "nope", *WORK_DIR),
                                    ("'nope'", "stacks:", STACK)),
    "rollback: no passphrase": Case((DEMO_ORQ, "rollback", *ON_STACK),
                                    ("rollback", "PULUMI_CONFIG_PASSPHRASE"),
                                    without_passphrase=True),
    "canary: unknown stack": Case((DEMO_ORQ, "canary", "--stack", "nope", *WORK_DIR,
                                   "--to-message", "x"), ("'nope'", "stacks:", STACK)),
    "canary: no version": Case((DEMO_ORQ, "canary", *ON_STACK),
                               ("new version", "--to-message")),
    "canary: steps a,b": Case((DEMO_ORQ, "canary", *ON_STACK, "--to-message", "x",
                               "--steps", "a,b"), ("--steps", "'a,b'")),
    "canary: pause -1": Case((DEMO_ORQ, "canary", *ON_STACK, "--to-message", "x",
                              "--pause", "-1"), ("--pause", "-1", "accepted")),
    "canary: no passphrase": Case((DEMO_ORQ, "canary", *ON_STACK, "--to-message", "x"),
                                  ("canary", "PULUMI_CONFIG_PASSPHRASE"),
                                  without_passphrase=True),
    "report: unknown stack": Case((DEMO_ORQ, "report", "--stack", "nope", *WORK_DIR),
                                  ("'nope'", STACK)),
    "report: rate 0": Case((DEMO_ORQ, "report", *ON_STACK, "--rate", "0"),
                           ("--rate", "'0'", "accepted")),
    "report: probe-seconds abc": Case((DEMO_ORQ, "report", *ON_STACK,
                                       "--probe-seconds", "abc"), ("--probe-seconds", "'abc'")),
    "report: not deployed": Case((DEMO_ORQ, "report", *ON_STACK),
                                 (f"'{STACK}'", "not deployed")),
    "events: no action": Case((DEMO_ORQ, "events"), ("action",)),
    "events: unknown kind": Case((DEMO_ORQ, "events", "record", *ON_STACK, "--kind", "nope",
                                  "--seconds", "1"), ("--kind", "'nope'", "heal")),
    "events: seconds -1": Case((DEMO_ORQ, "events", "record", *ON_STACK, "--kind", "heal",
                                "--seconds", "-1"), ("--seconds", "-1", "accepted")),
    "events: seconds abc": Case((DEMO_ORQ, "events", "record", *ON_STACK, "--kind", "heal",
                                 "--seconds", "abc"), ("--seconds", "'abc'")),
    "events: bad stack name": Case((DEMO_ORQ, "events", "list", "--stack", "a/b", *WORK_DIR),
                                   ("--stack", "'a/b'")),
    "watch: no command": Case((DEMO_ORQ, "watch", "--url", "http://127.0.0.1:30680/"),
                              ("required: command",)),
    "watch: not a URL": Case((DEMO_ORQ, "watch", "--url", "notaurl", "--", "true"),
                             ("'notaurl'",)),
    "watch: unknown context": Case((DEMO_ORQ, "watch", "--stack", BAD_CONTEXT_STACK,
                                    *WORK_DIR, "--", "true"), ("watch", "no context 'nope'")),
    "get: unknown context": Case((DEMO_ORQ, "get", "--stack", BAD_CONTEXT_STACK,
                                  *WORK_DIR), ("get", "no context 'nope'", "contexts:")),
    "get: no kubeconfig": Case((DEMO_ORQ, "get", "--stack", BAD_KUBECONFIG_STACK,
                                *WORK_DIR), ("get", "/nonexistent/kubeconfig", "no such file")),
    "get: not deployed": Case((DEMO_ORQ, "get", *ON_STACK), (f"'{STACK}'", "not deployed")),
    "get: wait -1": Case((DEMO_ORQ, "get", *ON_STACK, "--wait", "-1"),
                         ("--wait", "-1", "accepted")),
    "canary: unknown context": Case((DEMO_ORQ, "canary", "--stack", BAD_CONTEXT_STACK,
                                     *WORK_DIR, "--to-message", "x"),
                                    ("canary", "no context 'nope'")),
    "report: unknown context": Case((DEMO_ORQ, "report", "--stack", BAD_CONTEXT_STACK,
                                     *WORK_DIR), ("report", "no context 'nope'")),
    "job: unknown job": Case((DEMO_ORQ, "job", "run", "nope", *ON_STACK), ("'nope'", "etl")),
    "job: unknown action": Case((DEMO_ORQ, "job", "start", "etl", *ON_STACK),
                                ("'start'", "run")),
    "job: timeout 0": Case((DEMO_ORQ, "job", "run", "etl", *ON_STACK, "--timeout", "0"),
                           ("--timeout", "0", "accepted")),
    "job: not deployed": Case((DEMO_ORQ, "job", "run", "etl", *ON_STACK),
                              (f"'{STACK}'", "not deployed")),
    "cluster up: wrong flag": Case(("cluster/up.sh", "--fast"), ("'--fast'", "accepted")),
    "cluster down: wrong flag": Case(("cluster/down.sh", "--now"), ("'--now'", "accepted")),
    "cluster status: wrong flag": Case(("cluster/status.sh", "--json"), ("'--json'", "--env")),
    "cluster restart: unknown component": Case(("cluster/cluster.sh", "restart", "kube-dns"),
                                               ("'kube-dns'", "etcd")),
    "cluster kill: wrong flag": Case(("cluster/cluster.sh", "kill", "--now"), ("'--now'",)),
    "cluster build-kubernetes: wrong flag": Case(("cluster/build-kubernetes.sh", "--bogus"),
                                                 ("'--bogus'",)),
    "cluster build-images: wrong flag": Case(("cluster/build-images.sh", "--bogus"),
                                             ("'--bogus'",)),
    "cluster install-packages: wrong flag": Case(("cluster/install-packages.sh", "--bogus"),
                                                 ("'--bogus'",)),
    "demo: unknown stack": Case(("scripts/demo.sh", "--stack", "nope"), ("'nope'", "dev, kind")),
    "demo: unknown strategy": Case(("scripts/demo.sh", "--strategy", "Rainbow"),
                                   ("'Rainbow'", "RollingUpdate")),
    "demo: port 80": Case(("scripts/demo.sh", "--forward-port", "80"), ("'80'", "1024")),
    "demo: wrong flag": Case(("scripts/demo.sh", "--bogus"), ("'--bogus'", "--stack")),
    "demo: flag without value": Case(("scripts/demo.sh", "--stack"), ("--stack", "dev, kind")),
}  # fmt: skip


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> ProjectCopy:
    """A stack with a secret in its config and one entry in its history (a refresh, which
    needs no cluster), nothing deployed."""
    copy = copy_project(tmp_path_factory.mktemp("bad-input") / "project")
    copy.new_stack(STACK, sandbox_config(SANDBOXES["faults"]))
    copy.pulumi("config", "set", "--stack", STACK, "--secret", f"{facts.PROJECT}:message", "x")
    copy.pulumi("refresh", "--yes", "--skip-preview", "--stack", STACK)
    location = sandbox_config(SANDBOXES["faults"])
    copy.new_stack(BAD_CONTEXT_STACK, {**location, f"{facts.PROJECT}:context": "nope",
                                       f"{facts.PROJECT}:strategy": "Canary"})  # fmt: skip
    missing = {f"{facts.PROJECT}:kubeconfig": "/nonexistent/kubeconfig"}
    copy.new_stack(BAD_KUBECONFIG_STACK, {**location, **missing})
    return copy


def fingerprint(*roots: Path) -> dict[str, str]:
    """A hash of every file under `roots` (caches aside)."""
    found = {}
    for root in roots:
        paths = [root] if root.is_file() else sorted(root.rglob("*")) if root.exists() else []
        for path in paths:
            if path.is_file() and "__pycache__" not in path.parts:
                found[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def watched(project: ProjectCopy, command: list[str]) -> dict[str, str]:
    """What the command may not change: the copy's stack file, state and events; for the
    cluster's scripts, the cluster's processes; for the demo, the user's stack file and state."""
    roots = [
        project.directory / f"Pulumi.{STACK}.yaml",
        project.directory / ".state",
        project.directory / ".demo-orq",
    ]
    if command[0].startswith("cluster/"):
        roots.append(CLUSTER_RUN)
    if command[0].startswith("scripts/"):
        roots += [facts.PROJECT_DIR / "Pulumi.dev.yaml", facts.PROJECT_DIR / ".pulumi-state"]
    return fingerprint(*roots)


@pytest.mark.parametrize("name", CASES)
def test_bad_input_gets_one_clear_line_and_changes_nothing(project: ProjectCopy, name: str) -> None:
    case = CASES[name]
    command = [
        part.format(dir=project.directory, demo_orq=demo_orq_command()) for part in case.command
    ]
    env = {**project.env, **case.env}
    if case.without_passphrase:
        env.pop("PULUMI_CONFIG_PASSPHRASE", None)
        env.pop("PULUMI_CONFIG_PASSPHRASE_FILE", None)
    cwd = project.directory if case.command[0] == DEMO_ORQ else facts.PROJECT_DIR
    before = watched(project, command)

    completed = subprocess.run(
        command,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )

    output = completed.stderr + completed.stdout
    lines = [line for line in output.splitlines() if all(part in line for part in case.says)]
    assert completed.returncode != 0, output
    assert "Traceback" not in output, output
    assert len(lines) == 1, f"no single line names {case.says}:\n{output}"
    assert watched(project, command) == before, "the command changed something"
