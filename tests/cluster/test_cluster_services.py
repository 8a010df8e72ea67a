"""What a real cluster offers, on the local one (cluster/up.sh), and that it keeps serving.

- Cluster DNS (CoreDNS): a pod resolves a Service name and gets its answer; names outside the
  cluster are not resolved (nothing is forwarded off the machine).
- The API server from pods, through the `kubernetes` Service.
- An address of the Service range that no Service has is refused, never routed off the machine.
- The metrics API (metrics-server): `kubectl top nodes` and `kubectl top pods`.

Its own namespace, orq-cluster-dns. The cluster's faults (each component killed and restarted,
an unclean stop of the whole node) are in tests/faults, with the program deployed by Pulumi.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import time
from collections.abc import Iterator

import pytest

from demo_orq.cluster_settings import (
    KUBE_VERSION,
    NETCHECK_IMAGE,
    NODE_NAME,
    SERVICE_API_IP,
    SETTINGS,
)
from demo_orq.kube import Object, kubectl, kubectl_json, pods, wait_until
from tests.cluster.helpers import HARDENED, NON_ROOT, apply, delete_namespace, deploy_echo
from tests.sandbox import SANDBOXES

pytestmark = pytest.mark.cluster

DNS_SANDBOX = SANDBOXES["cluster-dns"]  # its Service is a ClusterIP: no node port used
DNS_MESSAGE = "found by name"


def run_netcheck(namespace: str, name: str, *args: str) -> list[Object]:
    """Runs the netcheck image in a pod with `args` until it ends; its JSON lines."""
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "restartPolicy": "Never",
            "securityContext": NON_ROOT,
            "containers": [
                {
                    "name": "netcheck",
                    "image": NETCHECK_IMAGE,
                    "imagePullPolicy": "Never",
                    "args": ["-wait", "20s", *args],
                    "securityContext": HARDENED,
                }
            ],
        },
    }
    kubectl("-n", namespace, "delete", "pod", name, "--ignore-not-found", "--wait=true")
    apply(pod)
    wait_until(
        lambda: (
            kubectl_json("-n", namespace, "get", "pod", name)["status"].get("phase")
            in ("Succeeded", "Failed")
        ),
        90,
        f"pod {namespace}/{name} to finish",
    )
    logs = kubectl("-n", namespace, "logs", name).stdout
    return [json.loads(line) for line in logs.splitlines() if line.startswith("{")]


@pytest.fixture(scope="module")
def dns_app(cluster_node: Object) -> Iterator[str]:
    """http-echo behind a ClusterIP Service in orq-cluster-dns; yields the Service's IP."""
    deploy_echo(DNS_SANDBOX, DNS_MESSAGE, replicas=1)
    try:
        yield kubectl_json("-n", DNS_SANDBOX.namespace, "get", "service", "echo")["spec"][
            "clusterIP"
        ]
    finally:
        delete_namespace(DNS_SANDBOX.namespace)


def test_a_pod_resolves_a_service_name_and_gets_its_answer(dns_app: str) -> None:
    url = f"http://echo.{DNS_SANDBOX.namespace}.svc.cluster.local/"
    [result] = run_netcheck(DNS_SANDBOX.namespace, "netcheck-service", url)
    assert result["addrs"] == [dns_app], result
    assert (result["status"], result["body"]) == (200, DNS_MESSAGE + "\n"), result


def test_names_outside_the_cluster_are_not_resolved(dns_app: str) -> None:
    """CoreDNS has no forwarder: a name outside cluster.local gets no address (and no query
    leaves the machine)."""
    [result] = run_netcheck(
        DNS_SANDBOX.namespace, "netcheck-outside", "-wait", "0s", "http://example.com/"
    )
    assert result["addrs"] is None and result["error"].startswith("resolve:"), result
    corefile = kubectl(
        "-n", "kube-system", "get", "configmap", "coredns", "-o", "jsonpath={.data.Corefile}"
    ).stdout
    assert "forward" not in corefile and "kubernetes cluster.local" in corefile, corefile


