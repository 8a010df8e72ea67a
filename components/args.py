"""HelloAppArgs: what one HelloApp deploys, with a documented default per field (the demo's
manifest) and the rules every value must follow, checked when the arguments are made.

A program that builds HelloApp directly gets the same protection as the stack config: a bad
value raises InvalidArgsError (a ValueError) naming the field, the value and what is accepted.
The settings of one strategy or feature are grouped in their own dataclass (BlueGreenArgs,
CanaryArgs, GateArgs), a field of HelloAppArgs.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Literal

from . import defaults

Strategy = Literal["RollingUpdate", "Recreate", "BlueGreen", "Canary"]
STRATEGIES: tuple[Strategy, ...] = ("RollingUpdate", "Recreate", "BlueGreen", "Canary")
Color = Literal["blue", "green"]
COLORS: tuple[Color, ...] = ("blue", "green")
IntOrPercent = int | str
MAX_REPLICAS = 50


class InvalidArgsError(ValueError):
    """A HelloAppArgs value the component refuses; `field` is its path, e.g. `canary.weight`."""

    def __init__(self, field: str, value: object, accepted: str) -> None:
        self.field = field
        self.value = value
        self.accepted = accepted
        super().__init__(f"HelloAppArgs.{field}: {value!r} is not accepted (accepted: {accepted})")


@dataclass(frozen=True)
class Rule:
    """What one field accepts: said in errors, checked by `accepts`."""

    accepted: str
    accepts: Callable[[object], bool]


def check_rules(args: object, rules: dict[str, Rule], prefix: str = "") -> None:
    """Raises InvalidArgsError for the first field of `args` that its rule refuses."""
    for each in fields(args):  # type: ignore[arg-type]
        rule = rules.get(each.name)
        value = getattr(args, each.name)
        if rule is not None and not rule.accepts(value):
            raise InvalidArgsError(prefix + each.name, value, rule.accepted)


@dataclass(frozen=True)
class BlueGreenArgs:
    """BlueGreen: two Deployments, `<deployment_name>-blue` and `-green`, fixed slots that each
    run their own version. The Service selects the live color; a preview Service selects the
    other one (idle) so that a new version is tried before it goes live."""

    live_color: Color = "blue"
    """The color the app's Service selects. Changing it switches all traffic at once."""

    preview_node_port: int | None = 30081
    """Node port of the preview Service `<service_name>-preview` (the idle color)."""

    blue_message: str | None = None
    """The blue slot's message; None: the app's `message`."""

    blue_image: str | None = None
    """The blue slot's image; None: the app's `image`."""

    green_message: str | None = None
    """The green slot's message; None: the app's `message`."""

    green_image: str | None = None
    """The green slot's image; None: the app's `image`."""

    idle_replicas: int | None = None
    """Pods of the idle color; None: as many as `replicas`, kept warm so that switching back is
    instant. 0 frees the double capacity (a switch then waits for the idle pods to start)."""

    def __post_init__(self) -> None:
        check_rules(self, BLUE_GREEN_RULES, "blue_green.")


@dataclass(frozen=True)
class CanaryArgs:
    """Canary: the stable Deployment `<deployment_name>` runs the app's message and image; a
    second Deployment `<deployment_name>-canary` runs the canary's, with a share of the pods.
    The Service selects both (traffic splits by pod count); a canary Service selects the
    canary pods alone."""

    message: str | None = None
    """The canary's message; None: the app's `message`."""

    image: str | None = None
    """The canary's image; None: the app's `image`."""

    weight: int = 0
    """Percent of the pods that run the canary: ceil(replicas x weight / 100) of them."""

    node_port: int | None = 30082
    """Node port of the canary Service `<service_name>-canary`."""

    def __post_init__(self) -> None:
        check_rules(self, CANARY_RULES, "canary.")


