"""Namespaces make the cluster itself enforce the restricted Pod Security profile, so that a pod
created by any other means (kubectl, a controller) is held to the same rules as the program's."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import EnforcementLevel

from .objects import field, shown
from .policies import namespace_policy

ENFORCE_LABEL = "pod-security.kubernetes.io/enforce"
REQUIRED_LEVEL = "restricted"


def enforces_restricted(name: str, props: Mapping[str, Any]) -> Iterator[str]:
    value = field(props, "metadata", "labels", ENFORCE_LABEL)
    if value != REQUIRED_LEVEL:
        yield (
            f"Namespace '{name}': label metadata.labels[{ENFORCE_LABEL}] is {shown(value)} "
            f"(must be {REQUIRED_LEVEL}). Fix: label the namespace {ENFORCE_LABEL}: "
            f"{REQUIRED_LEVEL} (and pod-security.kubernetes.io/audit and /warn: {REQUIRED_LEVEL})."
        )


POLICIES = [
    namespace_policy(
        "namespace-enforces-pod-security-restricted",
        f"Every namespace is labelled {ENFORCE_LABEL}: {REQUIRED_LEVEL}.",
        EnforcementLevel.MANDATORY,
        enforces_restricted,
    ),
]