def test_a_pod_reaches_the_api_server_through_the_kubernetes_service(dns_app: str) -> None:
    [with_token] = run_netcheck(
        DNS_SANDBOX.namespace, "netcheck-api", "-token", "https://kubernetes.default.svc/version"
    )
    assert with_token["addrs"] == [SERVICE_API_IP], with_token
    assert with_token["status"] == 200, with_token
    assert json.loads(with_token["body"])["gitVersion"] == KUBE_VERSION, with_token
    # Without credentials the path still works; the API server refuses anonymous requests.
    [anonymous] = run_netcheck(
        DNS_SANDBOX.namespace, "netcheck-api-anonymous", "https://kubernetes.default.svc/api"
    )
    assert anonymous["status"] == 401, anonymous


def unused_cluster_ip() -> str:
    """An address of the Service range that no Service has (as kube-proxy has not programmed a
    Service created a moment ago)."""
    used = {s["spec"].get("clusterIP") for s in kubectl_json("get", "services", "-A")["items"]}
    network = ipaddress.ip_network(SETTINGS["SERVICE_CIDR"])
    return next(str(ip) for ip in reversed(list(network.hosts())) if str(ip) not in used)


def test_an_address_of_the_service_range_that_no_service_has_is_refused_on_the_machine(
    dns_app: str,
) -> None:
    """Its packets would otherwise follow the default route out of the machine; refused here, a
    client retries instead of taking an answer from elsewhere for the Service's."""
    address = unused_cluster_ip()
    started = time.monotonic()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((address, 80), timeout=3).close()
    assert time.monotonic() - started < 1.0
    [from_a_pod] = run_netcheck(DNS_SANDBOX.namespace, "netcheck-unused-ip", "-wait", "0s",
                                f"http://{address}/")  # fmt: skip
    assert "connection refused" in from_a_pod["error"], from_a_pod
    # A programmed one still answers, from a pod and from the machine.
    assert (
        run_netcheck(DNS_SANDBOX.namespace, "netcheck-used-ip", f"http://{dns_app}/")[0]["body"]
        == DNS_MESSAGE + "\n"
    )
    socket.create_connection((dns_app, 80), timeout=3).close()


def top(*args: str) -> str | None:
    """The output of `kubectl top ...` once it answers, else None."""
    completed = kubectl("top", *args, check=False, timeout=30)
    return completed.stdout if completed.returncode == 0 else None


def top_pods_listing(namespace: str, names: list[str]) -> str | None:
    out = top("pods", "-n", namespace)
    return out if out and all(name in out for name in names) else None


def test_kubectl_top_nodes_and_pods_answer(dns_app: str) -> None:
    nodes = wait_until(lambda: top("nodes"), 60, "kubectl top nodes")
    assert NODE_NAME in nodes, nodes
    # A new pod is listed once metrics-server has scraped it twice (resolution 10 s).
    names = [pod["metadata"]["name"] for pod in pods(DNS_SANDBOX.namespace, "app=echo")]
    listed = wait_until(
        lambda: top_pods_listing(DNS_SANDBOX.namespace, names),
        90,
        f"kubectl top pods -n {DNS_SANDBOX.namespace} listing {names}",
    )
    print(f"\nkubectl top nodes:\n{nodes}kubectl top pods -n {DNS_SANDBOX.namespace}:\n{listed}")


def test_the_add_ons_run_in_kube_system_under_the_restricted_profile(cluster_node: Object) -> None:
    labels = kubectl_json("get", "namespace", "kube-system")["metadata"].get("labels", {})
    assert labels.get("pod-security.kubernetes.io/enforce") == "restricted", labels
    for app in ("kube-dns", "metrics-server"):
        [pod] = [
            p
            for p in pods("kube-system", f"k8s-app={app}")
            if not p["metadata"].get("deletionTimestamp")
        ]
        container = pod["spec"]["containers"][0]
        assert container["imagePullPolicy"] == "Never", container
        assert pod["status"]["phase"] == "Running", pod["status"]
