"""HelloAppArgs: what one HelloApp deploys, with a documented default per field (the demo's
manifest) and the rules every value must follow, checked when the arguments are made.

A program that builds HelloApp directly gets the same protection as the stack config: a bad
value raises InvalidArgsError (a ValueError) naming the field, the value and what is accepted.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Literal

from demo_orq import facts

Strategy = Literal["RollingUpdate", "Recreate"]
STRATEGIES: tuple[Strategy, ...] = ("RollingUpdate", "Recreate")
IntOrPercent = int | str
MAX_REPLICAS = 50


class InvalidArgsError(ValueError):
    """A HelloAppArgs value the component refuses."""

    def __init__(self, field: str, value: object, accepted: str) -> None:
        self.field = field
        self.value = value
        self.accepted = accepted
        super().__init__(f"HelloAppArgs.{field}: {value!r} is not accepted (accepted: {accepted})")


@dataclass(frozen=True)
class HelloAppArgs:
    """What one HelloApp deploys. The defaults reproduce the demo's manifest."""

    namespace: str = facts.NAMESPACE
    """Namespace created for the app (a DNS-1123 label): one namespace per instance."""

    deployment_name: str = facts.DEPLOYMENT
    """Name of the Deployment, and value of the pods' `app` label that the Service selects."""

    service_name: str = facts.SERVICE
    """Name of the Service in front of the pods (a DNS-1035 label)."""

    message: str = facts.V1_MESSAGE
    """Text that http-echo answers every request with."""

    image: str = facts.IMAGE
    """Container image; it must accept http-echo's `-text` and `-listen` flags."""

    replicas: int = facts.REPLICAS
    """Number of pods."""

    strategy: Strategy = "RollingUpdate"
    """How a new version replaces the pods: a few at a time, or all of them at once."""

    max_surge: IntOrPercent = 1
    """RollingUpdate: pods allowed above `replicas`, a count or a percentage like "25%"."""

    max_unavailable: IntOrPercent = 1
    """RollingUpdate: pods allowed below `replicas`, a count or a percentage like "25%"."""

    node_port: int | None = facts.NODE_PORT
    """Port opened on every node (30000-32767); None makes the Service a ClusterIP one."""

    url_host: str = "127.0.0.1"
    """Host at which the machine running Pulumi reaches the nodes' ports (the `url` output)."""

    pre_stop_sleep_seconds: int = 5
    """Seconds a terminating pod keeps serving while it is removed from the Service; 0: none."""

    min_ready_seconds: int = 0
    """Seconds a new pod must stay ready before it counts as available."""

    rollout_timeout_seconds: int = 120
    """Seconds `pulumi up` waits for the Deployment to be ready before it fails the update."""

    def __post_init__(self) -> None:
        for field in fields(self):
            rule = RULES.get(field.name)
            value = getattr(self, field.name)
            if rule is not None and not rule.accepts(value):
                raise InvalidArgsError(field.name, value, rule.accepted)
        check_rollout(self)


def check_rollout(args: HelloAppArgs) -> None:
    """The rules across fields: the strategy and its rolling-update parameters."""
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


def is_zero(count_or_percent: IntOrPercent) -> bool:
    return count_or_percent in (0, "0%")


@dataclass(frozen=True)
class Rule:
    """What one field accepts: said in errors, checked by `accepts`."""

    accepted: str
    accepts: Callable[[object], bool]


def integer_between(low: int, high: int) -> Callable[[object], bool]:
    def accepts(value: object) -> bool:
        return type(value) is int and low <= value <= high

    return accepts


def matching(pattern: re.Pattern[str]) -> Callable[[object], bool]:
    def accepts(value: object) -> bool:
        return isinstance(value, str) and pattern.fullmatch(value) is not None

    return accepts


def count_or_percent(value: object) -> bool:
    if type(value) is int:
        return value >= 0
    return isinstance(value, str) and _PERCENT.fullmatch(value) is not None


def non_empty_text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def node_port_or_none(value: object) -> bool:
    return value is None or integer_between(30000, 32767)(value)


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
COUNT_OR_PERCENT = Rule("an integer >= 0 or a percentage from 0% to 100%", count_or_percent)

RULES: dict[str, Rule] = {
    "namespace": DNS_1123_LABEL,
    "deployment_name": DNS_1123_LABEL,
    "service_name": Rule(
        "a DNS-1035 label: at most 63 characters among a-z, 0-9 and '-', "
        "starting with a letter and ending with a letter or digit",
        matching(_DNS_1035_LABEL),
    ),
    "message": Rule("a non-empty text", non_empty_text),
    "image": Rule(
        "an image reference [registry/]name[:tag][@digest] with a lowercase name, "
        f"e.g. {facts.IMAGE}",
        matching(_IMAGE),
    ),
    "replicas": Rule(f"an integer from 0 to {MAX_REPLICAS}", integer_between(0, MAX_REPLICAS)),
    "strategy": Rule(" or ".join(STRATEGIES), lambda value: value in STRATEGIES),
    "max_surge": COUNT_OR_PERCENT,
    "max_unavailable": COUNT_OR_PERCENT,
    "node_port": Rule("an integer from 30000 to 32767", node_port_or_none),
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
}
"""The rule of each field; every field has one (a unit test checks it)."""

DEFAULTS: dict[str, object] = {field.name: field.default for field in fields(HelloAppArgs)}
