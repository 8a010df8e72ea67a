"""Where a strategy deploys, and what it deployed, as HelloApp needs it to put the app's
Service in front."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi

from .gateway import Entry
from .pod import PodVersion


@dataclass(frozen=True)
class Home:
    """Where a strategy's objects live: the app's namespace, and the identity its pods run as."""

    namespace: pulumi.Input[str]
    service_account: pulumi.Input[str]
    message_secret: pulumi.Input[str] | None = None
    """The Secret that holds the app's message, when the message is a secret."""
    app_secret: pulumi.Input[str] | None = None
    """The Secret of the app's secret values (`app_secrets`), when it has some."""
    entry: Entry | None = None
    """The app's Gateway, when it has one: BlueGreen and Canary route through it themselves."""


@dataclass(frozen=True)
class Workload:
    selector: dict[str, str]
    """The pods that the app's Service selects."""

    serve_after: list[pulumi.Resource] = field(default_factory=list)
    """What must be done before the app's Service may change (pods Ready, a gate passed)."""

    outputs: dict[str, pulumi.Output[Any]] = field(default_factory=dict)
    """The strategy's own outputs, by their Python name (e.g. `preview_url`)."""

    app_pod: PodVersion | None = None
    """What the pods behind the app's Service run, when they all run one version that no smoke
    test of the strategy's has tried: the smoke test then requests the app's Service, once it has
    rolled out (RollingUpdate, Recreate, Canary with no canary pods)."""

    app_deployments: list[pulumi.Resource] = field(default_factory=list)
    """The Deployments that run `app_pod`: the smoke test waits for them."""

    routed: bool = False
    """The strategy made the gateway's route itself; otherwise the route goes to the app's
    Service."""
