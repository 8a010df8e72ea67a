"""The demo's own manifest, applied with kubectl, on the local cluster (cluster/up.sh).

The tests run in order on one namespace: deploy, NodePort and port-forward answers, scale, a v2
rollout, rollout undo, self-healing after every pod is deleted. The namespace is deleted at the
end, so that later suites (Pulumi e2e) start from an empty cluster.
"""

from __future__ import annotations

import json
import time
from typing import Iterator

import pytest

from tests.cluster.helpers import (DEMO_MANIFEST, NODEPORT_URL, delete_namespace, http_get, port_forward,
                                   wait_for_only_answer)
from tests.support.kube import deployment_settled, kubectl, pods, ready_pods, wait_until

pytestmark = pytest.mark.cluster

V1 = "Hola desde Kubernetes 👋"
V2 = "Hola desde K8s v2 🚀"
NAMESPACE, DEPLOYMENT, SELECTOR = "demo", "hello-api", "app=hello-api"


def wait_settled(replicas: int, timeout: float = 120) -> None:
    wait_until(lambda: deployment_settled(NAMESPACE, DEPLOYMENT, replicas), timeout,
               f"{replicas} updated, ready and available replicas")
    wait_until(lambda: len(pods(NAMESPACE, SELECTOR)) == replicas, timeout, f"exactly {replicas} pods")


def rollout_status() -> None:
    kubectl("-n", NAMESPACE, "rollout", "status", f"deployment/{DEPLOYMENT}", "--timeout=120s", timeout=130)


@pytest.fixture(scope="module")
def demo(cluster_node: dict) -> Iterator[None]:
    delete_namespace(NAMESPACE)  # leftovers of an interrupted run
    assert DEMO_MANIFEST.is_file(), f"demo manifest not found at {DEMO_MANIFEST}"
    yield
    delete_namespace(NAMESPACE)


def test_one_ready_node_at_v1_30(cluster_node: dict) -> None:
    info = cluster_node["status"]["nodeInfo"]
    conditions = {c["type"]: c["status"] for c in cluster_node["status"]["conditions"]}
    assert conditions["Ready"] == "True", conditions
    assert info["kubeletVersion"].startswith("v1.30."), info
    assert info["containerRuntimeVersion"].startswith("containerd://"), info
    assert len(kubectl("get", "nodes", "-o", "name").stdout.split()) == 1


def test_demo_manifest_gives_three_running_ready_pods(demo: None) -> None:
    started = time.monotonic()
    kubectl("apply", "-f", str(DEMO_MANIFEST))
    wait_settled(3)
    print(f"3 pods ready {time.monotonic() - started:.1f}s after kubectl apply")
    running = [p for p in ready_pods(NAMESPACE, SELECTOR) if p["status"]["phase"] == "Running"]
    assert len(running) == 3
    for pod in running:
        assert pod["spec"]["securityContext"]["runAsUser"] == 10001
        assert pod["status"]["containerStatuses"][0]["image"] == "docker.io/hashicorp/http-echo:0.2.3"


def test_nodeport_answers_exact_text(demo: None) -> None:
    status, headers, body = http_get(*NODEPORT_URL)
    assert status == 200
    assert body == (V1 + "\n").encode("utf-8")
    assert headers["Content-Type"] == "text/plain; charset=utf-8"
    assert headers["X-App-Name"] == "http-echo" and headers["X-App-Version"] == "0.2.3"
    wait_for_only_answer(*NODEPORT_URL, V1, timeout=10)


def test_port_forward_answers_exact_text(demo: None) -> None:
    with port_forward(NAMESPACE, "svc/hello-svc", 18180, 80) as port:
        status, _, body = http_get("127.0.0.1", port)
    assert status == 200
    assert body == (V1 + "\n").encode("utf-8")


def test_scale_to_five(demo: None) -> None:
    kubectl("-n", NAMESPACE, "scale", f"deploy/{DEPLOYMENT}", "--replicas=5")
    wait_settled(5)
    wait_for_only_answer(*NODEPORT_URL, V1, timeout=10)


def test_rollout_of_v2_message(demo: None) -> None:
    patch = [{"op": "replace", "path": "/spec/template/spec/containers/0/args",
              "value": [f"-text={V2}", "-listen=:8080"]}]
    kubectl("-n", NAMESPACE, "patch", f"deployment/{DEPLOYMENT}", "--type=json", "-p", json.dumps(patch, ensure_ascii=False))
    rollout_status()
    wait_settled(5)
    wait_for_only_answer(*NODEPORT_URL, V2, timeout=30)


def test_rollout_undo_brings_v1_back(demo: None) -> None:
    kubectl("-n", NAMESPACE, "rollout", "undo", f"deployment/{DEPLOYMENT}")
    rollout_status()
    wait_settled(5)
    wait_for_only_answer(*NODEPORT_URL, V1, timeout=30)


def test_deleting_every_pod_heals(demo: None) -> None:
    before = {p["metadata"]["name"] for p in pods(NAMESPACE, SELECTOR)}
    started = time.monotonic()
    kubectl("-n", NAMESPACE, "delete", "pods", "--all", "--force", "--grace-period=0")
    wait_until(lambda: len({p["metadata"]["name"] for p in ready_pods(NAMESPACE, SELECTOR)} - before) == 5,
               120, "5 new ready pods")
    print(f"5 new pods ready {time.monotonic() - started:.1f}s after deleting all pods")
    wait_settled(5)
    wait_for_only_answer(*NODEPORT_URL, V1, timeout=30)
