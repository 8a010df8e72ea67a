"""Control-plane faults under load: with the app serving 150 requests per second through its
NodePort (every request counted, none retried), each cluster component in turn is killed with
SIGKILL and started again (`cluster/cluster.sh restart COMPONENT --kill`, which waits until the
cluster is healthy). The data plane must keep answering through each fault, and afterwards the
program's `pulumi preview` shows no change.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator

import pytest

from components.traffic import SteadyLoad
from demo_orq import facts
from demo_orq.facts import PROJECT_DIR
from demo_orq.kube import pods, wait_until
from tests.faults.helpers import (
    App,
    answers_between,
    deploy_app,
    describe_failures,
    disruptive,
    failed,
)
from tests.sandbox import SANDBOXES

pytestmark = pytest.mark.faults

SANDBOX = SANDBOXES["faults"]
CLUSTER_SH = PROJECT_DIR / "cluster" / "cluster.sh"
COMPONENTS = (
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kubelet",
    "kube-proxy",
    "containerd",
)
RATE = 150
BEFORE_SECONDS, AFTER_SECONDS = 2.0, 3.0
"""Requests are counted from this long before the kill to this long after the cluster is
healthy again."""


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    # The whole module holds the machine's lock: no one else's disruption falls between its faults.
    with disruptive():
        yield from deploy_app(tmp_path_factory, SANDBOX, "faults", replicas=3)


def containers(app: App) -> dict[str, int]:
    """Each pod of the app (by uid) and its container's restart count."""
    return {
        pod["metadata"]["uid"]: pod["status"]["containerStatuses"][0]["restartCount"]
        for pod in pods(app.namespace, f"app={facts.DEPLOYMENT}")
    }


@pytest.mark.parametrize("component", COMPONENTS)
def test_the_app_keeps_answering_while_a_component_is_killed(app: App, component: str) -> None:
    before = containers(app)
    with SteadyLoad(SANDBOX.url, rate=RATE, max_seconds=600) as load:
        time.sleep(BEFORE_SECONDS)
        killed = time.monotonic()
        restart = subprocess.run(
            [str(CLUSTER_SH), "restart", component, "--kill"],
            capture_output=True,
            text=True,
            timeout=300,
        )
        healthy = time.monotonic()
        time.sleep(AFTER_SECONDS)
    assert restart.returncode == 0, restart.stdout[-2000:] + restart.stderr[-2000:]
    window = answers_between(load.report.answers, killed - BEFORE_SECONDS, healthy + AFTER_SECONDS)
    print(
        f"\n{component}: SIGKILL, restarted and cluster healthy in {healthy - killed:.1f}s; "
        f"{len(window)} requests at {load.report.requests_per_second():.0f} req/s, "
        f"{len(failed(window))} failed"
    )
    assert failed(window) == [], describe_failures(window, killed)
    assert load.report.requests_per_second() >= RATE * 0.9
    wait_until(app.settled, 120, "the app's pods ready")
    assert containers(app) == before, (
        "the data plane did not live on: a pod was replaced or restarted"
    )


def test_preview_shows_no_change_after_the_faults(app: App) -> None:
    app.preview_shows_no_change()
    app.preview_shows_no_change("--refresh")
