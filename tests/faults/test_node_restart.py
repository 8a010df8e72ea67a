"""The whole node: an unclean stop of every cluster process (`cluster/cluster.sh kill`: SIGKILL to
every component, shim and container; mounts, network devices and iptables rules stay behind, as
after a power cut), then `cluster/up.sh`. Measures the time until the app answers again through
its NodePort (the MTTR of a node restart, recorded as an event of the stack), and checks that
nothing was lost: the same pods (by uid) Ready again, the namespace, every object of the stack,
and `pulumi preview` shows no change.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Iterator

import pytest

from components.traffic import get_once
from demo_orq import events
from demo_orq.facts import PROJECT_DIR
from demo_orq.kube import kubectl, namespace_exists, pods, wait_until
from tests.cluster.helpers import install_addon, require_cluster
from tests.faults.helpers import SELECTOR, V1, App, deploy_app, disruptive
from tests.sandbox import SANDBOXES, demo_orq_command

pytestmark = pytest.mark.faults

SANDBOX = SANDBOXES["faults-node"]
CLUSTER = PROJECT_DIR / "cluster"
SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    install_addon("storage.sh")
    with disruptive():
        yield from deploy_app(tmp_path_factory, SANDBOX, "faults-node", replicas=3, etl="true")


def run_etl(app: App) -> str:
    """`demo-orq job run etl` on the app's stack: the daily figures, written to their volume."""
    completed = subprocess.run(
        [demo_orq_command(), "job", "run", "etl", "--stack", app.stack.name],
        cwd=app.project.directory, env=app.project.env,
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed.stdout


class FirstAnswer:
    """Polls the app from the `with` block's start and keeps when it answered again after
    having stopped answering."""

    def __init__(self, app: App) -> None:
        self.host, self.port = "127.0.0.1", app.sandbox.node_port
        self.went_down: float | None = None
        self.answered: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self) -> None:
        while not self._stop.is_set() and self.answered is None:
            answer = get_once(self.host, self.port, "/", timeout=0.5)
            if answer.body is None and self.went_down is None:
                self.went_down = answer.started
            elif answer.body == V1 + "\n" and self.went_down is not None:
                self.answered = answer.started
            time.sleep(0.05)

    def __enter__(self) -> FirstAnswer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def cluster_command(*args: str) -> None:
    completed = subprocess.run(
        [str(CLUSTER / "cluster.sh"), *args], capture_output=True, text=True, timeout=900
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]


def test_a_node_restart_loses_nothing_and_the_app_answers_again(app: App) -> None:
    written = run_etl(app)
    assert "before this run: 0 file(s)" in written, written
    pod_uids = {p["metadata"]["uid"] for p in pods(app.namespace, SELECTOR)}
    resources = {(r["urn"], r.get("id")) for r in app.resources()}
    assert len(pod_uids) == app.replicas

    killed = time.monotonic()
    with FirstAnswer(app) as first:
        cluster_command("kill")
        cluster_command("up")
        up_done = time.monotonic()
        wait_until(lambda: first.answered, 300, "the app to answer again", interval=0.1)
    require_cluster()
    wait_until(app.settled, 300, "the app's pods ready again")
    settled = time.monotonic()

    assert first.answered is not None
    mttr = first.answered - killed
    print(
        f"\nnode restart: cluster up again {up_done - killed:.1f}s after the kill, app answering "
        f"after {mttr:.1f}s (MTTR), all {app.replicas} pods Ready after {settled - killed:.1f}s"
    )
    # The report counts it in the stack's MTTR.
    events.record(app.stack.name, "node-restart", mttr, "faults: cluster.sh kill + up.sh",
                  work_dir=app.project.directory)  # fmt: skip

    assert {p["metadata"]["uid"] for p in pods(app.namespace, SELECTOR)} == pod_uids
    for namespace in (*SYSTEM_NAMESPACES, app.namespace):
        assert namespace_exists(namespace), namespace
    assert {(r["urn"], r.get("id")) for r in app.resources()} == resources
    assert app.missing_objects() == []
    app.preview_shows_no_change("--refresh")
    # The daily figures' volume kept the file written before the restart.
    assert "before this run: 1 file(s) /data/figures-" in run_etl(app)


def test_the_cluster_is_whole_after_the_restart() -> None:
    status = subprocess.run(
        [str(CLUSTER / "status.sh")], capture_output=True, text=True, timeout=120
    )
    assert status.returncode == 0, status.stdout + status.stderr
    kubectl("get", "--raw", "/readyz")
