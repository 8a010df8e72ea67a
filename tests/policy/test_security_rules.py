"""Each mandatory rule of the policy pack refuses its own violation, and only that rule does."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.policy.objects import (
    ADVISORY,
    MANDATORY,
    all_violations,
    compliant_pod_spec,
    container,
    deployment,
)

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
