"""Settings that every strategy has, each group a dataclass of its own: autoscaling, the HTTPS
entry through a Gateway, the service level objectives, and how the operator's side (the analysis
gate) reaches the cluster."""

from __future__ import annotations

from dataclasses import dataclass

from . import defaults
from .rules import (
    Problem,
    Rule,
    field_problems,
    instance_of,
    integer_between,
    non_empty_text,
    number_between,
    or_none,
    refuse,
)
from .values import (
    CRON_SCHEDULE,
    DNS_1123_LABEL,
    IMAGE,
    MAX_REPLICAS,
    NODE_PORT,
    TIME_ZONE,
    matching_host_name,
    storage_size,
)


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


@dataclass(frozen=True)
class GatewayArgs:
    """An HTTPS entry through the Gateway API (the document's "`/api` -> the backend, with TLS"):
    a Gateway of `class_name` with an HTTPS listener on `hostname` (a certificate that the stack
    signs with a CA of its own) and an HTTP one that redirects to it, and an HTTPRoute `/api` ->
    the app. With it, a Canary splits requests at the route (exact percentages, the `X-Canary`
    header) and a BlueGreen switches at the route (`X-Preview: true` reaches the idle color).
    The cluster needs a Gateway API implementation (the local one: cluster/gateway.sh)."""

    enabled: bool = False
    """Off by default: the demo's manifest has no Gateway."""

    hostname: str = "hello.demo-orq.localhost"
    """Host name of the listeners and the certificate (`*.localhost` reaches the machine
    itself)."""

    class_name: str = "traefik"
    """The GatewayClass, whose controller listens on 8000 (HTTP) and 8443 (HTTPS)."""

    port: int = 30443
    """Port at which users reach the HTTPS listener (the `gateway_url` output and the redirect):
    the local cluster's node port; 443 behind a cloud load balancer."""

    controller_namespace: str = "gateway-system"
    """Namespace of the gateway's controller (its pods carry the requests to the app's): the
    one the app's NetworkPolicy lets in, with `isolation.network_policy` on."""

    def __post_init__(self) -> None:
        refuse(self, field_problems(self, GATEWAY_RULES))


@dataclass(frozen=True)
class SloArgs:
    """The app's service level objectives: what `demo-orq report` marks its figures against and,
    with `alerts`, what Prometheus alerts on."""

    availability_percent: float = 99.9
    """Share of requests answered without a server error; 100 minus it is the error budget."""

    p99_ms: int = 500
    """Latency that 99% of the requests stay under."""

    alerts: bool = False
    """Multi-window burn-rate alerts on the error budget (the SRE workbook's: 14.4x over 1 h and
    5 min pages, 6x over 6 h and 30 min opens a ticket) for the requests through the gateway, in a
    ConfigMap that the cluster's Prometheus loads (cluster/prometheus.sh). Needs the gateway."""

    def __post_init__(self) -> None:
        refuse(self, field_problems(self, SLO_RULES))


@dataclass(frozen=True)
class EtlArgs:
    """The document's "daily ETL at 03:00": a CronJob that writes the day's figures of the app
    (its answers, success rate and latency, measured in-cluster) as a JSON file on a volume of its
    own (a PersistentVolumeClaim of the cluster's default StorageClass; the local cluster's:
    cluster/storage.sh). `demo-orq job run etl` runs it at once."""

    enabled: bool = False
    """Off by default: the demo's manifest has no CronJob."""

    schedule: str = "0 3 * * *"
    """When it runs, in cron syntax, in `time_zone`."""

    time_zone: str = "Etc/UTC"
    """The time zone of `schedule`: UTC by default, the zone of managed clusters and CI, where
    03:00 never falls twice or never on a change of daylight saving time; `Europe/Madrid` for the
    document's team."""

    storage: str = "64Mi"
    """Size of the volume that keeps the files."""

    def __post_init__(self) -> None:
        refuse(self, field_problems(self, ETL_RULES))


