"""The stack config (`demo-orq:*` keys), read and checked before any resource is registered.

Plain Python: `load` takes the raw config strings, so it is tested without Pulumi's runtime.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional

from components import HelloAppArgs

PROJECT = "demo-orq"
MAX_REPLICAS = 50


class ConfigError(ValueError):
    """A stack config value the program refuses: the key, the value and what is accepted."""

    def __init__(self, key: str, value: Optional[str], accepted: str) -> None:
        self.key = key
        self.value = value
        self.accepted = accepted
        shown = "not set" if value is None else repr(value)
        super().__init__(f"invalid stack config {PROJECT}:{key}: {shown} (accepted: {accepted})")


@dataclass(frozen=True)
class DemoConfig:
    """The checked stack config."""

    context: str
    """Context of the kubeconfig to deploy to: always explicit, never the current one."""

    kubeconfig: Optional[str]
    """Path of the kubeconfig file; None lets the provider use $KUBECONFIG or ~/.kube/config."""

    app: HelloAppArgs
    """What to deploy."""


def load(values: Mapping[str, str]) -> DemoConfig:
    """The config from the stack's `demo-orq:*` values, keyed without the `demo-orq:` prefix.

    Raises ConfigError for the first key that is unknown, missing or not accepted.
    """
    for key, value in values.items():
        if key not in KEYS:
            raise ConfigError(key, value, f"only the keys {', '.join(KEYS)}")
    if "context" not in values:
        raise ConfigError("context", None, KEYS["context"].accepted)

    parsed = {key: read(key, values[key]) for key in KEYS if key in values}
    app = HelloAppArgs(
        **{KEYS[key].app_field: value for key, value in parsed.items() if KEYS[key].app_field}
    )
    check_rollout(app, values)
    return DemoConfig(context=parsed["context"], kubeconfig=parsed.get("kubeconfig"), app=app)


def read(key: str, raw: str) -> Any:
    try:
        return KEYS[key].parse(raw)
    except ValueError:
        raise ConfigError(key, raw, KEYS[key].accepted) from None


def check_rollout(app: HelloAppArgs, values: Mapping[str, str]) -> None:
    """The checks across keys: the strategy and its rolling-update parameters."""
    if app.strategy == "Recreate":
        for key in ("maxSurge", "maxUnavailable"):
            if key in values:
                raise ConfigError(
                    key, values[key], "no value with Recreate: it applies to RollingUpdate only"
                )
    elif is_zero(app.max_surge) and is_zero(app.max_unavailable):
        raise ConfigError(
            "maxUnavailable",
            str(app.max_unavailable),
            f"a value above 0 while {PROJECT}:maxSurge is 0, or the rollout could never progress",
        )


def is_zero(count_or_percent: int | str) -> bool:
    return count_or_percent in (0, "0%")


# Parsers turn a raw config string into its value, or raise ValueError when it is not accepted.
Parser = Callable[[str], Any]

_INTEGER = re.compile(r"[0-9]+")
_PERCENT = re.compile(r"([0-9]+)%")
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


def integer_between(low: int, high: int) -> Parser:
    def parse(raw: str) -> int:
        if not _INTEGER.fullmatch(raw) or not low <= int(raw) <= high:
            raise ValueError
        return int(raw)

    return parse


def count_or_percent(raw: str) -> int | str:
    if _INTEGER.fullmatch(raw):
        return int(raw)
    percent = _PERCENT.fullmatch(raw)
    if percent and int(percent.group(1)) <= 100:
        return f"{int(percent.group(1))}%"
    raise ValueError


def one_of(*choices: str) -> Parser:
    def parse(raw: str) -> str:
        if raw not in choices:
            raise ValueError
        return raw

    return parse


def matching(pattern: re.Pattern[str]) -> Parser:
    def parse(raw: str) -> str:
        if not pattern.fullmatch(raw):
            raise ValueError
        return raw

    return parse


def text(raw: str) -> str:
    if not raw.strip():
        raise ValueError
    return raw


def path(raw: str) -> str:
    return os.path.expanduser(text(raw))


@dataclass(frozen=True)
class Key:
    """One config key: what it accepts (said in errors), how it is read, what it sets."""

    accepted: str
    parse: Parser
    app_field: Optional[str] = None
    """The HelloAppArgs field it sets; None for the keys that choose the cluster."""


ACCEPTED_COUNT_OR_PERCENT = "an integer >= 0 or a percentage from 0% to 100%"
ACCEPTED_DNS_1123_LABEL = (
    "a DNS-1123 label: at most 63 characters among a-z, 0-9 and '-', "
    "starting and ending with a letter or digit"
)

KEYS: dict[str, Key] = {
    "message": Key("a non-empty text", text, "message"),
    "replicas": Key(
        f"an integer from 0 to {MAX_REPLICAS}", integer_between(0, MAX_REPLICAS), "replicas"
    ),
    "strategy": Key("RollingUpdate or Recreate", one_of("RollingUpdate", "Recreate"), "strategy"),
    "maxSurge": Key(ACCEPTED_COUNT_OR_PERCENT, count_or_percent, "max_surge"),
    "maxUnavailable": Key(ACCEPTED_COUNT_OR_PERCENT, count_or_percent, "max_unavailable"),
    "image": Key(
        "an image reference [registry/]name[:tag][@digest] with a lowercase name, "
        "e.g. hashicorp/http-echo:0.2.3",
        matching(_IMAGE),
        "image",
    ),
    "namespace": Key(ACCEPTED_DNS_1123_LABEL, matching(_DNS_1123_LABEL), "namespace"),
    "deploymentName": Key(ACCEPTED_DNS_1123_LABEL, matching(_DNS_1123_LABEL), "deployment_name"),
    "serviceName": Key(
        "a DNS-1035 label: at most 63 characters among a-z, 0-9 and '-', "
        "starting with a letter and ending with a letter or digit",
        matching(_DNS_1035_LABEL),
        "service_name",
    ),
    "nodePort": Key("an integer from 30000 to 32767", integer_between(30000, 32767), "node_port"),
    "urlHost": Key("a host name or an IPv4 address, e.g. 127.0.0.1", matching(_HOST), "url_host"),
    "rolloutTimeout": Key(
        "an integer number of seconds from 10 to 3600",
        integer_between(10, 3600),
        "rollout_timeout_seconds",
    ),
    "kubeconfig": Key("the path of a kubeconfig file (~ is expanded)", path),
    "context": Key(
        "the name of a context of the kubeconfig, e.g. kind-demo-orq; it is required so that "
        "the program never deploys to whatever context is current",
        text,
    ),
}
