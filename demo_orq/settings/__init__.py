"""Every `demo-orq:` config key in one table: its type, what it describes, and the HelloAppArgs
field it sets, from which its default, what it accepts and the strategies that use it come (the
component's own rules and defaults: one fact, one place).

Both the `config:` block of Pulumi.yaml and the reference table of docs/configuration.md are made
from this table (`python -m demo_orq.settings --write`; a unit test fails when they differ).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from components.field_paths import default_of, rule_of, strategies_with
from components.rules import Rule, non_empty_text
from components.strategies import STRATEGY_NAME, STRATEGY_NAMES

from . import readers
from .readers import Reader, config_text


class Default(Enum):
    """Where a key's default comes from, when it is not a value of its own."""

    FROM_FIELD = "the default of the field it sets"
    REQUIRED = "none: the key must be set"


@dataclass(frozen=True)
class Setting:
    """One config key."""

    key: str
    reader: Reader
    """Its type in Pulumi.yaml, and how its raw string is read."""
    description: str
    """What it sets, for Pulumi.yaml and the docs (what it accepts is said apart)."""
    field: str | None = None
    """The HelloAppArgs field it sets, by path (`replicas`, `strategy.weight`); None for the
    program's own settings."""
    own_rule: Rule | None = None
    """What it accepts, when that is not its field's rule."""
    own_default: object = Default.FROM_FIELD
    """Its typed default, when that is not its field's; or REQUIRED."""

    @property
    def rule(self) -> Rule:
        if self.own_rule is not None:
            return self.own_rule
        assert self.field is not None, f"{self.key} needs a field or a rule of its own"
        return rule_of(self.field)

    @property
    def accepted(self) -> str:
        return self.rule.accepted

    @property
    def required(self) -> bool:
        return self.own_default is Default.REQUIRED

    @property
    def default(self) -> object:
        """The typed value that the key's absence stands for (None when it is required)."""
        if self.own_default is Default.REQUIRED:
            return None
        if self.own_default is Default.FROM_FIELD:
            assert self.field is not None, f"{self.key} needs a field or a default of its own"
            return default_of(self.field)
        return self.own_default

    @property
    def default_text(self) -> str | None:
        """The default as Pulumi hands it to the program; None when the key is required."""
        if self.required:
            return None
        if self.default is None and self.reader.pulumi_type == "object":
            return "{}"  # an object's absence, which its reader reads back as None
        return config_text(self.default)

    @property
    def strategies(self) -> tuple[str, ...]:
        """The strategies that use it: every one but for a strategy's own settings."""
        return strategies_with(self.field) if self.field else STRATEGY_NAMES

    def applies_to(self, strategy: str) -> bool:
        return strategy in self.strategies


STRATEGY_KEY = "strategy"
"""The key that chooses the strategy, and with it which of the other keys may be set."""
DEFAULT_STRATEGY = type(default_of("strategy")).__name__

