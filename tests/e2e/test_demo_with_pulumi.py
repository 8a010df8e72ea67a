"""The demo end to end with the real Pulumi engine and provider on the real local cluster.

The tests run in order on one throwaway stack (its own copy of the program and local backend):
deploy, scale, v2 under live traffic, rollback from the stack history, self-healing, a failed
rollout that keeps the old version serving, and destroy. They fail (never skip) when the cluster
or the toolchain is missing.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from pulumi import automation as auto

from components.traffic import SteadyLoad
from demo_orq import events, facts
from demo_orq.cluster_settings import PAUSE_IMAGE
from demo_orq.kube import (
    deployment_settled,
    is_ready,
    kubectl,
    kubectl_json,
    pods,
    ready_pods,
    wait_until,
)
from demo_orq.rollback import numbered, rollback
from demo_orq.stack_history import read_history
from demo_orq.stacks import set_config
from demo_orq.timeline import Recorder, save
from tests.cluster.helpers import wait_for_only_answer
from tests.sandbox import (
    SANDBOXES,
    ProjectCopy,
    copy_project,
    require_pulumi_cli,
    sandbox_stack,
    stack_ref,
)

pytestmark = pytest.mark.e2e

V1, V2 = facts.V1_MESSAGE, facts.V2_MESSAGE
# Its own namespace and node port, apart from the user's demo, other tests and the benchmarks.
SANDBOX = SANDBOXES["e2e"]
NAMESPACE, NODE_PORT = SANDBOX.namespace, SANDBOX.node_port
DEPLOYMENT, SELECTOR = facts.DEPLOYMENT, f"app={facts.DEPLOYMENT}"
SCALED = facts.SCALED_REPLICAS
MAX_UNAVAILABLE = 1
MIN_REQUESTS_PER_SECOND = 100
FAILED_ROLLOUT_TIMEOUT_SECONDS = 15
TIMELINES = facts.PROJECT_DIR / ".demo-orq" / "e2e"
"""Where the pictures of the measured rollouts go (git-ignored)."""
NEVER_READY_IMAGE = PAUSE_IMAGE  # on the node: nothing is ever pulled


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> ProjectCopy:
    require_pulumi_cli()
    return copy_project(tmp_path_factory.mktemp("e2e") / "project")


@pytest.fixture(scope="module")
def stack(project: ProjectCopy) -> Iterator[auto.Stack]:
    with sandbox_stack(project, "e2e", SANDBOX) as stack:
        yield stack


def wait_for_answer(url: str, text: str) -> None:
    """Until 20 requests in a row to the loopback `url` answer `text` (Services are not awaited)."""
    parts = urlsplit(url)
    wait_for_only_answer(parts.hostname, parts.port, text, timeout=30)


def up(stack: auto.Stack, message: str) -> auto.UpResult:
    return stack.up(message=message, on_output=print)


class UnavailabilityWatch:
    """Polls the Deployment during an update and keeps the most pods it ever missed."""

    def __init__(self, replicas: int) -> None:
        self.replicas, self.worst = replicas, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while not self._stop.is_set():
            status = kubectl_json("-n", NAMESPACE, "get", "deployment", DEPLOYMENT).get(
                "status", {}
            )
            self.worst = max(self.worst, self.replicas - status.get("availableReplicas", 0))
            time.sleep(0.3)

    def __enter__(self) -> UnavailabilityWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def test_up_deploys_v1_with_three_ready_pods(stack: auto.Stack):
    result = up(stack, "v1")
    url = result.outputs["url"].value
    assert url == f"http://127.0.0.1:{NODE_PORT}/"
    wait_until(lambda: deployment_settled(NAMESPACE, DEPLOYMENT, 3), 120, "3 ready pods")
    assert len(ready_pods(NAMESPACE, SELECTOR)) == 3
    wait_for_answer(url, V1)  # exact bytes, emoji intact, as http-echo answers


def test_scaling_to_five_by_config_keeps_the_existing_pods(stack: auto.Stack):
    before = {
        p["metadata"]["uid"]: p["status"]["containerStatuses"][0]["restartCount"]
        for p in pods(NAMESPACE, SELECTOR)
    }
    set_config(stack, replicas=str(SCALED))
    up(stack, "scale to 5")
    wait_until(lambda: deployment_settled(NAMESPACE, DEPLOYMENT, SCALED), 120, "5 ready pods")
    after = {
        p["metadata"]["uid"]: p["status"]["containerStatuses"][0]["restartCount"]
        for p in ready_pods(NAMESPACE, SELECTOR)
    }
    assert len(after) == SCALED
    assert {uid: after.get(uid) for uid in before} == before, (
        "an existing pod was replaced or restarted"
    )


def test_v2_rolls_out_under_live_traffic_without_a_failed_request(stack: auto.Stack):
    url = stack.outputs()["url"].value
    set_config(stack, message=V2)
    with (
        UnavailabilityWatch(replicas=SCALED) as watch,
        Recorder(url, NAMESPACE, SELECTOR, rate=150) as load,
    ):
        load.mark("pulumi up")
        up(stack, "v2")
        load.mark("up done")
        wait_until(lambda: deployment_settled(NAMESPACE, DEPLOYMENT, SCALED), 120, "v2 settled")
        time.sleep(2)
    report = load.report
    _, picture = save(load.timeline("e2e: v2 rollout at 150 req/s"), TIMELINES, "v2-rollout",
                      slo_p99_ms=500)  # fmt: skip
    print(f"\nv2 rollout traffic: {report.summary()}; most pods unavailable: {watch.worst}")
    print(f"v2 rollout timeline: {picture}")
    assert report.failures == [], report.failures[:5]
    assert report.requests_per_second() >= MIN_REQUESTS_PER_SECOND
    assert report.body_sequence() == [V1 + "\n", V2 + "\n"]
    assert {a.body for a in report.answers[-50:]} == {V2 + "\n"}
    assert watch.worst <= MAX_UNAVAILABLE


def test_rollback_to_the_v1_update_from_the_stack_history(stack: auto.Stack):
    history = read_history(stack_ref(stack))
    v1_update = next(e for e in numbered(history) if e.update.message == "scale to 5")
    rollback(stack_ref(stack), v1_update.number, on_output=print)
    wait_until(lambda: deployment_settled(NAMESPACE, DEPLOYMENT, SCALED), 120, "rollback settled")
    wait_for_answer(stack.outputs()["url"].value, V1)
    newest = stack.history()[0]
    assert (newest.message, newest.result) == (
        f"rollback to update {v1_update.number}",
        "succeeded",
    )
    message = stack.get_all_config().get(f"{facts.PROJECT}:message")
    assert message is None or message.value == V1  # v1: the default message


def test_the_cluster_refuses_a_privileged_pod_in_the_apps_namespace(stack: auto.Stack):
    container = {"name": "c", "image": PAUSE_IMAGE, "imagePullPolicy": "Never",
                 "securityContext": {"privileged": True}}  # fmt: skip
    privileged = json.dumps(
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "privileged"},
         "spec": {"containers": [container]}}
    )  # fmt: skip
    refused = kubectl("-n", NAMESPACE, "apply", "--dry-run=server", "-f", "-", stdin=privileged,
                      check=False)  # fmt: skip

    assert refused.returncode != 0
    assert 'violates PodSecurity "restricted:v1.30"' in refused.stderr, refused.stderr
    assert "privileged" in refused.stderr
    assert len(ready_pods(NAMESPACE, SELECTOR)) == SCALED  # the app's own pods were admitted


def test_deleted_pods_come_back_by_themselves(stack: auto.Stack, project: ProjectCopy):
    before = {p["metadata"]["uid"] for p in pods(NAMESPACE, SELECTOR)}
    started = time.monotonic()
    kubectl("-n", NAMESPACE, "delete", "pod", "-l", SELECTOR, "--force", "--grace-period=0",
            "--wait=false")  # fmt: skip

    def healed() -> bool:
        new = [p for p in ready_pods(NAMESPACE, SELECTOR) if p["metadata"]["uid"] not in before]
        return bool(deployment_settled(NAMESPACE, DEPLOYMENT, SCALED)) and len(new) == SCALED

    wait_until(healed, 180, f"{SCALED} new ready pods", interval=0.2)
    seconds = time.monotonic() - started
    print(f"\nself-healing: {SCALED} new pods Ready {seconds:.1f}s after deleting all of them")
    events.record("e2e", "heal", seconds, "e2e: every pod deleted", work_dir=project.directory)
    wait_for_answer(stack.outputs()["url"].value, V1)


def test_a_failed_rollout_fails_fast_and_keeps_the_old_version_serving(
    stack: auto.Stack, project: ProjectCopy
):
    url = stack.outputs()["url"].value
    # A container that never becomes ready: the cluster's own pause image (present, so nothing is
    # pulled; a missing image would make containerd ask a registry outside this machine).
    set_config(stack, image=NEVER_READY_IMAGE, rolloutTimeout=str(FAILED_ROLLOUT_TIMEOUT_SECONDS))
    with SteadyLoad(url, rate=150) as load:
        started = time.monotonic()
        with pytest.raises(auto.CommandError) as failure:
            up(stack, "an image that never becomes ready")
        elapsed = time.monotonic() - started
        time.sleep(2)
    report = load.report
    print(f"\nfailed rollout: pulumi up failed after {elapsed:.0f}s; traffic: {report.summary()}")
    assert elapsed < FAILED_ROLLOUT_TIMEOUT_SECONDS + 60
    assert "containers with unready status: [app]" in str(failure.value), str(failure.value)[-3000:]
    assert report.failures == [], report.failures[:5]
    assert set(report.bodies) == {V1 + "\n"}
    assert len([p for p in ready_pods(NAMESPACE, SELECTOR)]) >= SCALED - MAX_UNAVAILABLE

    rollback(stack_ref(stack), None, on_output=print)
    assert stack.history()[0].result == "succeeded"
    wait_until(
        lambda: deployment_settled(NAMESPACE, DEPLOYMENT, SCALED),
        120,
        "rollback after failure settled",
    )
    recovered = time.monotonic() - started
    print(f"failed rollout: v1 alone again {recovered:.0f}s after the update started")
    events.record("e2e", "failed-rollout", recovered, work_dir=project.directory)
    images = {p["spec"]["containers"][0]["image"] for p in pods(NAMESPACE, SELECTOR) if is_ready(p)}
    assert images == {facts.IMAGE}


def test_destroy_leaves_nothing_in_the_cluster(stack: auto.Stack):
    stack.destroy(on_output=print)
    wait_until(
        lambda: kubectl("get", "namespace", NAMESPACE, check=False).returncode != 0,
        180,
        f"namespace {NAMESPACE} to be gone",
    )
    assert stack.export_stack().deployment.get("resources") in (None, [])
