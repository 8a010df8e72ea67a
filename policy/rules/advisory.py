"""Advice, not refusals: each of these is right for most apps, but a hard rule would be wrong
for some (a demo scaled to one replica, an app that must write to its root filesystem, a pod
that does talk to the Kubernetes API). The preview shows them as warnings."""

from __future__ import annotations

from collections.abc import Iterator

from pulumi_policy import EnforcementLevel

from .objects import Workload, field, shown
from .policies import workload_policy

ADVISORY = EnforcementLevel.ADVISORY
REPLICATED_KINDS = frozenset({"Deployment", "ReplicaSet", "StatefulSet"})


def at_least_two_replicas(workload: Workload) -> Iterator[str]:
    if workload.kind not in REPLICATED_KINDS:
        return
    replicas = field(workload.props, "spec", "replicas")
    # Unset means 1; 0 is a deliberate scale-down, not a single point of failure.
    if replicas is None or replicas == 1:
        yield (
            f"{workload.label}: spec.replicas is {shown(replicas)}, a single pod: any restart "
            f"or node drain makes the app unavailable. Fix: set spec.replicas to 2 or more."
        )


def read_only_root_filesystem(workload: Workload) -> Iterator[str]:
    for container in workload.containers():
        value = field(container.spec, "securityContext", "readOnlyRootFilesystem")
        if value is not True:
            yield (
                f"{workload.label}: {container.label} has "
                f"securityContext.readOnlyRootFilesystem {shown(value)}. Fix: set "
                f"{container.path}.securityContext.readOnlyRootFilesystem: true and mount an "
                f"emptyDir where the app must write."
            )


def no_service_account_token(workload: Workload) -> Iterator[str]:
    path = f"{workload.pod_spec_path}.automountServiceAccountToken"
    value = field(workload.pod_spec, "automountServiceAccountToken")
    if value is not False:
        yield (
            f"{workload.label}: {path} is {shown(value)}, so its pods get a token for the "
            f"Kubernetes API. Fix: set {path}: false (and on its ServiceAccount) unless the app "
            f"calls the API."
        )


POLICIES = [
    workload_policy(
        "replicas-at-least-two",
        "Deployments, ReplicaSets and StatefulSets run at least 2 replicas.",
        ADVISORY,
        at_least_two_replicas,
    ),
    workload_policy(
        "read-only-root-filesystem",
        "Containers have a read-only root filesystem.",
        ADVISORY,
        read_only_root_filesystem,
    ),
    workload_policy(
        "no-service-account-token",
        "Pods do not mount a Kubernetes API token (automountServiceAccountToken: false).",
        ADVISORY,
        no_service_account_token,
    ),
]
