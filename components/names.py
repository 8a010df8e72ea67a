"""The names of the objects each strategy adds, derived from the app's Deployment and Service
names in this one place: `<deployment_name>-blue`, `-green`, `-canary`; `<service_name>-preview`,
`-canary`, and with a gateway `-stable`, `-blue`, `-green`, the Secret `-tls`, the redirect
route `-http` and the alert rules' ConfigMap `-alerts`. The same suffixes make the Pulumi logical
names of those objects from the component's name."""

from __future__ import annotations

import hashlib
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
FRONTEND_SUFFIX = "-frontend"
"""The app's frontend: the Deployment `<deployment_name>-frontend`, the Service
`<service_name>-frontend`."""
ALERTS_SUFFIX = "-alerts"
"""The ConfigMap of the app's Prometheus alert rules: `<service_name>-alerts`."""

HASH_LENGTH = 10
"""Hex digits of the content hash in the names of the objects named by their content."""


def content_hash(*parts: str) -> str:
    """HASH_LENGTH hex digits of SHA-256 over `parts`."""
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:HASH_LENGTH]


VERSION_LABEL = "demo-orq.io/version"
"""The pods' label with the content hash of what they run (image, text, environment): a
version's smoke test selects its pods alone by it. Never in a Deployment's selector."""
CONFIG_SUFFIX = "-config-"
"""A Deployment's ConfigMap: `<its name>-config-<hash of the values>`."""
SMOKE_SUFFIX = "-smoke-"
"""The smoke test of a Deployment's version, a Job and the Service it requests:
`<its name>-smoke-<hash of the version>`."""
JOB_LABEL = "demo-orq.io/job"
"""The label of every pod of the app's Jobs, `smoke` or `etl` (the NetworkPolicies select them
by it)."""
ETL_JOB = "etl"
"""The app's daily CronJob, `<deployment_name>-etl`, and `demo-orq job run etl`'s name for it."""
DATA_SUFFIX = "-data"
"""A CronJob's PersistentVolumeClaim: `<its name>-data`."""
JOB_NAME_LENGTH = 63
"""The most characters of a Job's name (its pods carry it in a label)."""
CRON_JOB_NAME_LENGTH = 52
"""The most characters of a CronJob's name: its Jobs add 11."""


def cron_job_name(deployment_name: str, job: str) -> str:
    """The name of the app's CronJob `job`: `<deployment_name>-<job>`, cut to what a CronJob
    takes."""
    return fitted(deployment_name, f"-{job}", CRON_JOB_NAME_LENGTH)


def fitted(head: str, tail: str, length: int) -> str:
    """`head` + `tail` in at most `length` characters: `head` cut short (no `-` left at the cut),
    never `tail`, which tells objects apart."""
    room = length - len(tail)
    return head[:room].rstrip("-") + tail


DEPLOYMENT_SUFFIXES = (
    *(role_deployment_name("", role) for role in get_args(DeploymentRole) if role != "app"),
    FRONTEND_SUFFIX,
)
SERVICE_SUFFIXES = (
    *(role_service_name("", role) for role in get_args(ServiceRole) if role != "app"),
    TLS_SECRET_SUFFIX,
    REDIRECT_ROUTE_SUFFIX,
    ALERTS_SUFFIX,
    FRONTEND_SUFFIX,
)

LABEL_LENGTH = 63
"""The most characters of a DNS label, which every object's name is."""
NAME_LENGTH = LABEL_LENGTH - max(map(len, DEPLOYMENT_SUFFIXES + SERVICE_SUFFIXES))
"""The most characters of the app's names, so that every suffixed name is still a label."""
