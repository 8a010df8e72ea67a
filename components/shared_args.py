"""Settings that every strategy has, each group a dataclass of its own: autoscaling, and how the
operator's side (the analysis gate) reaches the cluster."""

from __future__ import annotations

from dataclasses import dataclass

from .rules import (
    Problem,
    Rule,
    field_problems,
    instance_of,
    integer_between,
    non_empty_text,
    or_none,
    refuse,
)
from .values import MAX_REPLICAS


@dataclass(frozen=True)
class AutoscaleArgs:
    """A HorizontalPodAutoscaler (autoscaling/v2, CPU) for each Deployment that serves traffic:
    the app's (RollingUpdate, Recreate), the stable one (Canary: the canary keeps its share of
    `replicas`), each color (BlueGreen: the idle one rests at `min_replicas`, warm). Pulumi then
    stops managing their replica counts: `replicas` only seeds the first deploy."""

    enabled: bool = False
    """Off by default: the demo's fixed replica count."""

    min_replicas: int = 1
    """The fewest pods the autoscaler keeps."""

    max_replicas: int = 10
    """The most pods the autoscaler starts."""

    cpu_target_percent: int = 70
    """Average CPU use, in percent of the pods' request (50m), that the autoscaler aims at."""

    scale_down_stabilization_seconds: int = 300
    """How long the autoscaler waits for the load to stay low before it removes pods."""

    def __post_init__(self) -> None:
        refuse(self, field_problems(self, AUTOSCALE_RULES) or self.bounds_problems())

    def bounds_problems(self) -> list[Problem]:
        if self.min_replicas > self.max_replicas:
            accepted = f"at most max_replicas ({self.max_replicas})"
            return [Problem("min_replicas", self.min_replicas, accepted)]
        return []


@dataclass(frozen=True)
class ClusterAccess:
    """How the operator's side (the analysis gate, during `pulumi up`) reaches the app: through
    the API server of this kubeconfig's context (its service proxy), never through node ports,
    so that the gate works on any cluster. Give the Kubernetes provider's own."""

    kubeconfig: str | None = None
    """Path of the kubeconfig file; None: $KUBECONFIG, else ~/.kube/config."""

    context: str | None = None
    """Context of the kubeconfig; None: its current context."""

    def __post_init__(self) -> None:
        refuse(self, field_problems(self, CLUSTER_ACCESS_RULES))


AUTOSCALE_RULES: dict[str, Rule] = {
    "enabled": Rule("true or false", instance_of(bool)),
    "min_replicas": Rule(f"an integer from 1 to {MAX_REPLICAS}", integer_between(1, MAX_REPLICAS)),
    "max_replicas": Rule(f"an integer from 1 to {MAX_REPLICAS}", integer_between(1, MAX_REPLICAS)),
    "cpu_target_percent": Rule("an integer percentage from 1 to 100", integer_between(1, 100)),
    "scale_down_stabilization_seconds": Rule(
        "an integer number of seconds from 0 to 3600", integer_between(0, 3600)
    ),
}

CLUSTER_ACCESS_RULES: dict[str, Rule] = {
    "kubeconfig": Rule("the path of a kubeconfig file, or none", or_none(non_empty_text)),
    "context": Rule("the name of a kubeconfig context, or none", or_none(non_empty_text)),
}

RULES_OF: dict[type, dict[str, Rule]] = {
    AutoscaleArgs: AUTOSCALE_RULES,
    ClusterAccess: CLUSTER_ACCESS_RULES,
}
"""The rules of every class of this module, by class."""
