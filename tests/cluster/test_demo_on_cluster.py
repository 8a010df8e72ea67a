"""The demo's own manifest, applied with kubectl, on the local cluster (cluster/up.sh).

The tests run in order in their own sandbox (the demo moved to another namespace and node
port, so that a demo the user deployed is never touched): deploy, NodePort and port-forward
answers, scale, a v2 rollout, rollout undo, self-healing after every pod is deleted. The
sandbox's namespace is deleted at the end.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from components.traffic import http_get
from demo_orq import facts
from demo_orq.kube import Object, deployment_settled, kubectl, pods, ready_pods, wait_until
from tests.cluster.helpers import delete_namespace, port_forward, wait_for_only_answer
from tests.sandbox import SANDBOXES

pytestmark = pytest.mark.cluster

SANDBOX = SANDBOXES["kubectl"]
NAMESPACE, DEPLOYMENT = SANDBOX.namespace, facts.DEPLOYMENT
SELECTOR = f"app={DEPLOYMENT}"
NODEPORT = ("127.0.0.1", SANDBOX.node_port)
V1, V2 = facts.V1_MESSAGE, facts.V2_MESSAGE
# A free local port of the test's own (the demo's port-forward uses 18180).
PORT_FORWARD_PORT = 18280


def apply(message: str) -> None:
    kubectl("apply", "-f", "-", stdin=SANDBOX.manifest(message))


def wait_settled(replicas: int, timeout: float = 120) -> None:
    wait_until(
        lambda: deployment_settled(NAMESPACE, DEPLOYMENT, replicas),
        timeout,
        f"{replicas} updated, ready and available replicas",
    )
    wait_until(
        lambda: len(pods(NAMESPACE, SELECTOR)) == replicas, timeout, f"exactly {replicas} pods"
    )


def rollout_status() -> None:
    kubectl("-n", NAMESPACE, "rollout", "status", f"deployment/{DEPLOYMENT}", "--timeout=120s",
            timeout=130)  # fmt: skip


@pytest.fixture(scope="module")
def demo(cluster_node: Object) -> Iterator[None]:
    SANDBOX.claim()
    try:
        yield
    finally:
        delete_namespace(NAMESPACE)


def test_one_ready_node_at_v1_30(cluster_node: Object) -> None:
    info = cluster_node["status"]["nodeInfo"]
    conditions = {c["type"]: c["status"] for c in cluster_node["status"]["conditions"]}
    assert conditions["Ready"] == "True", conditions
    assert info["kubeletVersion"].startswith("v1.30."), info
    assert info["containerRuntimeVersion"].startswith("containerd://"), info
    assert len(kubectl("get", "nodes", "-o", "name").stdout.split()) == 1


def test_demo_manifest_gives_three_running_ready_pods(demo: None) -> None:
    started = time.monotonic()
    apply(V1)
    wait_settled(facts.REPLICAS)
    print(f"{facts.REPLICAS} pods ready {time.monotonic() - started:.1f}s after kubectl apply")
    running = [p for p in ready_pods(NAMESPACE, SELECTOR) if p["status"]["phase"] == "Running"]
    assert len(running) == facts.REPLICAS
    for pod in running:
        assert pod["spec"]["securityContext"]["runAsUser"] == 10001
        assert pod["status"]["containerStatuses"][0]["image"] == f"docker.io/{facts.IMAGE}"


def test_nodeport_answers_exact_text(demo: None) -> None:
    # Ready pods reach the node port once kube-proxy has their endpoints (its sync, 1-2 s here).
    wait_for_only_answer(*NODEPORT, V1, timeout=10)
    status, headers, body = http_get(*NODEPORT)
    assert status == 200
    assert body == (V1 + "\n").encode("utf-8")
    assert headers["Content-Type"] == "text/plain; charset=utf-8"
    assert headers["X-App-Name"] == "http-echo" and headers["X-App-Version"] == "0.2.3"


def test_port_forward_answers_exact_text(demo: None) -> None:
    service = f"svc/{facts.SERVICE}"
    with port_forward(NAMESPACE, service, PORT_FORWARD_PORT, facts.SERVICE_PORT) as port:
        status, _, body = http_get("127.0.0.1", port)
    assert status == 200
    assert body == (V1 + "\n").encode("utf-8")


def test_scale_to_five(demo: None) -> None:
    replicas = f"--replicas={facts.SCALED_REPLICAS}"
    kubectl("-n", NAMESPACE, "scale", f"deploy/{DEPLOYMENT}", replicas)
    wait_settled(facts.SCALED_REPLICAS)
    wait_for_only_answer(*NODEPORT, V1, timeout=10)


def test_rollout_of_v2_message(demo: None) -> None:
    patch = (
        '[{"op": "replace", "path": "/spec/template/spec/containers/0/args", '
        f'"value": ["-text={V2}", "-listen=:{facts.CONTAINER_PORT}"]}}]'
    )
    kubectl("-n", NAMESPACE, "patch", f"deployment/{DEPLOYMENT}", "--type=json", "-p", patch)
    rollout_status()
    wait_settled(facts.SCALED_REPLICAS)
    wait_for_only_answer(*NODEPORT, V2, timeout=30)


def test_rollout_undo_brings_v1_back(demo: None) -> None:
    kubectl("-n", NAMESPACE, "rollout", "undo", f"deployment/{DEPLOYMENT}")
    rollout_status()
    wait_settled(facts.SCALED_REPLICAS)
    wait_for_only_answer(*NODEPORT, V1, timeout=30)


def test_deleting_every_pod_heals(demo: None) -> None:
    before = {p["metadata"]["name"] for p in pods(NAMESPACE, SELECTOR)}
    started = time.monotonic()
    kubectl("-n", NAMESPACE, "delete", "pods", "--all", "--force", "--grace-period=0")

    def new_ready() -> int:
        return len({p["metadata"]["name"] for p in ready_pods(NAMESPACE, SELECTOR)} - before)

    wait_until(lambda: new_ready() == facts.SCALED_REPLICAS, 120, "5 new ready pods")
    print(f"5 new pods ready {time.monotonic() - started:.1f}s after deleting all pods")
    wait_settled(facts.SCALED_REPLICAS)
    wait_for_only_answer(*NODEPORT, V1, timeout=30)