@dataclass(frozen=True)
class GateArgs:
    """The analysis gate: before a BlueGreen switch, and after canary pods become Ready at a
    new weight or version, requests go to the candidate for `seconds`; `pulumi up` fails with
    the figures when the success rate or the p99 latency misses its threshold."""

    seconds: int = 10
    """How long the candidate is probed; 0 turns the gate off."""

    min_success_percent: float = 99.0
    """Share of the probe's requests that must be answered with a 200."""

    max_p99_ms: int = 500
    """Latency that 99% of the probe's requests must stay under."""

    requests_per_second: int = 50
    """Rate of the probe."""

    def __post_init__(self) -> None:
        check_rules(self, GATE_RULES, "gate.")


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
        check_rules(self, CLUSTER_ACCESS_RULES, "cluster_access.")


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
        check_rules(self, AUTOSCALE_RULES, "autoscale.")
        if self.min_replicas > self.max_replicas:
            raise InvalidArgsError(
                "autoscale.min_replicas",
                self.min_replicas,
                f"at most max_replicas ({self.max_replicas})",
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

    strategy: Strategy = "RollingUpdate"
    """How a new version replaces the old one: RollingUpdate (a few pods at a time), Recreate
    (all at once, a brief downtime), BlueGreen (two slots, an instant switch) or Canary (a share
    of the pods first)."""

    max_surge: IntOrPercent = 1
    """Pods allowed above `replicas` while a Deployment rolls (not with Recreate)."""

    max_unavailable: IntOrPercent = 1
    """Pods allowed below `replicas` while a Deployment rolls (not with Recreate)."""

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

    blue_green: BlueGreenArgs = field(default_factory=BlueGreenArgs)
    """BlueGreen's settings (used with that strategy only)."""

    canary: CanaryArgs = field(default_factory=CanaryArgs)
    """Canary's settings (used with that strategy only)."""

    gate: GateArgs = field(default_factory=GateArgs)
    """The analysis gate of BlueGreen and Canary."""

    autoscale: AutoscaleArgs = field(default_factory=AutoscaleArgs)
    """Autoscaling on CPU (off by default)."""

    pdb_min_available: IntOrPercent | None = None
    """A PodDisruptionBudget for the app's pods: how many (or what percent) stay available while
    a node is drained; None: no budget."""

    cluster_access: ClusterAccess = field(default_factory=ClusterAccess)
    """Where the analysis gate reaches the app from: the provider's kubeconfig and context."""

    secret_message: bool = False
    """The message is a secret: the pods read it from a Kubernetes Secret (it never appears in a
    Deployment), and Pulumi keeps it encrypted in its state and hidden in its output."""

    def __post_init__(self) -> None:
        check_rules(self, RULES)
        check_rollout(self)
        check_blue_green(self)
        check_autoscale(self)
        check_node_ports(self)

    def color_version(self, color: Color) -> tuple[str, str]:
        """(message, image) that the slot of `color` runs."""
        slot = self.blue_green
        if color == "blue":
            return slot.blue_message or self.message, slot.blue_image or self.image
        return slot.green_message or self.message, slot.green_image or self.image

    def canary_version(self) -> tuple[str, str]:
        """(message, image) that the canary pods run."""
        return self.canary.message or self.message, self.canary.image or self.image

    def canary_replicas(self) -> int:
        """The canary's share of `replicas`, rounded up: any weight above 0 gets a pod."""
        return math.ceil(self.replicas * self.canary.weight / 100)

    def idle_replicas(self) -> int:
        idle = self.blue_green.idle_replicas
        return self.replicas if idle is None else idle

    def node_ports(self) -> dict[str, int]:
        """Every node port the strategy opens, by the field that sets it."""
        ports = {"node_port": self.node_port}
        if self.strategy == "BlueGreen":
            ports["blue_green.preview_node_port"] = self.blue_green.preview_node_port
        if self.strategy == "Canary":
            ports["canary.node_port"] = self.canary.node_port
        return {name: port for name, port in ports.items() if port is not None}


def check_rollout(args: HelloAppArgs) -> None:
    """The strategy and its rolling-update parameters."""
    if args.strategy == "Recreate":
        for name in ("max_surge", "max_unavailable"):
            if getattr(args, name) != DEFAULTS[name]:
                raise InvalidArgsError(
                    name,
                    getattr(args, name),
                    "its default with Recreate: it sets RollingUpdate only",
                )
    elif is_zero(args.max_surge) and is_zero(args.max_unavailable):
        raise InvalidArgsError(
            "max_unavailable",
            args.max_unavailable,
            "a value above 0 when the surge is 0, or the rollout could never progress",
        )


def check_blue_green(args: HelloAppArgs) -> None:
    idle = args.blue_green.idle_replicas
    if idle is not None and idle > args.replicas:
        raise InvalidArgsError(
            "blue_green.idle_replicas", idle, f"an integer from 0 to replicas ({args.replicas})"
        )


def check_autoscale(args: HelloAppArgs) -> None:
    scale = args.autoscale
    if not scale.enabled:
        return
    if not scale.min_replicas <= args.replicas <= scale.max_replicas:
        raise InvalidArgsError(
            "replicas",
            args.replicas,
            f"with autoscale on, a first replica count from min_replicas ({scale.min_replicas}) to "
            f"max_replicas ({scale.max_replicas}): the autoscaler owns it after the first deploy",
        )
    if args.strategy == "BlueGreen" and args.blue_green.idle_replicas is not None:
        raise InvalidArgsError(
            "blue_green.idle_replicas",
            args.blue_green.idle_replicas,
            "none with autoscale on: the idle color rests at min_replicas",
        )


def check_node_ports(args: HelloAppArgs) -> None:
    seen: dict[int, str] = {}
    for name, port in args.node_ports().items():
        if port in seen:
            raise InvalidArgsError(name, port, f"a node port other than {seen[port]}'s")
        seen[port] = name


def is_zero(count_or_percent: IntOrPercent) -> bool:
    return count_or_percent in (0, "0%")


def integer_between(low: int, high: int) -> Callable[[object], bool]:
    def accepts(value: object) -> bool:
        return type(value) is int and low <= value <= high

    return accepts


def number_between(low: float, high: float) -> Callable[[object], bool]:
    def accepts(value: object) -> bool:
        return type(value) in (int, float) and low <= value <= high  # type: ignore[operator]

    return accepts


def matching(pattern: re.Pattern[str]) -> Callable[[object], bool]:
    def accepts(value: object) -> bool:
        return isinstance(value, str) and pattern.fullmatch(value) is not None

    return accepts


def one_of(*choices: str) -> Callable[[object], bool]:
    return lambda value: value in choices


def or_none(accepts: Callable[[object], bool]) -> Callable[[object], bool]:
    return lambda value: value is None or accepts(value)


def count_or_percent(value: object) -> bool:
    if type(value) is int:
        return value >= 0
    return isinstance(value, str) and _PERCENT.fullmatch(value) is not None


def non_empty_text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


_PERCENT = re.compile(r"(100|[1-9]?[0-9])%")
_DNS_1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
_DNS_1035_LABEL = re.compile(r"[a-z]([-a-z0-9]{0,61}[a-z0-9])?")
_HOST = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9.]{0,251}[A-Za-z0-9])?")

