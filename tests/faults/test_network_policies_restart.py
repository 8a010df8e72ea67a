"""NetworkPolicy enforcement (the network-policies add-on, cluster/network-policies.sh) across
restarts of the node's components: containerd, the kubelet and kube-proxy, one after the other
(`cluster/cluster.sh restart`, which waits until the cluster is healthy again). kube-proxy
rewrites its iptables rules when it starts and the agent keeps its own nftables table, so neither
wipes the other: after each restart frontend still reaches the echo (pod IP and ClusterIP) and
other still does not, within ENFORCED_LIMIT seconds (printed). Holds the lock of the disruptive
experiments; its own namespace, orq-faults-netpol (refused if it exists, deleted at the end).
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator

import pytest

from demo_orq.facts import PROJECT_DIR
from demo_orq.kube import Object, namespace_exists
from tests.cluster.helpers import apply, delete_namespace, install_addon
from tests.cluster.network_policies import (
    agent_ready,
    allow_frontend,
    deny_ingress,
    deploy_scenario,
    frontend_only,
    until,
)
from tests.faults.helpers import disruptive
from tests.sandbox import SANDBOXES

pytestmark = pytest.mark.faults

SANDBOX = SANDBOXES["faults-netpol"]
NAMESPACE = SANDBOX.namespace
CLUSTER = PROJECT_DIR / "cluster"
ENFORCED_LIMIT = 60.0


@pytest.fixture(scope="module")
def urls(cluster_node: Object) -> Iterator[dict[str, str]]:
    install_addon("network-policies.sh")
    with disruptive():
        SANDBOX.claim()
        try:
            urls = deploy_scenario(NAMESPACE)
            apply(deny_ingress(NAMESPACE), allow_frontend(NAMESPACE))
            until(lambda: frontend_only(NAMESPACE, urls), ENFORCED_LIMIT, "policies enforced")
            yield urls
        finally:
            if namespace_exists(NAMESPACE):
                delete_namespace(NAMESPACE)


@pytest.mark.parametrize("component", ["kube-proxy", "containerd", "kubelet"])
def test_enforcement_survives_a_restart_of(urls: dict[str, str], component: str) -> None:
    started = time.monotonic()
    completed = subprocess.run([str(CLUSTER / "cluster.sh"), "restart", component],
                               capture_output=True, text=True, timeout=600)  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-3000:]
    restarted = time.monotonic() - started
    until(lambda: bool(agent_ready()), ENFORCED_LIMIT, "the agent Ready")
    seconds = until(lambda: frontend_only(NAMESPACE, urls), ENFORCED_LIMIT, "policies enforced")
    print(f"\n{component} restarted in {restarted:.1f}s; frontend only, {seconds:.2f}s later")
