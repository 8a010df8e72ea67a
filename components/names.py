"""The names of the objects each strategy adds, derived from the app's Deployment and Service
names in this one place: `<deployment_name>-blue`, `-green`, `-canary`; `<service_name>-preview`,
`-canary`, and with a gateway `-stable`, `-blue`, `-green`, the Secret `-tls`, the redirect
route `-http` and the alert rules' ConfigMap `-alerts`. The same suffixes make the Pulumi logical
names of those objects from the component's name."""

from __future__ import annotations

from typing import Literal, get_args

Color = Literal["blue", "green"]
"""BlueGreen's two slots: fixed, each running its own version, never named after one."""
COLORS: tuple[Color, ...] = get_args(Color)

DeploymentRole = Literal["app", Color, "canary"]
"""What a Deployment runs: the app (RollingUpdate, Recreate, Canary's stable pods), a BlueGreen
color, the canary."""

ServiceRole = Literal["app", "preview", "canary", "stable", Color]
"""What a Service selects: the app's pods (users' traffic), BlueGreen's idle color, the canary;
for a gateway's routes, Canary's stable pods and each BlueGreen color (fixed selectors, so that
the route, not a selector, switches)."""

ROUTED_ROLES: tuple[ServiceRole, ...] = ("app", "stable", "canary", *COLORS)
"""The Services that a gateway's route may send users' requests to, whatever the strategy."""


def role_deployment_name(deployment_name: str, role: DeploymentRole) -> str:
    """The name of the Deployment of `role`, from the app's Deployment name."""
    return deployment_name if role == "app" else f"{deployment_name}-{role}"


def role_service_name(service_name: str, role: ServiceRole) -> str:
    """The name of the Service of `role`, from the app's Service name."""
    return service_name if role == "app" else f"{service_name}-{role}"


TLS_SECRET_SUFFIX = "-tls"
"""The Secret of a gateway's certificate: `<service_name>-tls`."""
REDIRECT_ROUTE_SUFFIX = "-http"
"""The HTTPRoute that redirects HTTP to HTTPS: `<service_name>-http`."""
ALERTS_SUFFIX = "-alerts"
"""The ConfigMap of the app's Prometheus alert rules: `<service_name>-alerts`."""

DEPLOYMENT_SUFFIXES = tuple(
    role_deployment_name("", role) for role in get_args(DeploymentRole) if role != "app"
)
SERVICE_SUFFIXES = (
    *(role_service_name("", role) for role in get_args(ServiceRole) if role != "app"),
    TLS_SECRET_SUFFIX,
    REDIRECT_ROUTE_SUFFIX,
    ALERTS_SUFFIX,
)

LABEL_LENGTH = 63
"""The most characters of a DNS label, which every object's name is."""
NAME_LENGTH = LABEL_LENGTH - max(map(len, DEPLOYMENT_SUFFIXES + SERVICE_SUFFIXES))
"""The most characters of the app's names, so that every suffixed name is still a label."""
