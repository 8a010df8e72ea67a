"""The network-policies add-on (cluster/network-policies.sh, docs/network-policies.md) on the local
cluster: kube-network-policies, patched to queue packets with the iptables NFQUEUE target.

- The install command is idempotent; status.sh shows the add-on; bad arguments get exit status 2.
- The agent: hostNetwork, NET_ADMIN its one capability, not privileged, limits; its namespace
  alone is "privileged"; its ServiceAccount reads pods, namespaces and NetworkPolicies only.
- End to end, in a restricted namespace of the test's own (tests/cluster/network_policies.py):
  without a policy both clients reach the echo (pod IP, ClusterIP); a default-deny ingress policy
  stops both (how a refused GET fails, and how fast, is printed), while the kubelet's probes keep
  the echo Ready; an allow rule from app=frontend lets frontend in and not other; each change is
  enforced within CHANGE_LIMIT seconds of the apply returning (printed); the agent's pod deleted,
  enforcement is back once the new one is Ready; an egress default-deny with DNS allowed lets
  frontend resolve the echo's name but not reach it.

Its own namespace, orq-netpol-addon (refused if it exists, deleted at the end).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from demo_orq.kube import Object, kubectl, kubectl_json, namespace_exists, pods
from tests.cluster.helpers import Addon, apply, delete_namespace, lib_settings
from tests.cluster.network_policies import (
    ADDON_NAMESPACE,
    AGENT,
    ATTEMPT_SECONDS,
    CLIENTS,
    agent_pod,
    agent_ready,
    allow_frontend,
    deny_ingress,
    deploy_scenario,
    frontend_only,
    policy,
    reach,
    until,
)
from tests.sandbox import SANDBOXES

pytestmark = pytest.mark.cluster

SANDBOX = SANDBOXES["network-policies-addon"]
NAMESPACE = SANDBOX.namespace
SERVICE_ACCOUNT = f"system:serviceaccount:{ADDON_NAMESPACE}:kube-network-policies"
CHANGE_LIMIT = 10.0
"""Seconds from `kubectl apply` returning to the change enforced (informer event, then a new
verdict for the next connection: the agent judges each new connection's first packet)."""


ADDON = Addon(
    "network-policies.sh",
    "network-policies",
    "kube-network-policies",
    ADDON_NAMESPACE,
    ("serviceaccount/kube-network-policies", "clusterrole/kube-network-policies",
     "clusterrolebinding/kube-network-policies", "daemonset/kube-network-policies"),
    AGENT,
)  # fmt: skip
addon = ADDON.fixture()


@pytest.fixture(scope="module")
def urls(addon: str) -> Iterator[dict[str, str]]:
    SANDBOX.claim()
    try:
        yield deploy_scenario(NAMESPACE)
    finally:
        if namespace_exists(NAMESPACE):
            delete_namespace(NAMESPACE)


def test_the_install_command_is_idempotent(addon: str) -> None:
    ADDON.assert_second_install_is_a_no_op()


def test_status_shows_the_add_on_and_bad_arguments_are_refused(addon: str) -> None:
    line = ADDON.assert_status_and_refusals()
    assert ADDON_NAMESPACE in line, line


def test_the_agent_has_only_what_it_needs(addon: str) -> None:
    pod = agent_pod()
    assert pod["spec"]["hostNetwork"] is True
    [container] = pod["spec"]["containers"]
    security = container["securityContext"]
    assert security["capabilities"] == {"drop": ["ALL"], "add": ["NET_ADMIN"]}, security
    assert not security.get("privileged") and security["allowPrivilegeEscalation"] is False
    image = lib_settings("NETWORK_POLICIES_IMAGE")["NETWORK_POLICIES_IMAGE"]
    assert (container["image"], container["imagePullPolicy"]) == (image, "Never")
    assert "limits" in container["resources"], container["resources"]
    labels = kubectl_json("get", "namespace", ADDON_NAMESPACE)["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "privileged", labels

    def can(*args: str) -> bool:
        answer = kubectl("auth", "can-i", f"--as={SERVICE_ACCOUNT}", *args, check=False)
        return answer.stdout.strip() == "yes"

    assert can("watch", "pods", "-A") and can("list", "namespaces")
    assert can("watch", "networkpolicies.networking.k8s.io", "-A")
    assert not can("get", "secrets", "-A") and not can("create", "pods", "-n", ADDON_NAMESPACE)
    assert not can("update", "networkpolicies.networking.k8s.io", "-A")

    top = kubectl("top", "pod", "-n", ADDON_NAMESPACE, "-l", AGENT, "--no-headers", check=False)
    print(f"\nagent (kubectl top pod): {top.stdout.strip() or top.stderr.strip()}")


def test_without_a_policy_every_client_reaches_the_echo(urls: dict[str, str]) -> None:
    for client in CLIENTS:
        for kind, url in urls.items():
            answer = reach(NAMESPACE, client, url)
            assert answer.ok, f"{client} -> {kind} {url}: {answer}"
            print(
                f"\n{client} -> {kind}: answered in {answer.seconds:.2f}s (kubectl exec included)"
            )


def test_default_deny_stops_every_client_but_not_the_kubelets_probes(
    urls: dict[str, str],
) -> None:
    apply(deny_ingress(NAMESPACE))
    seconds = until(lambda: not reach(NAMESPACE, "frontend", urls["pod IP"]).ok, CHANGE_LIMIT,
                    "the default deny enforced")  # fmt: skip
    print(f"\ndefault deny: enforced {seconds:.2f}s after the apply returned")
    for client in CLIENTS:
        for kind in ("pod IP", "ClusterIP"):
            answer = reach(NAMESPACE, client, urls[kind])
            print(f"{client} -> {kind} denied: {answer.error!r} after {answer.seconds:.2f}s")
            assert not answer.ok
            # Dropped, not refused: the GET waits for netcheck's own timeout.
            assert "deadline exceeded" in answer.error or "Timeout" in answer.error, answer
            assert answer.seconds >= ATTEMPT_SECONDS - 0.5, answer
    # The kubelet's readiness probe (from the node) still passes: the echo stays Ready.
    [server] = pods(NAMESPACE, "app=echo")
    ready = [c for c in server["status"]["conditions"] if c["type"] == "Ready"]
    assert ready[0]["status"] == "True", server["status"]


def test_an_allow_rule_lets_frontend_in_and_not_other(urls: dict[str, str]) -> None:
    apply(allow_frontend(NAMESPACE))
    seconds = until(lambda: reach(NAMESPACE, "frontend", urls["ClusterIP"]).ok, CHANGE_LIMIT,
                    "frontend allowed")  # fmt: skip
    print(f"\nallow app=frontend: enforced {seconds:.2f}s after the apply returned")
    assert frontend_only(NAMESPACE, urls)


def test_enforcement_is_back_once_a_new_agent_is_ready(urls: dict[str, str]) -> None:
    """The agent dies on SIGTERM without removing its table: while no agent reads the queue,
    the selected pods' new connections wait (fail closed), then the new agent judges them."""
    old = agent_pod()["metadata"]["uid"]
    kubectl("-n", ADDON_NAMESPACE, "delete", "pod", "-l", AGENT, "--wait=false")
    during = reach(NAMESPACE, "frontend", urls["ClusterIP"])
    ready = until(lambda: bool(agent_ready(old)), 120, "a new agent Ready")
    enforced = until(lambda: frontend_only(NAMESPACE, urls), 60, "the policies enforced")
    print(f"\nagent pod deleted: frontend's GET at once {'answered' if during.ok else 'failed'} "
          f"in {during.seconds:.2f}s ({during.error or 'ok'}); new agent Ready after "
          f"{ready:.1f}s, policies enforced {enforced:.2f}s later")  # fmt: skip
    assert not reach(NAMESPACE, "other", urls["pod IP"]).ok


def test_egress_default_deny_lets_dns_through_and_nothing_else(urls: dict[str, str]) -> None:
    """CoreDNS listens on 1053 in its pod (kube-dns: 53 -> 1053) and a policy sees the port after
    the Service's DNAT: a rule for port 53 lets no lookup through here; one that names the pod's
    ports (dns, dns-tcp) does."""
    to_dns = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
              "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}  # fmt: skip

    def dns_only(ports: list[Object]) -> Object:
        spec = {"podSelector": {"matchLabels": {"app": "frontend"}}, "policyTypes": ["Egress"],
                "egress": [{"to": [to_dns], "ports": ports}]}  # fmt: skip
        return policy(NAMESPACE, "frontend-egress-dns-only", spec)

    apply(dns_only([{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]))
    try:
        seconds = until(lambda: not reach(NAMESPACE, "frontend", urls["pod IP"]).ok,
                        CHANGE_LIMIT, "the egress deny enforced")  # fmt: skip
        port_53 = reach(NAMESPACE, "frontend", urls["name"])
        print(f"\negress deny but port 53: enforced {seconds:.2f}s after the apply; by name: "
              f"{port_53.error!r} after {port_53.seconds:.2f}s")  # fmt: skip
        assert port_53.error.startswith("resolve:"), port_53

        apply(
            dns_only([{"protocol": "UDP", "port": "dns"}, {"protocol": "TCP", "port": "dns-tcp"}])
        )
        by_name = reach(NAMESPACE, "frontend", urls["name"])
        print(f"egress deny but the ports dns/dns-tcp: by name: {by_name.error!r} after "
              f"{by_name.seconds:.2f}s")  # fmt: skip
        # Resolved (the name is in the error), then the GET dropped.
        assert not by_name.ok and not by_name.error.startswith("resolve:"), by_name
        assert reach(NAMESPACE, "other", urls["ClusterIP"]).ok is False  # ingress still denies
    finally:
        kubectl("-n", NAMESPACE, "delete", "networkpolicy", "frontend-egress-dns-only")
    until(lambda: reach(NAMESPACE, "frontend", urls["name"]).ok, CHANGE_LIMIT,
          "frontend reaching the echo by name again")  # fmt: skip
