"""The app's NetworkPolicies (the document's "only `frontend` -> `api`"): everything of the
namespace is denied in and out but DNS, then each kind of pod is let reach what it needs:

| pods | take requests from | send requests to |
|---|---|---|
| the API's (label `app`) | the frontend, the app's Jobs, the gateway's controller | nothing |
| the frontend's | anyone (it is the app's front) | the API's pods |
| the app's Jobs' (smoke test, daily figures) | nobody | the API's pods |

A request through a Service is judged once the Service has picked a pod, so the rules name pods,
never Services. The node itself (the kubelet's probes, the API server's service proxy, a node
port reached from the node) is not a pod: the enforcing agents let it in.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from . import defaults
from .args import HelloAppArgs
from .deployments import app_labels
from .frontend import frontend_labels
from .names import FRONTEND_SUFFIX, JOB_LABEL

DEFAULT_DENY = "default-deny"
JOB_PODS = {"match_expressions": [{"key": JOB_LABEL, "operator": "Exists"}]}
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
POD_PORT = [{"protocol": "TCP", "port": defaults.CONTAINER_PORT}]
"""The port every pod of the app (the API's, the frontend's) listens on."""
DNS = {"namespace": "kube-system", "labels": {"k8s-app": "kube-dns"}}
"""The cluster DNS's pods (CoreDNS under its usual labels, as kind and the local cluster run it)."""


def to_the_api(args: HelloAppArgs) -> dict[str, Any]:
    """A rule's peer and port: the API's pods, on their container port."""
    return {
        "to": [{"pod_selector": {"match_labels": app_labels(args)}}],
        "ports": POD_PORT,
    }


def api_clients(args: HelloAppArgs) -> list[dict[str, Any]]:
    """Who may send the API's pods requests."""
    peers: list[dict[str, Any]] = [
        {"pod_selector": {"match_labels": frontend_labels(args)}},
        {"pod_selector": JOB_PODS},
    ]
    if args.gateway.enabled:
        namespace = {NAMESPACE_NAME_LABEL: args.gateway.controller_namespace}
        peers.append({"namespace_selector": {"match_labels": namespace}})
    return peers


def network_policies(
    parent: pulumi.Resource, name: str, namespace: pulumi.Input[str], args: HelloAppArgs
) -> list[k8s.networking.v1.NetworkPolicy]:
    """The default-deny policy of the namespace and the allow rules of the table above."""
    # By the names of CoreDNS's ports: a policy sees the port the pod listens on, after the
    # Service's 53 has been translated (1053 on the local cluster, 53 on kind's).
    dns_port = [{"protocol": "UDP", "port": "dns"}, {"protocol": "TCP", "port": "dns-tcp"}]
    dns_peer = {
        "namespace_selector": {"match_labels": {NAMESPACE_NAME_LABEL: DNS["namespace"]}},
        "pod_selector": {"match_labels": DNS["labels"]},
    }
    deployment = args.deployment_name
    # By the policy's part: its name in the cluster, and its spec.
    policies: dict[str, tuple[str, dict[str, Any]]] = {
        "deny": (DEFAULT_DENY, {
            "pod_selector": {},
            "policy_types": ["Ingress", "Egress"],
            "egress": [{"to": [dns_peer], "ports": dns_port}],
        }),
        "api": (deployment, {
            "pod_selector": {"match_labels": app_labels(args)},
            "policy_types": ["Ingress"],
            "ingress": [{"from": api_clients(args), "ports": POD_PORT}],
        }),
        "frontend": (f"{deployment}{FRONTEND_SUFFIX}", {
            "pod_selector": {"match_labels": frontend_labels(args)},
            "policy_types": ["Ingress", "Egress"],
            "ingress": [{"ports": POD_PORT}],
            "egress": [to_the_api(args)],
        }),
        "jobs": (f"{deployment}-jobs", {
            "pod_selector": JOB_PODS,
            "policy_types": ["Egress"],
            "egress": [to_the_api(args)],
        }),
    }  # fmt: skip
    return [
        k8s.networking.v1.NetworkPolicy(
            f"{name}-{part}-policy",
            metadata={"name": policy_name, "namespace": namespace},
            spec=spec,
            opts=pulumi.ResourceOptions(parent=parent),
        )
        for part, (policy_name, spec) in policies.items()
    ]
