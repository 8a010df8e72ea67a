"""Long-running containers tell Kubernetes when they are alive and when they may get traffic:
without a readiness probe a rollout sends requests to pods that cannot answer yet, without a
liveness probe a hung process is never restarted. Jobs, CronJobs and pods that are not restarted
run to completion and are not probed."""

from __future__ import annotations

from collections.abc import Iterator

from pulumi_policy import EnforcementLevel

from .objects import Workload, field
from .policies import workload_policy

PROBES = ("livenessProbe", "readinessProbe")


def liveness_and_readiness(workload: Workload) -> Iterator[str]:
    if workload.runs_to_completion:
        return
    for container in workload.containers(include_init=False):
        missing = [probe for probe in PROBES if field(container.spec, probe) is None]
        if missing:
            yield (
                f"{workload.label}: {container.label} has no {' and no '.join(missing)}. "
                f"Fix: set {' and '.join(f'{container.path}.{probe}' for probe in missing)}, "
                f"for example httpGet on the port the container serves."
            )


POLICIES = [
    workload_policy(
        "container-liveness-and-readiness-probes",
        "Every long-running container has a liveness and a readiness probe.",
        EnforcementLevel.MANDATORY,
        liveness_and_readiness,
    ),
]
