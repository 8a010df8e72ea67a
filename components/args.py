"""HelloAppArgs: what one HelloApp deploys, with a documented default per field (the demo's
manifest) and the rules every value must follow, checked when the arguments are made.

The strategy is one value among RollingUpdate, Recreate, BlueGreen and Canary
(components/strategies.py), each with its own settings only; autoscaling and the cluster access
are groups of their own (components/shared_args.py). A bad value raises InvalidArgsError naming
every field refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import defaults
from .cross_checks import cross_field_problems
from .rules import Rule, field_problems, instance_of, integer_between, or_none, refuse
from .shared_args import (
    AutoscaleArgs,
    ClusterAccess,
    EtlArgs,
    FrontendArgs,
    GatewayArgs,
    IsolationArgs,
    SloArgs,
)
from .strategies import STRATEGIES, STRATEGY_NAMES, RollingUpdate, Strategy, Version
from .values import (
    COUNT_OR_PERCENT,
    DEPLOYMENT_NAME,
    DNS_1123_LABEL,
    ENV_VALUES,
    HOST,
    IMAGE,
    MESSAGE,
    NODE_PORT,
    REPLICAS,
    SERVICE_NAME,
    IntOrPercent,
)


@dataclass(frozen=True)
class HelloAppArgs:
    """What one HelloApp deploys. The defaults reproduce the demo's manifest."""

    namespace: str = defaults.NAMESPACE
    """Namespace created for the app (a DNS-1123 label): one namespace per instance."""

    deployment_name: str = defaults.DEPLOYMENT
    """Name of the Deployment, and value of the pods' `app` label that the Service selects."""

    service_name: str = defaults.SERVICE
    """Name of the Service in front of the pods (a DNS-1035 label)."""

    message: str = defaults.MESSAGE
    """Text that http-echo answers every request with."""

    image: str = defaults.IMAGE
    """Container image; it must accept http-echo's `-text` and `-listen` flags."""

    replicas: int = defaults.REPLICAS
    """Number of pods (of the live color with BlueGreen; stable plus canary with Canary)."""

    strategy: Strategy = field(default_factory=RollingUpdate)
    """How a new version replaces the old one, with that strategy's settings: RollingUpdate (a
    few pods at a time), Recreate (all at once, a brief downtime), BlueGreen (two slots, an
    instant switch) or Canary (a share of the pods first)."""

    node_port: int | None = defaults.NODE_PORT
    """Port opened on every node (30000-32767); None makes the Service a ClusterIP one."""

    url_host: str = "127.0.0.1"
    """Host at which the machine running Pulumi reaches the nodes' ports (the `url` output)."""

    pre_stop_sleep_seconds: int = 5
    """Seconds a terminating pod keeps serving while it is removed from the Service; 0: none."""

    min_ready_seconds: int = 0
    """Seconds a new pod must stay ready before it counts as available."""

    rollout_timeout_seconds: int = 120
    """Seconds `pulumi up` waits for a Deployment to be ready before it fails the update."""

    autoscale: AutoscaleArgs = field(default_factory=AutoscaleArgs)
    """Autoscaling on CPU (off by default)."""

    gateway: GatewayArgs = field(default_factory=GatewayArgs)
    """An HTTPS entry through the Gateway API, where Canary and BlueGreen then route (off by
    default)."""

    slo: SloArgs = field(default_factory=SloArgs)
    """The service level objectives, and alerts on them (off by default)."""

    vpa: bool = False
    """A VerticalPodAutoscaler for each Deployment that serves traffic, in recommendation mode
    (`updateMode: Off`): it shows the requests the pods need and never changes them, so it cannot
    fight the HorizontalPodAutoscaler on CPU. The cluster needs its recommender
    (cluster/vpa.sh)."""

    pdb_min_available: IntOrPercent | None = None
    """A PodDisruptionBudget for the app's pods: how many (or what percent) stay available while
    a node is drained; None: no budget."""

    cluster_access: ClusterAccess = field(default_factory=ClusterAccess)
    """Where the analysis gate reaches the app from: the provider's kubeconfig and context."""

    secret_message: bool = False
    """The message is a secret: the pods read it from a Kubernetes Secret (it never appears in a
    Deployment), and Pulumi keeps it encrypted in its state and hidden in its output."""

    app_config: dict[str, str] = field(default_factory=dict)
    """The app's plain settings (`APP_MODE: prod`): environment variables of the pods, from an
    immutable ConfigMap named by its content; a change rolls the pods through the strategy (a
    BlueGreen color or the canary may have values of their own) and a rollback brings the old
    ConfigMap back. Its values show in the answer: `<message> (APP_MODE=prod)`."""

    app_secrets: dict[str, str] = field(default_factory=dict)
    """The app's secret settings (a token): environment variables of the pods, from an immutable
    Secret; Pulumi keeps them encrypted in its state and never shows them. A change rolls every
    Deployment of the app."""

    smoke_test: bool = False
    """A Job that requests each new version through its Service in-cluster and fails the update,
    with its log, unless every answer is a 200 with the expected text (Helm's `helm test`, Argo's
    Job analysis). BlueGreen: each color's version, before the app's Service may switch to it;
    Canary: the canary's, before the route or the stable pods change; RollingUpdate and
    Recreate: the app's, once it has rolled out (the new version already serves)."""

    jobs_image: str = defaults.JOBS_IMAGE
    """The image of the app's Jobs (the smoke test, the daily figures): cluster/images/jobs."""

    etl: EtlArgs = field(default_factory=EtlArgs)
    """The daily CronJob that writes the app's figures to a volume (off by default)."""

    frontend: FrontendArgs = field(default_factory=FrontendArgs)
    """A frontend in front of the API, reached by its own Service (off by default)."""

    isolation: IsolationArgs = field(default_factory=IsolationArgs)
    """The namespace's NetworkPolicies and its quota (both off by default)."""

    def __post_init__(self) -> None:
        refuse(self, field_problems(self, RULES) or cross_field_problems(self))

    def version(self) -> Version:
        """(message, image): what the app's own pods run."""
        return self.message, self.image

    def node_ports(self) -> dict[str, int]:
        """Every node port the app opens, by the path of the field that sets it."""
        ports = {"node_port": self.node_port}
        if self.frontend.enabled:
            ports["frontend.node_port"] = self.frontend.node_port
        ports |= {f"strategy.{name}": port for name, port in self.strategy.node_ports().items()}
        return {name: port for name, port in ports.items() if port is not None}


