"""How a new version replaces the old one: one of RollingUpdate, Recreate, BlueGreen or Canary,
each a dataclass holding its own settings and no other strategy's (the way Argo Rollouts'
`RolloutStrategy{BlueGreen, Canary}` is a one-of), so a combination that means nothing, such as a
canary weight with RollingUpdate, cannot be written.

Every Deployment of RollingUpdate, BlueGreen and Canary rolls `max_surge`/`max_unavailable`
pods at a time (Recreate replaces them all at once); BlueGreen and Canary have the analysis gate.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal, get_args

from .names import COLORS, Color
from .rules import (
    Problem,
    Rule,
    field_problems,
    instance_of,
    integer_between,
    number_between,
    one_of,
    or_none,
    refuse,
)
from .values import (
    COUNT_OR_PERCENT,
    ENV_VALUES,
    IMAGE,
    MAX_REPLICAS,
    MESSAGE,
    NODE_PORT,
    IntOrPercent,
    is_zero,
    or_the_apps,
)

Version = tuple[str, str]
"""What a Deployment runs: (message, image)."""

GateSource = Literal["probe", "prometheus"]
GATE_SOURCES: tuple[GateSource, ...] = get_args(GateSource)


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

    source: GateSource = "probe"
    """Where the figures come from: `probe`, the gate's own requests to the candidate (through
    the API server); `prometheus`, the users' requests that the gateway sent the canary over
    `seconds`, as the cluster's Prometheus counted them (Canary with a gateway only)."""

    min_requests: int = 50
    """With `prometheus`: fewer real requests than this over `seconds` fail the gate (too little
    traffic to judge, as in Flagger)."""

    def __post_init__(self) -> None:
        refuse(self, field_problems(self, GATE_RULES))


@dataclass(frozen=True, kw_only=True)
class Rolling:
    """The pace of a rolling Deployment, shared by the strategies whose Deployments roll."""

    max_surge: IntOrPercent = 1
    """Pods allowed above the Deployment's replicas while it rolls."""

    max_unavailable: IntOrPercent = 1
    """Pods allowed below the Deployment's replicas while it rolls; not 0 when the surge is."""

    def __post_init__(self) -> None:
        refuse(self, field_problems(self, RULES_OF[type(self)]) or self.pace_problems())

    def pace_problems(self) -> list[Problem]:
        if is_zero(self.max_surge) and is_zero(self.max_unavailable):
            return [
                Problem(
                    "max_unavailable",
                    self.max_unavailable,
                    "a value above 0 when the surge is 0, or the rollout could never progress",
                )
            ]
        return []

    def node_ports(self) -> dict[str, int | None]:
        """The node ports of the Services the strategy adds, by field."""
        return {}


@dataclass(frozen=True, kw_only=True)
class RollingUpdate(Rolling):
    """One Deployment, which Kubernetes rolls a few pods at a time: no downtime."""


@dataclass(frozen=True, kw_only=True)
class Recreate:
    """One Deployment whose pods are all stopped before the new ones start: a brief downtime,
    for versions that cannot run side by side. It has no settings of its own."""

    def node_ports(self) -> dict[str, int | None]:
        return {}


@dataclass(frozen=True, kw_only=True)
class Gated(Rolling):
    """A rolling strategy with a candidate version for the analysis gate to probe."""

    gate: GateArgs = field(default_factory=GateArgs)
    """The analysis gate of the candidate: the color about to go live, the canary pods."""


@dataclass(frozen=True, kw_only=True)
class BlueGreen(Gated):
    """Two Deployments, `<deployment_name>-blue` and `-green`, fixed slots that each run their
    own version. The Service selects the live color; a preview Service selects the other one
    (idle) so that a new version is tried before it goes live."""

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

    blue_config: dict[str, str] | None = None
    """The blue slot's plain settings (environment); None: the app's `app_config`."""

    green_config: dict[str, str] | None = None
    """The green slot's plain settings (environment); None: the app's `app_config`."""

    idle_replicas: int | None = None
    """Pods of the idle color; None: as many as the app's `replicas`, kept warm so that switching
    back is instant. 0 frees the double capacity (a switch then waits for the idle pods)."""

    def color_version(self, color: Color, app_version: Version) -> Version:
        """(message, image) that the slot of `color` runs; the app's where it has none."""
        message, image = app_version
        if color == "blue":
            return self.blue_message or message, self.blue_image or image
        return self.green_message or message, self.green_image or image

    def color_config(self, color: Color, app_config: dict[str, str]) -> dict[str, str]:
        """The plain settings of the slot of `color`; the app's where it has none."""
        own = self.blue_config if color == "blue" else self.green_config
        return app_config if own is None else own

    def idle_pods(self, replicas: int) -> int:
        return replicas if self.idle_replicas is None else self.idle_replicas

    def node_ports(self) -> dict[str, int | None]:
        return {"preview_node_port": self.preview_node_port}


