"""Objects as the engine hands them to the policy pack (Kubernetes field names), and how the
tests run its rules on them."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)
from pulumi_policy.proxy import unknown_checking_proxy

from policy.rules import POLICIES

POLICIES_BY_NAME = {policy.name: policy for policy in POLICIES}
MANDATORY = {
    policy.name for policy in POLICIES if policy.enforcement_level == EnforcementLevel.MANDATORY
}
ADVISORY = {
    policy.name for policy in POLICIES if policy.enforcement_level == EnforcementLevel.ADVISORY
}
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
"""How the engine marks a string that is not known yet during a preview."""


def compliant_pod_spec() -> dict[str, Any]:
    """A pod spec that follows every rule: the demo's own, as components/ declares it."""
    return {
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": 10001,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "automountServiceAccountToken": False,
        "containers": [
            {
                "name": "app",
                "image": "hashicorp/http-echo:0.2.3",
                "ports": [{"containerPort": 8080}],
                "resources": {
                    "requests": {"cpu": "50m", "memory": "64Mi"},
                    "limits": {"cpu": "200m", "memory": "128Mi"},
                },
                "livenessProbe": {"httpGet": {"path": "/", "port": 8080}},
                "readinessProbe": {"httpGet": {"path": "/", "port": 8080}},
                "securityContext": {
                    "allowPrivilegeEscalation": False,
                    "capabilities": {"drop": ["ALL"]},
                    "readOnlyRootFilesystem": True,
                },
            }
        ],
    }


def deployment(
    mutate: Callable[[dict[str, Any]], None] = lambda pod: None, replicas: int | None = 3
) -> dict[str, Any]:
    pod = compliant_pod_spec()
    mutate(pod)
    spec: dict[str, Any] = {
        "selector": {"matchLabels": {"app": "hello-api"}},
        "template": {"metadata": {"labels": {"app": "hello-api"}}, "spec": pod},
    }
    if replicas is not None:
        spec["replicas"] = replicas
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "hello-api"},
        "spec": spec,
    }


def container(pod: dict[str, Any]) -> dict[str, Any]:
    first: dict[str, Any] = pod["containers"][0]
    return first


def violations(
    policy_name: str,
    props: dict[str, Any],
    resource_type: str = DEPLOYMENT,
    pulumi_name: str = "hello",
) -> list[str]:
    """What one policy reports about one resource, through its real validate callback."""
    policy = POLICIES_BY_NAME[policy_name]
    assert isinstance(policy, ResourceValidationPolicy)
    options = PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])
    args = ResourceValidationArgs(
        resource_type,
        unknown_checking_proxy(copy.deepcopy(props)),
        f"urn:pulumi:test::demo-orq::{resource_type}::{pulumi_name}",
        pulumi_name,
        options,
        None,
    )
    reported: list[str] = []
    policy.validate(args, lambda message, urn=None: reported.append(message))
    return reported


def all_violations(props: dict[str, Any], resource_type: str = DEPLOYMENT) -> dict[str, list[str]]:
    found = {
        name: violations(name, props, resource_type)
        for name, policy in POLICIES_BY_NAME.items()
        if isinstance(policy, ResourceValidationPolicy)  # a stack-wide one sees no single object
    }
    return {name: messages for name, messages in found.items() if messages}
