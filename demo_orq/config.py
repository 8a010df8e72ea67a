"""The stack config (`demo-orq:*` keys), read and checked before any resource is registered.

Plain Python: `load` takes the raw config strings, so it is tested without Pulumi's runtime.
Each key is declared in Pulumi.yaml with its type, default and description (Pulumi's typed
project config); what a value must be is decided by HelloAppArgs, whose errors are turned into
one line that names the key.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from components import HelloAppArgs, InvalidArgsError
from components.args import build, rule_of

from . import facts


class ConfigError(ValueError):
    """A stack config value the program refuses: the key, the value and what is accepted."""

    def __init__(self, key: str, value: str | None, accepted: str) -> None:
        self.key = key
        self.value = value
        self.accepted = accepted
        shown = "not set" if value is None else repr(value)
        super().__init__(
            f"invalid stack config {facts.PROJECT}:{key}: {shown} (accepted: {accepted})"
        )


@dataclass(frozen=True)
class Slo:
    """The service level objectives that `python -m demo_orq report` marks each figure against."""

    availability_percent: float = 99.9
    """Share of requests answered with a 200, over a probe window."""
    p99_ms: int = 500
    """Latency that 99% of the requests stay under."""


@dataclass(frozen=True)
class DemoConfig:
    """The checked stack config."""

    context: str
    """Context of the kubeconfig to deploy to: always explicit, never the current one."""

    kubeconfig: str | None
    """Path of the kubeconfig file; None lets the provider use $KUBECONFIG or ~/.kube/config."""

    app: HelloAppArgs
    """What to deploy."""

    slo: Slo = Slo()
    """What the report holds the deployed app to."""


# Parsers turn a raw config string into a typed value, or raise ValueError.
Parser = Callable[[str], Any]

_INTEGER = re.compile(r"-?[0-9]+")
_PERCENT = re.compile(r"([0-9]+)%")


def integer(raw: str) -> int:
    if not _INTEGER.fullmatch(raw):
        raise ValueError
    return int(raw)


def count_or_percent(raw: str) -> int | str:
    """`3` or `25%` (leading zeros dropped: `007%` is `7%`)."""
    percent = _PERCENT.fullmatch(raw)
    return f"{int(percent.group(1))}%" if percent else integer(raw)


def number_between(low: float, high: float) -> Parser:
    def parse(raw: str) -> float:
        value = float(raw)  # ValueError when it is no number
        if not low <= value <= high:
            raise ValueError
        return value

    return parse


def integer_between(low: int, high: int) -> Parser:
    def parse(raw: str) -> int:
        value = integer(raw)
        if not low <= value <= high:
            raise ValueError
        return value

    return parse


def as_is(raw: str) -> str:
    return raw


def non_empty(raw: str) -> str:
    if not raw.strip():
        raise ValueError
    return raw


def optional_path(raw: str) -> str | None:
    return os.path.expanduser(raw) if raw.strip() else None


def optional_text(raw: str) -> str | None:
    """Empty: not set (the field's None, e.g. "the app's message")."""
    return raw if raw else None


def optional_integer(raw: str) -> int | None:
    return integer(raw) if raw else None


def number(raw: str) -> float:
    return float(raw)


def boolean(raw: str) -> bool:
    if raw not in ("true", "false"):
        raise ValueError
    return raw == "true"


def optional_count_or_percent(raw: str) -> int | str | None:
    return count_or_percent(raw) if raw else None


@dataclass(frozen=True)
class Key:
    """One config key: how its raw string is read, and the HelloAppArgs field it sets."""

    parse: Parser
    app_field: str | None = None
    """The HelloAppArgs field it sets; None for the keys that choose the cluster."""
    own_accepted: str = ""
    """What a key that sets no field accepts (a field's rule says it for the others)."""

    @property
    def accepted(self) -> str:
        return rule_of(self.app_field).accepted if self.app_field else self.own_accepted


KEYS: dict[str, Key] = {
    "context": Key(
        non_empty,
        own_accepted="the name of a context of the kubeconfig, e.g. kind-demo-orq; it is "
        "required so that the program never deploys to whatever context is current",
    ),
    "kubeconfig": Key(
        optional_path,
        own_accepted="the path of a kubeconfig file (~ is expanded), or empty for "
        "$KUBECONFIG or ~/.kube/config",
    ),
    "message": Key(as_is, "message"),
    "replicas": Key(integer, "replicas"),
    "strategy": Key(as_is, "strategy"),
    "maxSurge": Key(count_or_percent, "max_surge"),
    "maxUnavailable": Key(count_or_percent, "max_unavailable"),
    "image": Key(as_is, "image"),
    "namespace": Key(as_is, "namespace"),
    "deploymentName": Key(as_is, "deployment_name"),
    "serviceName": Key(as_is, "service_name"),
    "nodePort": Key(integer, "node_port"),
    "urlHost": Key(as_is, "url_host"),
    "rolloutTimeout": Key(integer, "rollout_timeout_seconds"),
    "liveColor": Key(as_is, "blue_green.live_color"),
    "previewNodePort": Key(integer, "blue_green.preview_node_port"),
    "blueMessage": Key(optional_text, "blue_green.blue_message"),
    "blueImage": Key(optional_text, "blue_green.blue_image"),
    "greenMessage": Key(optional_text, "blue_green.green_message"),
    "greenImage": Key(optional_text, "blue_green.green_image"),
    "idleReplicas": Key(optional_integer, "blue_green.idle_replicas"),
    "canaryMessage": Key(optional_text, "canary.message"),
    "canaryImage": Key(optional_text, "canary.image"),
    "canaryWeight": Key(integer, "canary.weight"),
    "canaryNodePort": Key(integer, "canary.node_port"),
    "gateSeconds": Key(integer, "gate.seconds"),
    "gateMinSuccessPercent": Key(number, "gate.min_success_percent"),
    "gateMaxP99Ms": Key(integer, "gate.max_p99_ms"),
    "autoscale": Key(boolean, "autoscale.enabled"),
    "minReplicas": Key(integer, "autoscale.min_replicas"),
    "maxReplicas": Key(integer, "autoscale.max_replicas"),
    "cpuTargetPercent": Key(integer, "autoscale.cpu_target_percent"),
    "scaleDownStabilizationSeconds": Key(integer, "autoscale.scale_down_stabilization_seconds"),
    "pdbMinAvailable": Key(optional_count_or_percent, "pdb_min_available"),
    "sloAvailabilityPercent": Key(
        number_between(0, 100), own_accepted="a percentage from 0 to 100, e.g. 99.9"
    ),
    "sloP99Ms": Key(
        integer_between(1, 60_000), own_accepted="an integer number of milliseconds, 1 to 60000"
    ),
}
"""Every `demo-orq:` key, in the order of Pulumi.yaml and the README (a unit test checks it)."""

KEY_FIELDS = {name: key.app_field for name, key in KEYS.items() if key.app_field}
"""The keys that set a HelloAppArgs field, and their field."""
KEY_OF_FIELD = {field: name for name, field in KEY_FIELDS.items()}


SECRET_KEYS = ("message",)
"""The keys that may be set with `pulumi config set --secret`: the program keeps them secret."""
HIDDEN = "[secret]"


def load(values: Mapping[str, str], secret_keys: Collection[str] = ()) -> DemoConfig:
    """The config from the stack's `demo-orq:*` values, keyed without the `demo-orq:` prefix;
    `secret_keys` are those set as secrets.

    Raises ConfigError for the first key that is unknown, missing or not accepted; the error
    never shows a secret's value.
    """
    shown = {key: HIDDEN if key in secret_keys else value for key, value in values.items()}
    for key in values:
        if key not in KEYS:
            raise ConfigError(key, shown[key], f"only the keys {', '.join(KEYS)}")
    for key in secret_keys:
        if key in KEYS and key not in SECRET_KEYS:
            raise ConfigError(
                key, HIDDEN, f"a plain value: only {', '.join(SECRET_KEYS)} may be a secret"
            )
    if "context" not in values:
        raise ConfigError("context", None, KEYS["context"].accepted)

    parsed = {key: read(key, values[key], shown[key]) for key in KEYS if key in values}
    app_fields = {KEY_FIELDS[key]: value for key, value in parsed.items() if key in KEY_FIELDS}
    app_fields["secret_message"] = "message" in secret_keys
    app_fields["cluster_access.kubeconfig"] = parsed.get("kubeconfig")
    app_fields["cluster_access.context"] = parsed["context"]
    try:
        app = build(app_fields)
    except InvalidArgsError as error:
        key = KEY_OF_FIELD[error.field]
        raise ConfigError(key, shown.get(key, str(error.value)), error.accepted) from None
    slo = Slo(
        availability_percent=parsed.get("sloAvailabilityPercent", Slo.availability_percent),
        p99_ms=parsed.get("sloP99Ms", Slo.p99_ms),
    )
    return DemoConfig(
        context=parsed["context"], kubeconfig=parsed.get("kubeconfig"), app=app, slo=slo
    )


def read(key: str, raw: str, shown: str) -> Any:
    try:
        return KEYS[key].parse(raw)
    except ValueError:
        raise ConfigError(key, shown, KEYS[key].accepted) from None