@dataclass(frozen=True, kw_only=True)
class Canary(Gated):
    """The stable Deployment `<deployment_name>` runs the app's message and image; a second
    Deployment `<deployment_name>-canary` runs the canary's. Without a gateway the Service
    selects both (traffic splits by pod count, the canary's pods taken from the stable ones);
    with one, the route splits requests by weight. A canary Service selects the canary pods
    alone."""

    message: str | None = None
    """The canary's message; None: the app's `message`."""

    image: str | None = None
    """The canary's image; None: the app's `image`."""

    config: dict[str, str] | None = None
    """The canary's plain settings (environment); None: the app's `app_config`."""

    weight: int = 0
    """Percent of the requests that reach the canary, with a gateway (exact, per request); without
    one, percent of the pods that run it: ceil(replicas x weight / 100) of them. Either way the
    canary runs ceil(replicas x weight / 100) pods."""

    node_port: int | None = 30082
    """Node port of the canary Service `<service_name>-canary`."""

    def version(self, app_version: Version) -> Version:
        """(message, image) that the canary pods run; the app's where it has none."""
        message, image = app_version
        return self.message or message, self.image or image

    def canary_config(self, app_config: dict[str, str]) -> dict[str, str]:
        """The plain settings of the canary pods; the app's where it has none."""
        return app_config if self.config is None else self.config

    def pods(self, replicas: int) -> int:
        """The canary's share of `replicas`, rounded up: any weight above 0 gets a pod."""
        return math.ceil(replicas * self.weight / 100)

    def node_ports(self) -> dict[str, int | None]:
        return {"node_port": self.node_port}


Strategy = RollingUpdate | Recreate | BlueGreen | Canary
STRATEGIES: tuple[type[Strategy], ...] = (RollingUpdate, Recreate, BlueGreen, Canary)
STRATEGY_NAMES = tuple(each.__name__ for each in STRATEGIES)
STRATEGY_BY_NAME: dict[str, type[Strategy]] = dict(zip(STRATEGY_NAMES, STRATEGIES, strict=True))
STRATEGY_NAME = Rule(", ".join(STRATEGY_NAMES), one_of(*STRATEGY_NAMES))
"""A strategy by its name, as a config value gives it."""


GATE_RULES: dict[str, Rule] = {
    "seconds": Rule("an integer number of seconds from 0 (off) to 600", integer_between(0, 600)),
    "min_success_percent": Rule("a percentage from 0 to 100", number_between(0, 100)),
    "max_p99_ms": Rule(
        "an integer number of milliseconds from 1 to 60000", integer_between(1, 60_000)
    ),
    "requests_per_second": Rule("an integer from 1 to 200", integer_between(1, 200)),
    "source": Rule(" or ".join(GATE_SOURCES), one_of(*GATE_SOURCES)),
    "min_requests": Rule("an integer from 1 to 1000000", integer_between(1, 1_000_000)),
}

ROLLING_RULES: dict[str, Rule] = {
    "max_surge": COUNT_OR_PERCENT,
    "max_unavailable": COUNT_OR_PERCENT,
}

GATED_RULES: dict[str, Rule] = {**ROLLING_RULES, "gate": Rule("a GateArgs", instance_of(GateArgs))}

BLUE_GREEN_RULES: dict[str, Rule] = {
    **GATED_RULES,
    "live_color": Rule(" or ".join(COLORS), one_of(*COLORS)),
    "preview_node_port": NODE_PORT,
    "blue_message": or_the_apps(MESSAGE),
    "blue_image": or_the_apps(IMAGE),
    "green_message": or_the_apps(MESSAGE),
    "green_image": or_the_apps(IMAGE),
    "blue_config": or_the_apps(ENV_VALUES),
    "green_config": or_the_apps(ENV_VALUES),
    "idle_replicas": Rule(
        f"an integer from 0 to {MAX_REPLICAS}, or none for as many as replicas",
        or_none(integer_between(0, MAX_REPLICAS)),
    ),
}

CANARY_RULES: dict[str, Rule] = {
    **GATED_RULES,
    "message": or_the_apps(MESSAGE),
    "image": or_the_apps(IMAGE),
    "config": or_the_apps(ENV_VALUES),
    "weight": Rule("an integer percentage from 0 to 100", integer_between(0, 100)),
    "node_port": NODE_PORT,
}

RULES_OF: dict[type, dict[str, Rule]] = {
    GateArgs: GATE_RULES,
    Rolling: ROLLING_RULES,
    Gated: GATED_RULES,
    RollingUpdate: ROLLING_RULES,
    Recreate: {},
    BlueGreen: BLUE_GREEN_RULES,
    Canary: CANARY_RULES,
}
"""The rules of every class of this module, by class; every field has one (a unit test checks
it)."""