def seconds_between(low: int, high: int) -> Rule:
    return Rule(f"an integer number of seconds from {low} to {high}", integer_between(low, high))


RULES: dict[str, Rule] = {
    "namespace": DNS_1123_LABEL,
    "deployment_name": DEPLOYMENT_NAME,
    "service_name": SERVICE_NAME,
    "message": MESSAGE,
    "image": IMAGE,
    "replicas": REPLICAS,
    "strategy": Rule(
        f"a {', '.join(STRATEGY_NAMES[:-1])} or {STRATEGY_NAMES[-1]}", instance_of(*STRATEGIES)
    ),
    "node_port": NODE_PORT,
    "url_host": HOST,
    "pre_stop_sleep_seconds": seconds_between(0, 60),
    "min_ready_seconds": seconds_between(0, 600),
    "rollout_timeout_seconds": seconds_between(10, 3600),
    "autoscale": Rule("an AutoscaleArgs", instance_of(AutoscaleArgs)),
    "gateway": Rule("a GatewayArgs", instance_of(GatewayArgs)),
    "slo": Rule("a SloArgs", instance_of(SloArgs)),
    "vpa": Rule("true or false", instance_of(bool)),
    "pdb_min_available": Rule(
        f"{COUNT_OR_PERCENT.accepted}, or none for no budget", or_none(COUNT_OR_PERCENT.accepts)
    ),
    "cluster_access": Rule("a ClusterAccess", instance_of(ClusterAccess)),
    "secret_message": Rule("True or False", instance_of(bool)),
    "app_config": ENV_VALUES,
    "app_secrets": ENV_VALUES,
    "smoke_test": Rule("true or false", instance_of(bool)),
    "jobs_image": IMAGE,
    "etl": Rule("an EtlArgs", instance_of(EtlArgs)),
    "frontend": Rule("a FrontendArgs", instance_of(FrontendArgs)),
    "isolation": Rule("an IsolationArgs", instance_of(IsolationArgs)),
}
"""The rule of each HelloAppArgs field; every field has one (a unit test checks it)."""
