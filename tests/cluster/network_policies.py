"""What the network-policies add-on's tests share (tests/cluster/test_network_policies_addon.py,
tests/faults/test_network_policies_restart.py): in a restricted namespace of a test's own, the
http-echo server `echo` (a Deployment and its ClusterIP Service) and two clients, `frontend`
(app=frontend) and `other` (app=other), whose netcheck is asked to GET a URL once with
`kubectl exec`; the policies; and the agent's pod."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass

from demo_orq.cluster_settings import NETCHECK_IMAGE, SETTINGS
from demo_orq.kube import Object, kubectl, kubectl_json, pods, wait_until
from tests.cluster.helpers import (
    HARDENED,
    NON_ROOT,
    apply,
    echo_app,
    restricted_namespace,
    running_pod,
)

ADDON_NAMESPACE = SETTINGS["NETWORK_POLICIES_NAMESPACE"]
AGENT = "app.kubernetes.io/name=kube-network-policies"
CLIENTS = ("frontend", "other")
TEXT = "netpol-echo"
ATTEMPT_SECONDS = 5.0
"""netcheck's own timeout of one GET (a dropped SYN is retried by the kernel within it)."""


@dataclass
class Reach:
    """One GET from a client: answered (the echo's text) or not, netcheck's error, seconds."""

    ok: bool
    error: str
    seconds: float


def client_pod(namespace: str, name: str) -> Object:
    """netcheck that retries a closed port of its own loopback forever (so the container lives),
    and answers `kubectl exec ... /netcheck -wait 0s URL`."""
    container = {
        "name": "netcheck",
        "image": NETCHECK_IMAGE,
        "imagePullPolicy": "Never",
        "command": ["/netcheck", "-wait", "876000h", "http://127.0.0.1:9/"],
        "resources": {"requests": {"cpu": "5m", "memory": "8Mi"}, "limits": {"memory": "32Mi"}},
        "securityContext": HARDENED,
    }
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app": name}},
        "spec": {
            "securityContext": NON_ROOT,
            "terminationGracePeriodSeconds": 1,
            "automountServiceAccountToken": False,
            "containers": [container],
        },
    }


def deploy_scenario(namespace: str) -> dict[str, str]:
    """The namespace (restricted), the echo server behind its Service, the two clients, Ready,
    and every client reaching the echo at each of `targets` (kube-proxy has the Service's rules);
    the targets."""
    apply(restricted_namespace(namespace), *echo_app(namespace, TEXT, 1))
    apply(*(client_pod(namespace, name) for name in CLIENTS))

    def ready() -> bool:
        listed = pods(namespace, "app in (echo,frontend,other)")
        return len(listed) == 3 and all(
            any(c["type"] == "Ready" and c["status"] == "True"
                for c in p["status"].get("conditions", []))
            for p in listed
        )  # fmt: skip

    wait_until(ready, 120, f"echo and the clients Ready in {namespace}")
    urls = targets(namespace)
    wait_until(lambda: all(reach(namespace, c, u).ok for c in CLIENTS for u in urls.values()),
               30, f"the clients reaching the echo in {namespace}")  # fmt: skip
    return urls


def targets(namespace: str) -> dict[str, str]:
    """The echo's URLs: by its pod's IP, by the Service's ClusterIP, and by the Service's name."""
    [server] = pods(namespace, "app=echo")
    service = kubectl_json("-n", namespace, "get", "service", "echo")
    return {
        "pod IP": f"http://{server['status']['podIP']}:8080/",
        "ClusterIP": f"http://{service['spec']['clusterIP']}/",
        "name": f"http://echo.{namespace}.svc/",
    }


def reach(namespace: str, client: str, url: str) -> Reach:
    """One GET by netcheck in `client`. kubectl exec itself is retried for up to 30 s when it
    gets no answer (a kubelet just restarted knows no pod yet: "pod does not exist")."""
    deadline = time.monotonic() + 30
    while True:
        started = time.monotonic()
        done = kubectl("-n", namespace, "exec", client, "--", "/netcheck", "-wait", "0s", url,
                       check=False, timeout=60)  # fmt: skip
        seconds = time.monotonic() - started
        lines = done.stdout.strip().splitlines()
        if lines:
            result = json.loads(lines[-1])
            return Reach(result.get("body") == TEXT + "\n", result.get("error", ""), seconds)
        assert time.monotonic() < deadline, f"no answer from netcheck in {client}: {done.stderr}"
        time.sleep(0.5)


def until(check: Callable[[], bool], timeout: float, what: str) -> float:
    """Seconds from now to the start of the first check that held (checks back to back: a
    denied GET takes ATTEMPT_SECONDS, so the end of a check would say more about netcheck than
    about the agent); fails after `timeout`."""
    started = time.monotonic()
    while True:
        attempt = time.monotonic()
        if check():
            return attempt - started
        if time.monotonic() - started > timeout:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.05)


def policy(namespace: str, name: str, spec: Object) -> Object:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def deny_ingress(namespace: str) -> Object:
    """Nothing reaches any pod of the namespace."""
    return policy(
        namespace, "default-deny-ingress", {"podSelector": {}, "policyTypes": ["Ingress"]}
    )


def allow_frontend(namespace: str) -> Object:
    """The echo's pods take port 8080 from the namespace's pods labelled app=frontend."""
    rule = {"from": [{"podSelector": {"matchLabels": {"app": "frontend"}}}],
            "ports": [{"protocol": "TCP", "port": 8080}]}  # fmt: skip
    spec = {"podSelector": {"matchLabels": {"app": "echo"}}, "policyTypes": ["Ingress"],
            "ingress": [rule]}  # fmt: skip
    return policy(namespace, "allow-frontend", spec)


def frontend_only(namespace: str, urls: dict[str, str]) -> bool:
    """frontend reaches the echo at every URL but its name, other at none."""
    keys = ("pod IP", "ClusterIP")
    return all(reach(namespace, "frontend", urls[k]).ok for k in keys) and not any(
        reach(namespace, "other", urls[k]).ok for k in keys
    )


def agent_pod() -> Object:
    return running_pod(ADDON_NAMESPACE, AGENT)


def agent_ready(not_uid: str = "") -> Object | None:
    """The agent's one pod (not `not_uid`) once Ready."""
    live = [p for p in pods(ADDON_NAMESPACE, AGENT) if not p["metadata"].get("deletionTimestamp")]
    if len(live) != 1 or live[0]["metadata"]["uid"] == not_uid:
        return None
    conditions = live[0]["status"].get("conditions", [])
    ready = any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)
    return live[0] if ready else None
