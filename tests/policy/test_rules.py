"""Every rule of the policy pack (policy/), on hand-written objects as the engine hands them over
(Kubernetes field names): each one passes a compliant object and refuses its violation."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)
from pulumi_policy.proxy import unknown_checking_proxy

from policy.rules import POLICIES
from policy.rules.images import unpinned_reason

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
    found = {name: violations(name, props, resource_type) for name in POLICIES_BY_NAME}
    return {name: messages for name, messages in found.items() if messages}


def test_the_pack_has_the_mandatory_and_advisory_rules():
    assert {
        "pod-security-run-as-non-root",
        "pod-security-no-privilege-escalation",
        "pod-security-drop-all-capabilities",
        "pod-security-seccomp-profile",
        "pod-security-not-privileged",
        "pod-security-no-host-namespaces",
        "pod-security-volume-types",
        "pod-security-no-host-ports",
        "container-requests-and-limits",
        "container-liveness-and-readiness-probes",
        "image-pinned-by-tag-or-digest",
        "namespace-enforces-pod-security-restricted",
    } == MANDATORY
    assert {
        "replicas-at-least-two",
        "read-only-root-filesystem",
        "no-service-account-token",
    } == ADVISORY


@pytest.mark.parametrize(
    "resource_type, wrap",
    [
        (
            "kubernetes:core/v1:Pod",
            lambda pod: {"kind": "Pod", "metadata": {"name": "p"}, "spec": pod},
        ),
        (DEPLOYMENT, lambda pod: deployment(lambda p: p.update(pod))),
        (
            "kubernetes:apps/v1:StatefulSet",
            lambda pod: {"spec": {"replicas": 2, "template": {"spec": pod}}},
        ),
        (
            "kubernetes:apps/v1:ReplicaSet",
            lambda pod: {"spec": {"replicas": 2, "template": {"spec": pod}}},
        ),
        ("kubernetes:apps/v1:DaemonSet", lambda pod: {"spec": {"template": {"spec": pod}}}),
        ("kubernetes:batch/v1:Job", lambda pod: {"spec": {"template": {"spec": pod}}}),
        (
            "kubernetes:batch/v1:CronJob",
            lambda pod: {"spec": {"jobTemplate": {"spec": {"template": {"spec": pod}}}}},
        ),
    ],
)
def test_a_compliant_workload_of_every_kind_passes_every_rule(resource_type, wrap):
    assert all_violations(wrap(compliant_pod_spec()), resource_type) == {}


@pytest.mark.parametrize(
    "resource_type, wrap, path",
    [
        ("kubernetes:core/v1:Pod", lambda pod: {"spec": pod}, "spec.containers[0]"),
        (
            "kubernetes:apps/v1:DaemonSet",
            lambda pod: {"spec": {"template": {"spec": pod}}},
            "spec.template.spec.containers[0]",
        ),
        (
            "kubernetes:batch/v1:CronJob",
            lambda pod: {"spec": {"jobTemplate": {"spec": {"template": {"spec": pod}}}}},
            "spec.jobTemplate.spec.template.spec.containers[0]",
        ),
    ],
)
def test_every_kind_is_checked_where_it_keeps_its_pods(resource_type, wrap, path):
    pod = compliant_pod_spec()
    container(pod)["securityContext"]["privileged"] = True
    (message,) = violations("pod-security-not-privileged", wrap(pod), resource_type)
    assert path in message


def test_other_resources_are_not_checked():
    assert all_violations({"spec": {"type": "NodePort"}}, "kubernetes:core/v1:Service") == {}
    assert all_violations({"spec": {}}, "kubernetes:example.com/v1:Deployment") == {}


def test_a_message_names_the_object_the_field_and_the_fix():
    (message,) = violations(
        "pod-security-no-privilege-escalation",
        deployment(lambda pod: container(pod)["securityContext"].pop("allowPrivilegeEscalation")),
    )
    assert message.startswith(
        "Deployment 'hello-api': container 'app' (spec.template.spec.containers[0])"
    )
    assert "allowPrivilegeEscalation not set (must be false)" in message
    assert (
        "Fix: set spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation: false"
        in message
    )


def test_an_object_without_a_known_name_is_named_by_its_pulumi_name():
    props = deployment(lambda pod: container(pod).update(image="app:latest"))
    props["metadata"]["name"] = UNKNOWN
    (message,) = violations("image-pinned-by-tag-or-digest", props, pulumi_name="web")
    assert message.startswith("Deployment 'web':")


# Each mandatory rule: (rule, change of the compliant pod that violates it, words of the message).
VIOLATIONS: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    (
        "pod-security-run-as-non-root",
        lambda pod: pod["securityContext"].pop("runAsNonRoot"),
        "may run as root",
    ),
    (
        "pod-security-run-as-non-root",
        lambda pod: container(pod)["securityContext"].update(runAsNonRoot=False),
        "may run as root",
    ),
    (
        "pod-security-run-as-non-root",
        lambda pod: pod["securityContext"].update(runAsUser=0),
        "runAsUser is 0",
    ),
    (
        "pod-security-run-as-non-root",
        lambda pod: container(pod)["securityContext"].update(runAsUser=0),
        "runAsUser 0",
    ),
    (
        "pod-security-no-privilege-escalation",
        lambda pod: container(pod)["securityContext"].update(allowPrivilegeEscalation=True),
        "allowPrivilegeEscalation true (must be false)",
    ),
    (
        "pod-security-drop-all-capabilities",
        lambda pod: container(pod)["securityContext"].pop("capabilities"),
        "does not drop all capabilities",
    ),
    (
        "pod-security-drop-all-capabilities",
        lambda pod: container(pod)["securityContext"]["capabilities"].update(
            add=["NET_ADMIN", "NET_BIND_SERVICE"]
        ),
        "adds capabilities ['NET_ADMIN']",
    ),
    (
        "pod-security-seccomp-profile",
        lambda pod: pod["securityContext"].pop("seccompProfile"),
        "has no seccomp profile",
    ),
    (
        "pod-security-seccomp-profile",
        lambda pod: container(pod)["securityContext"].update(seccompProfile={"type": "Unconfined"}),
        "seccompProfile.type Unconfined",
    ),
    (
        "pod-security-seccomp-profile",
        lambda pod: pod["securityContext"].update(seccompProfile={"type": "Unconfined"}),
        "spec.template.spec.securityContext.seccompProfile.type is Unconfined",
    ),
    (
        "pod-security-not-privileged",
        lambda pod: container(pod)["securityContext"].update(privileged=True),
        "is privileged",
    ),
    (
        "pod-security-no-host-namespaces",
        lambda pod: pod.update(hostNetwork=True),
        "spec.template.spec.hostNetwork",
    ),
    (
        "pod-security-no-host-namespaces",
        lambda pod: pod.update(hostPID=True),
        "spec.template.spec.hostPID",
    ),
    (
        "pod-security-no-host-namespaces",
        lambda pod: pod.update(hostIPC=True),
        "spec.template.spec.hostIPC",
    ),
    (
        "pod-security-volume-types",
        lambda pod: pod.update(volumes=[{"name": "root", "hostPath": {"path": "/"}}]),
        "volume 'root' (spec.template.spec.volumes[0]) is a hostPath volume",
    ),
    (
        "pod-security-volume-types",
        lambda pod: pod.update(volumes=[{"name": "n", "nfs": {"server": "x"}}]),
        "is of type nfs",
    ),
    (
        "pod-security-no-host-ports",
        lambda pod: container(pod)["ports"][0].update(hostPort=8080),
        "opens hostPort 8080",
    ),
    (
        "container-requests-and-limits",
        lambda pod: container(pod)["resources"].pop("limits"),
        "has no resources limits.cpu, limits.memory",
    ),
    (
        "container-requests-and-limits",
        lambda pod: container(pod)["resources"]["requests"].pop("memory"),
        "has no resources requests.memory",
    ),
    (
        "container-requests-and-limits",
        lambda pod: pod.update(
            initContainers=[{**container(pod), "name": "init", "resources": {}}]
        ),
        "container 'init' (spec.template.spec.initContainers[0]) has no resources",
    ),
    (
        "container-liveness-and-readiness-probes",
        lambda pod: container(pod).pop("livenessProbe"),
        "has no livenessProbe",
    ),
    (
        "container-liveness-and-readiness-probes",
        lambda pod: (container(pod).pop("livenessProbe"), container(pod).pop("readinessProbe")),
        "has no livenessProbe and no readinessProbe",
    ),
    (
        "image-pinned-by-tag-or-digest",
        lambda pod: container(pod).update(image="nginx:latest"),
        "uses image 'nginx:latest', whose tag :latest moves",
    ),
    (
        "image-pinned-by-tag-or-digest",
        lambda pod: container(pod).update(image="registry:5000/team/app"),
        "without a tag",
    ),
]


@pytest.mark.parametrize(
    "rule, violate, expected", VIOLATIONS, ids=[f"{v[0]}-{i}" for i, v in enumerate(VIOLATIONS)]
)
def test_each_mandatory_rule_refuses_its_violation_and_only_that_rule_does(rule, violate, expected):
    found = all_violations(deployment(violate))
    assert set(found) - ADVISORY == {rule}, found
    assert any(expected in message for message in found[rule]), found[rule]
    assert all("Fix: " in message for message in found[rule]), found[rule]


def test_every_mandatory_workload_rule_has_a_violation_case():
    assert {rule for rule, _, _ in VIOLATIONS} == MANDATORY - {
        "namespace-enforces-pod-security-restricted"
    }


def test_init_containers_are_held_to_the_security_rules():
    init = {
        "name": "init",
        "image": "busybox:1.36",
        "resources": container(compliant_pod_spec())["resources"],
    }
    found = all_violations(deployment(lambda pod: pod.update(initContainers=[init])))
    assert {"pod-security-no-privilege-escalation", "pod-security-drop-all-capabilities"} <= set(
        found
    )
    assert "container-liveness-and-readiness-probes" not in found


@pytest.mark.parametrize(
    "resource_type, wrap",
    [
        ("kubernetes:batch/v1:Job", lambda pod: {"spec": {"template": {"spec": pod}}}),
        (
            "kubernetes:batch/v1:CronJob",
            lambda pod: {"spec": {"jobTemplate": {"spec": {"template": {"spec": pod}}}}},
        ),
        ("kubernetes:core/v1:Pod", lambda pod: {"spec": {**pod, "restartPolicy": "Never"}}),
    ],
)
def test_workloads_that_run_to_completion_need_no_probes(resource_type, wrap):
    pod = compliant_pod_spec()
    container(pod).pop("livenessProbe")
    container(pod).pop("readinessProbe")
    assert violations("container-liveness-and-readiness-probes", wrap(pod), resource_type) == []
    assert (
        violations(
            "container-liveness-and-readiness-probes", {"spec": pod}, "kubernetes:core/v1:Pod"
        )
        != []
    )


@pytest.mark.parametrize(
    "image, pinned",
    [
        ("hashicorp/http-echo:0.2.3", True),
        ("registry.local:5000/team/app:1.0", True),
        ("app@sha256:0123abcd", True),
        ("app:latest@sha256:0123abcd", True),
        ("app", False),
        ("app:latest", False),
        ("registry.local:5000/app", False),
        ("app:", False),
        ("", False),
        (None, False),
    ],
)
def test_an_image_is_pinned_by_a_version_tag_or_a_digest(image, pinned):
    assert (unpinned_reason(image) is None) == pinned


@pytest.mark.parametrize(
    "labels, passes",
    [
        ({"pod-security.kubernetes.io/enforce": "restricted"}, True),
        ({"pod-security.kubernetes.io/enforce": "baseline"}, False),
        ({"pod-security.kubernetes.io/warn": "restricted"}, False),
        (None, False),
    ],
)
def test_a_namespace_must_enforce_the_restricted_profile(labels, passes):
    metadata: dict[str, Any] = {"name": "demo"}
    if labels is not None:
        metadata["labels"] = labels
    found = violations(
        "namespace-enforces-pod-security-restricted",
        {"metadata": metadata},
        "kubernetes:core/v1:Namespace",
    )
    assert (found == []) == passes
    if not passes:
        (message,) = found
        assert message.startswith(
            "Namespace 'demo': label metadata.labels[pod-security.kubernetes.io/enforce]"
        )
        assert "Fix: label the namespace pod-security.kubernetes.io/enforce: restricted" in message


@pytest.mark.parametrize(
    "replicas, advised", [(None, True), (1, True), (2, False), (3, False), (0, False)]
)
def test_fewer_than_two_replicas_is_advised_against(replicas, advised):
    assert bool(violations("replicas-at-least-two", deployment(replicas=replicas))) == advised


def test_a_writable_root_filesystem_is_advised_against():
    assert violations("read-only-root-filesystem", deployment()) == []
    (message,) = violations(
        "read-only-root-filesystem",
        deployment(lambda pod: container(pod)["securityContext"].pop("readOnlyRootFilesystem")),
    )
    assert "readOnlyRootFilesystem not set" in message


def test_a_mounted_service_account_token_is_advised_against():
    assert violations("no-service-account-token", deployment()) == []
    (message,) = violations(
        "no-service-account-token", deployment(lambda pod: pod.pop("automountServiceAccountToken"))
    )
    assert "spec.template.spec.automountServiceAccountToken is not set" in message


def test_an_unknown_value_during_preview_is_left_to_the_engine():
    """pulumi_policy turns the error of reading an unknown value into an advisory "can't run
    during preview" note; the rules must not swallow it as if the value were compliant."""
    from pulumi_policy.proxy import UnknownValueError

    with pytest.raises(UnknownValueError):
        violations(
            "image-pinned-by-tag-or-digest",
            deployment(lambda pod: container(pod).update(image=UNKNOWN)),
        )
