"""Every container says what it needs and what it may use: without requests the scheduler
places pods blindly, without limits one pod can starve the node."""

from __future__ import annotations

from collections.abc import Iterator

from pulumi_policy import EnforcementLevel

from .objects import Workload, field
from .policies import workload_policy

RESOURCE_NAMES = ("cpu", "memory")


def requests_and_limits(workload: Workload) -> Iterator[str]:
    for container in workload.containers():
        resources = field(container.spec, "resources")
        missing = [
            f"{kind}.{name}"
            for kind in ("requests", "limits")
            for name in RESOURCE_NAMES
            if field(resources, kind, name) in (None, "")
        ]
        if missing:
            yield (
                f"{workload.label}: {container.label} has no resources "
                f"{', '.join(missing)}. Fix: set {container.path}.resources.requests and "
                f".limits for both cpu and memory, like requests {{cpu: 50m, memory: 64Mi}}, "
                f"limits {{cpu: 200m, memory: 128Mi}}."
            )


POLICIES = [
    workload_policy(
        "container-requests-and-limits",
        "Every container sets CPU and memory requests and limits.",
        EnforcementLevel.MANDATORY,
        requests_and_limits,
    ),
]