# An image reference, [registry/]name[:tag][@digest], after the grammar of
# github.com/distribution/reference. A first part is a registry only when it looks like a host
# (a dot, a port or `localhost`), as Docker decides; the repository path is lowercase.
_ALNUM = r"[a-z0-9]+"
_PATH_COMPONENT = rf"{_ALNUM}(?:(?:[._]|__|-+){_ALNUM})*"
_HOST_COMPONENT = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
_REGISTRY = (
    rf"(?:localhost|{_HOST_COMPONENT}(?:\.{_HOST_COMPONENT})+)(?::[0-9]+)?"
    rf"|{_HOST_COMPONENT}:[0-9]+"
)
_TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
_IMAGE = re.compile(
    rf"(?:(?:{_REGISTRY})/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*(?::{_TAG})?(?:@{_DIGEST})?"
)

DNS_1123_LABEL = Rule(
    "a DNS-1123 label: at most 63 characters among a-z, 0-9 and '-', "
    "starting and ending with a letter or digit",
    matching(_DNS_1123_LABEL),
)
# The strategies add suffixes to the names: -blue, -green, -canary, -preview (8 characters).
NAME_WITH_SUFFIX = Rule(
    "a DNS-1123 label of at most 55 characters (the strategies add -blue, -green, -canary)",
    lambda value: DNS_1123_LABEL.accepts(value) and len(str(value)) <= 55,
)
COUNT_OR_PERCENT = Rule("an integer >= 0 or a percentage from 0% to 100%", count_or_percent)
MESSAGE = Rule("a non-empty text", non_empty_text)
IMAGE = Rule(
    "an image reference [registry/]name[:tag][@digest] with a lowercase name, "
    f"e.g. {defaults.IMAGE}",
    matching(_IMAGE),
)
NODE_PORT = Rule("an integer from 30000 to 32767", or_none(integer_between(30000, 32767)))