@dataclass(frozen=True)
class FrontendArgs:
    """The app's frontend (the document's "only `frontend` -> `api`"): a Deployment
    `<deployment_name>-frontend` whose pods serve `/` by asking the API through its Service's
    DNS name, and its own Service `<service_name>-frontend`."""

    enabled: bool = False
    """Off by default: the demo's manifest has none."""

    replicas: int = 2
    """Pods of the frontend."""

    image: str = defaults.FRONTEND_IMAGE
    """Its image (cluster/images/frontend): takes `-api URL` and `-listen :PORT`."""

    node_port: int | None = 30083
    """Node port of the frontend's Service; None makes it a ClusterIP one."""

    def __post_init__(self) -> None:
        refuse(self, field_problems(self, FRONTEND_RULES))


@dataclass(frozen=True)
class IsolationArgs:
    """What keeps the app's namespace apart from the others (the document's multi-team use):
    NetworkPolicies, and a ResourceQuota with a LimitRange."""

    network_policy: bool = False
    """A default-deny NetworkPolicy for the app's namespace (ingress and egress, DNS excepted) and
    the allow rules of what the app needs: the API's pods take requests from the frontend, the
    gateway's controller and the app's Jobs, nothing else. Off by default: only a cluster whose
    network enforces NetworkPolicy should have them (the local one: cluster/network-policies.sh;
    kind's kindnetd; Calico or Cilium), or they would look like a protection they are not."""

    quota: bool = False
    """A ResourceQuota on pods, CPU and memory for the namespace, and a LimitRange that gives a
    container without resources the app's and refuses one above them: enforced by the API server
    on every cluster. Off by default: the demo's manifest has none."""

    quota_pods: int | None = None
    """Pods the quota allows (CPU and memory follow: each pod at the app's limits); None: twice
    the most pods the stack runs at once (during a rollout, with its Jobs and frontend), since a
    stopping pod counts until its grace period ends. A number below that most is refused."""

    def __post_init__(self) -> None:
        refuse(self, field_problems(self, ISOLATION_RULES))


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

GATEWAY_RULES: dict[str, Rule] = {
    "enabled": Rule("true or false", instance_of(bool)),
    "hostname": Rule(
        "a lowercase DNS name of two labels or more, e.g. hello.demo-orq.localhost",
        matching_host_name,
    ),
    "class_name": DNS_1123_LABEL,
    "port": Rule("an integer from 1 to 65535", integer_between(1, 65535)),
    "controller_namespace": DNS_1123_LABEL,
}

SLO_RULES: dict[str, Rule] = {
    "availability_percent": Rule(
        "a percentage above 0 and below 100, e.g. 99.9",
        lambda value: number_between(0, 100)(value) and value not in (0, 100),
    ),
    "p99_ms": Rule("an integer number of milliseconds, 1 to 60000", integer_between(1, 60_000)),
    "alerts": Rule("true or false", instance_of(bool)),
}

ETL_RULES: dict[str, Rule] = {
    "enabled": Rule("true or false", instance_of(bool)),
    "schedule": CRON_SCHEDULE,
    "time_zone": TIME_ZONE,
    "storage": Rule("a size in Mi or Gi from 1Mi to 100Gi, e.g. 64Mi", storage_size),
}

FRONTEND_RULES: dict[str, Rule] = {
    "enabled": Rule("true or false", instance_of(bool)),
    "replicas": Rule(f"an integer from 1 to {MAX_REPLICAS}", integer_between(1, MAX_REPLICAS)),
    "image": IMAGE,
    "node_port": NODE_PORT,
}

ISOLATION_RULES: dict[str, Rule] = {
    "network_policy": Rule("true or false", instance_of(bool)),
    "quota": Rule("true or false", instance_of(bool)),
    "quota_pods": Rule(
        "an integer from 1 to 1000, or none to size it from the stack",
        or_none(integer_between(1, 1000)),
    ),
}

RULES_OF: dict[type, dict[str, Rule]] = {
    FrontendArgs: FRONTEND_RULES,
    IsolationArgs: ISOLATION_RULES,
    EtlArgs: ETL_RULES,
    AutoscaleArgs: AUTOSCALE_RULES,
    SloArgs: SLO_RULES,
    GatewayArgs: GATEWAY_RULES,
    ClusterAccess: CLUSTER_ACCESS_RULES,
}
"""The rules of every class of this module, by class."""