SETTINGS: tuple[Setting, ...] = (
    Setting(
        "context",
        readers.TEXT,
        "Kubeconfig context to deploy to",
        "cluster_access.context",
        own_rule=Rule(
            "the name of a context of the kubeconfig, e.g. kind-demo-orq; it is required so "
            "that the program never deploys to whatever context is current",
            non_empty_text,
        ),
        own_default=Default.REQUIRED,
    ),
    Setting(
        "kubeconfig",
        readers.PATH,
        "Kubeconfig file of the cluster",
        "cluster_access.kubeconfig",
        own_rule=Rule(
            "the path of a kubeconfig file (~ is expanded), or empty for $KUBECONFIG or "
            "~/.kube/config",
            rule_of("cluster_access.kubeconfig").accepts,
        ),
    ),
    Setting(
        "message",
        readers.TEXT,
        "Text that every pod answers (http-echo -text); changing it rolls out a new version",
        "message",
    ),
    Setting(
        "replicas",
        readers.INTEGER,
        "Number of pods (of the live color with BlueGreen; stable plus canary with Canary)",
        "replicas",
    ),
    Setting(
        STRATEGY_KEY,
        readers.TEXT,
        "How a new version replaces the pods; the keys of the other strategies stay unset",
        own_rule=STRATEGY_NAME,
        own_default=DEFAULT_STRATEGY,
    ),
    Setting(
        "maxSurge",
        readers.COUNT_OR_PERCENT,
        "Pods above replicas while a Deployment rolls out",
        "strategy.max_surge",
    ),
    Setting(
        "maxUnavailable",
        readers.COUNT_OR_PERCENT,
        "Pods below replicas while a Deployment rolls out; not 0 when maxSurge is 0",
        "strategy.max_unavailable",
    ),
    Setting(
        "image",
        readers.TEXT,
        "Container image; it must accept http-echo's -text and -listen",
        "image",
    ),
    Setting("namespace", readers.TEXT, "Namespace created for the app", "namespace"),
    Setting(
        "deploymentName",
        readers.TEXT,
        "Name of the Deployment and the pods' app label, which the Service selects",
        "deployment_name",
    ),
    Setting("serviceName", readers.TEXT, "Name of the Service", "service_name"),
    Setting("nodePort", readers.INTEGER, "NodePort of the Service", "node_port"),
    Setting(
        "urlHost",
        readers.TEXT,
        "Host name or IPv4 address of the nodes, used in the url output",
        "url_host",
    ),
    Setting(
        "rolloutTimeout",
        readers.INTEGER,
        "Seconds that pulumi up waits for a Deployment to be ready",
        "rollout_timeout_seconds",
    ),
    Setting(
        "liveColor",
        readers.TEXT,
        "The color that the Service selects; the other is idle, behind the preview Service",
        "strategy.live_color",
    ),
    Setting(
        "previewNodePort",
        readers.INTEGER,
        "NodePort of the preview Service, which selects the idle color",
        "strategy.preview_node_port",
    ),
    Setting(
        "blueMessage",
        readers.OPTIONAL_TEXT,
        "The blue slot's message; empty for message",
        "strategy.blue_message",
    ),
    Setting(
        "blueImage",
        readers.OPTIONAL_TEXT,
        "The blue slot's image; empty for image",
        "strategy.blue_image",
    ),
    Setting(
        "greenMessage",
        readers.OPTIONAL_TEXT,
        "The green slot's message; empty for message",
        "strategy.green_message",
    ),
    Setting(
        "greenImage",
        readers.OPTIONAL_TEXT,
        "The green slot's image; empty for image",
        "strategy.green_image",
    ),
    Setting(
        "blueConfig",
        readers.OPTIONAL_OBJECT,
        "The blue slot's plain settings (pulumi config set --path blueConfig.APP_MODE prod); "
        "empty for appConfig",
        "strategy.blue_config",
    ),
    Setting(
        "greenConfig",
        readers.OPTIONAL_OBJECT,
        "The green slot's plain settings; empty for appConfig",
        "strategy.green_config",
    ),
    Setting(
        "idleReplicas",
        readers.OPTIONAL_INTEGER,
        "Pods of the idle color, at most replicas; empty for replicas (warm: an instant "
        "rollback), 0 frees the double capacity",
        "strategy.idle_replicas",
    ),
    Setting(
        "canaryMessage",
        readers.OPTIONAL_TEXT,
        "The canary pods' message; empty for message",
        "strategy.message",
    ),
    Setting(
        "canaryImage",
        readers.OPTIONAL_TEXT,
        "The canary pods' image; empty for image",
        "strategy.image",
    ),
    Setting(
        "canaryConfig",
        readers.OPTIONAL_OBJECT,
        "The canary pods' plain settings; empty for appConfig",
        "strategy.config",
    ),
    Setting(
        "canaryWeight",
        readers.INTEGER,
        "Percent of the requests that reach the canary with a gateway; without, of the pods, "
        "ceil(replicas x weight / 100)",
        "strategy.weight",
    ),
    Setting(
        "canaryNodePort",
        readers.INTEGER,
        "NodePort of the Service that selects the canary pods alone",
        "strategy.node_port",
    ),
    Setting(
        "gateSeconds",
        readers.INTEGER,
        "Seconds the analysis gate probes the candidate during pulumi up; 0 turns it off",
        "strategy.gate.seconds",
    ),
    Setting(
        "gateMinSuccessPercent",
        readers.NUMBER,
        "Percent of the gate's requests that must succeed, or pulumi up fails",
        "strategy.gate.min_success_percent",
    ),
    Setting(
        "gateMaxP99Ms",
        readers.INTEGER,
        "Milliseconds the p99 latency of the gate's requests must stay under, or pulumi up fails",
        "strategy.gate.max_p99_ms",
    ),
    Setting(
        "gateSource",
        readers.TEXT,
        "Where the analysis gate's figures come from: probe (its own requests) or prometheus "
        "(the users' requests that the gateway sends the canary; cluster/prometheus.sh)",
        "strategy.gate.source",
    ),
    Setting(
        "gateMinRequests",
        readers.INTEGER,
        "With gateSource prometheus, the fewest real requests the canary must get over "
        "gateSeconds, or pulumi up fails (too little traffic to judge)",
        "strategy.gate.min_requests",
    ),
    Setting(
        "autoscale",
        readers.BOOLEAN,
        "A HorizontalPodAutoscaler on CPU for the Deployments that serve traffic; replicas "
        "then only seeds the first deploy, within minReplicas-maxReplicas",
        "autoscale.enabled",
    ),
    Setting("minReplicas", readers.INTEGER, "Autoscale, the fewest pods", "autoscale.min_replicas"),
    Setting("maxReplicas", readers.INTEGER, "Autoscale, the most pods", "autoscale.max_replicas"),
    Setting(
        "cpuTargetPercent",
        readers.INTEGER,
        "Autoscale, the average CPU use aimed at, in percent of the pods' request (50m)",
        "autoscale.cpu_target_percent",
    ),
    Setting(
        "scaleDownStabilizationSeconds",
        readers.INTEGER,
        "Autoscale, seconds the load must stay low before pods are removed",
        "autoscale.scale_down_stabilization_seconds",
    ),
    Setting(
        "gateway",
        readers.BOOLEAN,
        "An HTTPS entry through the Gateway API: a Gateway, a certificate signed by the stack's "
        "CA, HTTP redirected, the route /api -> the app; Canary then splits requests and "
        "BlueGreen switches at the route (the cluster needs a controller: cluster/gateway.sh)",
        "gateway.enabled",
    ),
    Setting(
        "hostname",
        readers.TEXT,
        "Gateway, the host name of the listeners and the certificate",
        "gateway.hostname",
    ),
    Setting(
        "gatewayClass",
        readers.TEXT,
        "Gateway, the GatewayClass (its controller listens on 8000 and 8443)",
        "gateway.class_name",
    ),
    Setting(
        "gatewayPort",
        readers.INTEGER,
        "Gateway, the port at which users reach HTTPS: the gatewayUrl output and the redirect",
        "gateway.port",
    ),
    Setting(
        "gatewayControllerNamespace",
        readers.TEXT,
        "Namespace of the gateway's controller, which networkPolicy lets reach the API's pods",
        "gateway.controller_namespace",
    ),
    Setting(
        "pdbMinAvailable",
        readers.OPTIONAL_COUNT_OR_PERCENT,
        "A PodDisruptionBudget: pods that stay up while nodes drain; empty for none",
        "pdb_min_available",
    ),
    Setting(
        "sloAvailabilityPercent",
        readers.NUMBER,
        "Availability objective that demo-orq report marks its figures against and the alerts "
        "burn against",
        "slo.availability_percent",
    ),
    Setting(
        "sloP99Ms",
        readers.INTEGER,
        "Objective for the p99 latency that demo-orq report marks its figures against",
        "slo.p99_ms",
    ),
    Setting(
        "sloAlerts",
        readers.BOOLEAN,
        "Prometheus burn-rate alerts on the availability objective, for the requests through the "
        "gateway (the cluster needs Prometheus: cluster/prometheus.sh)",
        "slo.alerts",
    ),
    Setting(
        "appConfig",
        readers.OBJECT,
        "The app's plain settings, environment variables of the pods from an immutable ConfigMap "
        "named by its content (pulumi config set --path appConfig.APP_MODE prod); a change rolls "
        "the pods through the strategy, and the answer shows them",
        "app_config",
    ),
    Setting(
        "appSecrets",
        readers.OBJECT,
        "The app's secret settings, environment variables of the pods from an immutable Secret "
        "(pulumi config set --secret --path appSecrets.API_TOKEN ...); set them as secrets",
        "app_secrets",
    ),
    Setting(
        "smokeTest",
        readers.BOOLEAN,
        "A Job that requests each new version through its Service in-cluster and fails pulumi "
        "up with its log unless every answer is right: before a BlueGreen switch, before a canary "
        "gets traffic, after a RollingUpdate or Recreate",
        "smoke_test",
    ),
    Setting(
        "jobsImage",
        readers.TEXT,
        "Image of the app's Jobs (smoke test, daily figures): cluster/images/jobs",
        "jobs_image",
    ),
    Setting(
        "etl",
        readers.BOOLEAN,
        "A CronJob that writes the app's daily figures (figures-<date>.json) to a volume of its "
        "own; demo-orq job run etl runs it now (the cluster needs a default StorageClass: "
        "cluster/storage.sh)",
        "etl.enabled",
    ),
    Setting("etlSchedule", readers.TEXT, "When the daily figures are written", "etl.schedule"),
    Setting("etlTimeZone", readers.TEXT, "Time zone of etlSchedule", "etl.time_zone"),
    Setting("etlStorage", readers.TEXT, "Size of the daily figures' volume", "etl.storage"),
    Setting(
        "frontend",
        readers.BOOLEAN,
        "A frontend before the API: its pods serve / by asking the API through its Service's "
        "DNS name (frontend -> <the API's answer>), behind a Service of its own",
        "frontend.enabled",
    ),
    Setting("frontendReplicas", readers.INTEGER, "Pods of the frontend", "frontend.replicas"),
    Setting(
        "frontendImage",
        readers.TEXT,
        "Image of the frontend: cluster/images/frontend",
        "frontend.image",
    ),
    Setting(
        "frontendNodePort",
        readers.INTEGER,
        "NodePort of the frontend's Service",
        "frontend.node_port",
    ),
    Setting(
        "networkPolicy",
        readers.BOOLEAN,
        "NetworkPolicies: the namespace denies all in and out but DNS; the API's pods take "
        "requests from the frontend, the app's Jobs and the gateway's controller alone (the "
        "cluster must enforce them: cluster/network-policies.sh)",
        "isolation.network_policy",
    ),
    Setting(
        "quota",
        readers.BOOLEAN,
        "A ResourceQuota (pods, CPU, memory) and a LimitRange (the app's resources as a "
        "container's default and most) for the namespace",
        "isolation.quota",
    ),
    Setting(
        "quotaPods",
        readers.OPTIONAL_INTEGER,
        "Pods the quota allows, CPU and memory at the app's limits each; unset: twice the most "
        "pods the stack runs at once (a rollout's included)",
        "isolation.quota_pods",
    ),
    Setting(
        "vpa",
        readers.BOOLEAN,
        "A VerticalPodAutoscaler per serving Deployment that only recommends requests (updateMode "
        "Off), beside the CPU autoscaler (the cluster needs its recommender: cluster/vpa.sh)",
        "vpa",
    ),
)
"""Every `demo-orq:` key, in the order of Pulumi.yaml and docs/configuration.md."""

KEYS: dict[str, Setting] = {setting.key: setting for setting in SETTINGS}
KEY_OF_FIELD: dict[str, str] = {
    setting.field: setting.key for setting in SETTINGS if setting.field is not None
}


def keys_of_other_strategies(strategy: str) -> list[str]:
    """The keys that `strategy` does not use: a stack of that strategy leaves them unset."""
    return [setting.key for setting in SETTINGS if not setting.applies_to(strategy)]


def spoken(names: Iterable[str]) -> str:
    """`A`, `A and B`, `A, B and C`."""
    *most, last = names
    return f"{', '.join(most)} and {last}" if most else last