RULES: dict[str, Rule] = {
    "namespace": DNS_1123_LABEL,
    "deployment_name": NAME_WITH_SUFFIX,
    "service_name": Rule(
        "a DNS-1035 label of at most 55 characters among a-z, 0-9 and '-', starting with a "
        "letter and ending with a letter or digit (the strategies add -preview, -canary)",
        lambda value: matching(_DNS_1035_LABEL)(value) and len(str(value)) <= 55,
    ),
    "message": MESSAGE,
    "image": IMAGE,
    "replicas": Rule(f"an integer from 0 to {MAX_REPLICAS}", integer_between(0, MAX_REPLICAS)),
    "strategy": Rule(", ".join(STRATEGIES), one_of(*STRATEGIES)),
    "max_surge": COUNT_OR_PERCENT,
    "max_unavailable": COUNT_OR_PERCENT,
    "node_port": NODE_PORT,
    "url_host": Rule("a host name or an IPv4 address, e.g. 127.0.0.1", matching(_HOST)),
    "pre_stop_sleep_seconds": Rule(
        "an integer number of seconds from 0 to 60", integer_between(0, 60)
    ),
    "min_ready_seconds": Rule(
        "an integer number of seconds from 0 to 600", integer_between(0, 600)
    ),
    "rollout_timeout_seconds": Rule(
        "an integer number of seconds from 10 to 3600", integer_between(10, 3600)
    ),
    "blue_green": Rule("a BlueGreenArgs", lambda value: isinstance(value, BlueGreenArgs)),
    "canary": Rule("a CanaryArgs", lambda value: isinstance(value, CanaryArgs)),
    "gate": Rule("a GateArgs", lambda value: isinstance(value, GateArgs)),
    "autoscale": Rule("an AutoscaleArgs", lambda value: isinstance(value, AutoscaleArgs)),
    "cluster_access": Rule("a ClusterAccess", lambda value: isinstance(value, ClusterAccess)),
    "pdb_min_available": Rule(
        "an integer >= 0 or a percentage from 0% to 100%, or none for no budget",
        or_none(count_or_percent),
    ),
    "secret_message": Rule("True or False", lambda value: isinstance(value, bool)),
}
"""The rule of each HelloAppArgs field; every field has one (a unit test checks it)."""

BLUE_GREEN_RULES: dict[str, Rule] = {
    "live_color": Rule(" or ".join(COLORS), one_of(*COLORS)),
    "preview_node_port": NODE_PORT,
    "blue_message": Rule(f"{MESSAGE.accepted}, or none for the app's", or_none(non_empty_text)),
    "blue_image": Rule(f"{IMAGE.accepted}, or none for the app's", or_none(IMAGE.accepts)),
    "green_message": Rule(f"{MESSAGE.accepted}, or none for the app's", or_none(non_empty_text)),
    "green_image": Rule(f"{IMAGE.accepted}, or none for the app's", or_none(IMAGE.accepts)),
    "idle_replicas": Rule(
        f"an integer from 0 to {MAX_REPLICAS}, or none for as many as replicas",
        or_none(integer_between(0, MAX_REPLICAS)),
    ),
}

CANARY_RULES: dict[str, Rule] = {
    "message": Rule(f"{MESSAGE.accepted}, or none for the app's", or_none(non_empty_text)),
    "image": Rule(f"{IMAGE.accepted}, or none for the app's", or_none(IMAGE.accepts)),
    "weight": Rule("an integer percentage from 0 to 100", integer_between(0, 100)),
    "node_port": NODE_PORT,
}

GATE_RULES: dict[str, Rule] = {
    "seconds": Rule("an integer number of seconds from 0 (off) to 600", integer_between(0, 600)),
    "min_success_percent": Rule("a percentage from 0 to 100", number_between(0, 100)),
    "max_p99_ms": Rule(
        "an integer number of milliseconds from 1 to 60000", integer_between(1, 60_000)
    ),
    "requests_per_second": Rule("an integer from 1 to 200", integer_between(1, 200)),
}

AUTOSCALE_RULES: dict[str, Rule] = {
    "enabled": Rule("true or false", lambda value: isinstance(value, bool)),
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

DEFAULTS: dict[str, object] = {each.name: each.default for each in fields(HelloAppArgs)}

GROUPS: dict[str, tuple[type, dict[str, Rule]]] = {
    "blue_green": (BlueGreenArgs, BLUE_GREEN_RULES),
    "canary": (CanaryArgs, CANARY_RULES),
    "gate": (GateArgs, GATE_RULES),
    "autoscale": (AutoscaleArgs, AUTOSCALE_RULES),
    "cluster_access": (ClusterAccess, CLUSTER_ACCESS_RULES),
}
"""The HelloAppArgs fields that group the settings of a strategy or feature: class and rules."""


def rule_of(path: str) -> Rule:
    """The rule of a field by its path: `replicas`, `canary.weight`."""
    group, _, name = path.rpartition(".")
    return GROUPS[group][1][name] if group else RULES[name]


def build(values: dict[str, object]) -> HelloAppArgs:
    """HelloAppArgs from values keyed by field path (`replicas`, `canary.weight`)."""
    top: dict[str, object] = {}
    grouped: dict[str, dict[str, object]] = {}
    for path, value in values.items():
        group, _, name = path.rpartition(".")
        if group:
            grouped.setdefault(group, {})[name] = value
        else:
            top[name] = value
    for group, group_values in grouped.items():
        top[group] = GROUPS[group][0](**group_values)
    return HelloAppArgs(**top)  # type: ignore[arg-type]
