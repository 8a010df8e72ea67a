"""Interrupted and concurrent updates, under a steady load of 150 requests per second through
the NodePort (every request counted, none retried):

- `pulumi up` killed (SIGKILL) in the middle of a v2 rollout: the next `pulumi up` says the stack
  is locked by the dead run and names `pulumi cancel`; the recovery docs/testing.md documents
  (`pulumi cancel`, `pulumi refresh`, `pulumi up`) clears the pending operation and converges,
  with no orphan or duplicate object and the earlier history intact. The service never fails.
- two `pulumi up` at once on the same stack: the second is refused by the backend's lock with a
  clear message, the first completes, and the state is intact.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

from components.traffic import SteadyLoad
from demo_orq import facts
from demo_orq.kube import kubectl_json, wait_until
from tests.cluster.helpers import wait_for_only_answer
from tests.faults.helpers import V1, V2, App, deploy_app, describe_failures, failed
from tests.sandbox import SANDBOXES, require_pulumi_cli

pytestmark = pytest.mark.faults

SANDBOX = SANDBOXES["faults-update"]
REPLICAS = 5
RATE = 150
LOCKED = "the stack is currently locked by 1 lock(s)"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    yield from deploy_app(tmp_path_factory, SANDBOX, "faults-update", replicas=REPLICAS)


def start_up(app: App) -> subprocess.Popen[str]:
    """`pulumi up` in the background, its output readable line by line."""
    return subprocess.Popen(
        [require_pulumi_cli(), "--non-interactive", "up", "--yes", "--skip-preview",
         "--stack", app.stack.name],
        cwd=app.project.directory,
        env=app.project.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip


def descendants(pid: int) -> list[int]:
    """The processes started by `pid`, and theirs (the language host, the program, the plugins:
    the CLI puts them in process groups of their own)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, pending = [], [pid]
    while pending:
        for child in children.get(pending.pop(), []):
            found.append(child)
            pending.append(child)
    return found


def kill_hard(process: subprocess.Popen[str]) -> None:
    """SIGKILL to the CLI alone, as a crash or `kill -9` would; then ends the plugins it leaves
    running (they would otherwise outlive the test)."""
    left_behind = descendants(process.pid)
    process.kill()
    process.wait()
    deadline = time.monotonic() + 10
    for pid in left_behind:
        while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        if Path(f"/proc/{pid}").exists():
            os.kill(pid, signal.SIGKILL)


def pending_operations(app: App) -> list[dict[str, Any]]:
    exported = app.pulumi("stack", "export")
    operations: list[dict[str, Any]] = (
        json.loads(exported.stdout)["deployment"].get("pending_operations") or []
    )
    return operations


def history(app: App) -> list[tuple[str, str, str | None, str]]:
    return [(h.kind, h.result, h.message, h.start_time) for h in app.stack.history()]


def new_replica_set_started(app: App, message: str) -> bool:
    """A ReplicaSet of `message` has pods: the rollout is under way."""
    listed = kubectl_json("-n", app.namespace, "get", "replicasets")["items"]
    for replica_set in listed:
        args = replica_set["spec"]["template"]["spec"]["containers"][0].get("args", [])
        if f"-text={message}" in args and replica_set["status"].get("replicas", 0) > 0:
            return True
    return False


def wait_for_only(app: App, message: str) -> None:
    app.wait_settled()
    wait_for_only_answer("127.0.0.1", app.sandbox.node_port, message, timeout=60)


def test_an_update_killed_mid_rollout_is_recovered_as_documented(app: App) -> None:
    before = history(app)
    app.stack.set_config(f"{facts.PROJECT}:message", auto.ConfigValue(V2))
    with SteadyLoad(SANDBOX.url, rate=RATE, max_seconds=600) as load:
        started = time.monotonic()
        update = start_up(app)
        wait_until(lambda: new_replica_set_started(app, V2), 60, "the v2 rollout to start",
                   interval=0.1)  # fmt: skip
        kill_hard(update)
        assert [op["type"] for op in pending_operations(app)] == ["updating"]

        # What the user sees next: the dead run's lock, and the way out.
        refused = app.pulumi("up", "--yes", "--skip-preview", check=False)
        output = refused.stdout + refused.stderr
        assert refused.returncode != 0
        assert LOCKED in output and "pulumi cancel" in output, output
        assert f"(pid {update.pid})" in output, output

        # The documented recovery.
        app.pulumi("cancel", "--yes")
        refreshed = app.pulumi("refresh", "--yes", "--skip-preview")
        assert pending_operations(app) == [], refreshed.stdout[-3000:]
        app.pulumi("up", "--yes", "--skip-preview", "--message", "v2 after the interrupted update")
        wait_for_only(app, V2)
        time.sleep(2)
    answers = load.report.answers
    print(f"\ninterrupted update: {load.report.summary()}")
    assert failed(answers) == [], describe_failures(answers, started)

    after = history(app)
    assert after[len(after) - len(before) :] == before, "the earlier history changed"
    assert [entry[:2] for entry in after[: len(after) - len(before)]] == [
        ("update", "succeeded"),
        ("refresh", "succeeded"),
    ]
    assert app.objects_in_namespace() == app.kubernetes_objects()
    app.preview_shows_no_change("--refresh")


def test_a_second_update_at_the_same_time_is_refused_by_the_lock(app: App) -> None:
    before = history(app)
    app.stack.set_config(f"{facts.PROJECT}:message", auto.ConfigValue(V1))
    with SteadyLoad(SANDBOX.url, rate=RATE, max_seconds=600) as load:
        started = time.monotonic()
        first = start_up(app)
        locks = app.project.directory / ".state" / ".pulumi" / "locks"
        wait_until(lambda: list(locks.rglob("*.json")), 30, "the first update's lock",
                   interval=0.05)  # fmt: skip
        second = app.pulumi("up", "--yes", "--skip-preview", check=False)
        first_output, _ = first.communicate(timeout=600)
        wait_for_only(app, V1)
        time.sleep(2)

    second_output = second.stdout + second.stderr
    print(f"\nconcurrent updates: the second said: {second_output.strip().splitlines()[0]}")
    assert second.returncode != 0
    assert LOCKED in second_output and f"(pid {first.pid})" in second_output, second_output
    assert first.returncode == 0, first_output[-3000:]
    assert failed(load.report.answers) == [], describe_failures(load.report.answers, started)

    after = history(app)
    assert after[1:] == before and after[0][:2] == ("update", "succeeded")
    assert pending_operations(app) == []
    assert app.objects_in_namespace() == app.kubernetes_objects()
    app.preview_shows_no_change("--refresh")
