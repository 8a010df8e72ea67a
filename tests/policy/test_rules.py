"""Every rule of the policy pack (policy/), on hand-written objects as the engine hands them over
(Kubernetes field names): the pack, the kinds it checks, its messages, and the rules beside
security (probes, images, namespaces, advisories); each passes a compliant object and refuses its
violation."""

from __future__ import annotations

from typing import Any

import pytest

from policy.rules.images import unpinned_reason
from tests.policy.objects import (
    ADVISORY,
    DEPLOYMENT,
    MANDATORY,
    UNKNOWN,
    all_violations,
    compliant_pod_spec,
    container,
    deployment,
    violations,
)


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
        "namespace-isolated",
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
