"""The app's HTTPS entry through the Gateway API: a Gateway of the cluster's class with two
listeners on the app's host name (HTTPS with the stack's certificate; HTTP, which redirects to
HTTPS), and the HTTPRoute `/api` -> the app, whose rules the strategy writes: one backend for
RollingUpdate and Recreate, the live color for BlueGreen (a switch is a change of the route),
stable and canary by weight for Canary (exact shares of requests, whatever the pod counts).

Headers reach a version on purpose: `X-Canary: always` (or `never`) with Canary, `X-Preview:
true` (the idle color) with BlueGreen, as testers and the analysis gate need.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from . import defaults
from .certificate import ServingCertificate
from .names import REDIRECT_ROUTE_SUFFIX, TLS_SECRET_SUFFIX
from .shared_args import GatewayArgs

API_VERSION = "gateway.networking.k8s.io/v1"
HTTP_LISTENER_PORT = 8000
HTTPS_LISTENER_PORT = 8443
"""The controller's entry points that the listeners bind to (Traefik matches them by port;
these are its Helm chart's defaults and the local cluster's)."""
API_PATH = "/api"
"""The document's route: `/api` -> the app's Service. Other paths answer 404."""
READY_SECONDS = 60
"""How long `pulumi up` waits for the controller to program a new Gateway."""


@dataclass(frozen=True)
class Backend:
    """A Service that a rule sends requests to, with its share (a weight among the rule's)."""

    service: str
    weight: int = 1


@dataclass(frozen=True)
class HeaderRule:
    """Requests that carry `header: value` go to `service` alone."""

    header: str
    value: str
    service: str


@dataclass(frozen=True)
class Routing:
    """What the HTTPRoute does with `/api`: requests go to `backends` by weight, except those
    that a header rule takes."""

    backends: Sequence[Backend]
    header_rules: Sequence[HeaderRule] = ()


@dataclass(frozen=True)
class Entry:
    """A Gateway deployed for the app, which the strategy's route attaches to."""

    gateway_name: str
    namespace: pulumi.Input[str]
    hostname: str
    gateway: k8s.apiextensions.CustomResource

    def route(
        self,
        parent: pulumi.Resource,
        name: str,
        routing: Routing,
        depends_on: Sequence[pulumi.Resource] = (),
    ) -> k8s.apiextensions.CustomResource:
        """The HTTPRoute of the HTTPS listener, named as the Gateway; it changes only after
        `depends_on` is done."""
        rules = [header_rule(rule) for rule in routing.header_rules]
        rules.append({"matches": [api_match()], "backendRefs": backend_refs(routing.backends)})
        return k8s.apiextensions.CustomResource(
            f"{name}-route",
            api_version=API_VERSION,
            kind="HTTPRoute",
            metadata={"name": self.gateway_name, "namespace": self.namespace},
            spec={
                "parentRefs": [self.parent_ref("https")],
                "hostnames": [self.hostname],
                "rules": rules,
            },
            opts=pulumi.ResourceOptions(parent=parent, depends_on=[self.gateway, *depends_on]),
        )

    def parent_ref(self, listener: str) -> dict[str, str]:
        return {"name": self.gateway_name, "sectionName": listener}


def api_match(**more: Any) -> dict[str, Any]:
    return {"path": {"type": "PathPrefix", "value": API_PATH}, **more}


def backend_refs(backends: Sequence[Backend]) -> list[dict[str, Any]]:
    """Backends with a share above 0 (a backend at weight 0 takes none anyway)."""
    return [
        {"name": backend.service, "port": defaults.SERVICE_PORT, "weight": backend.weight}
        for backend in backends
        if backend.weight > 0
    ]


def header_rule(rule: HeaderRule) -> dict[str, Any]:
    return {
        "matches": [api_match(headers=[{"name": rule.header, "value": rule.value}])],
        "backendRefs": backend_refs([Backend(rule.service)]),
    }


def gateway_url(gateway: GatewayArgs) -> str:
    """Where users reach the app through the gateway."""
    port = "" if gateway.port == 443 else f":{gateway.port}"
    return f"https://{gateway.hostname}{port}{API_PATH}"


def deploy_entry(
    parent: pulumi.Resource,
    name: str,
    namespace: pulumi.Input[str],
    gateway_name: str,
    gateway: GatewayArgs,
) -> tuple[Entry, ServingCertificate]:
    """The certificate, its Secret, the Gateway (ready: `pulumi up` waits until the controller
    has programmed it) and the HTTP listener's redirect to HTTPS."""
    certificate = ServingCertificate(
        f"{name}-certificate",
        gateway.hostname,
        ca_name=f"demo-orq {gateway.hostname} CA",
        opts=pulumi.ResourceOptions(parent=parent),
    )
    secret_name = f"{gateway_name}{TLS_SECRET_SUFFIX}"
    secret = k8s.core.v1.Secret(
        f"{name}-tls",
        metadata={"name": secret_name, "namespace": namespace},
        type="kubernetes.io/tls",
        string_data={"tls.crt": certificate.certificate, "tls.key": certificate.private_key},
        opts=pulumi.ResourceOptions(parent=parent),
    )
    listener = {"hostname": gateway.hostname, "allowedRoutes": {"namespaces": {"from": "Same"}}}
    resource = k8s.apiextensions.CustomResource(
        f"{name}-gateway",
        api_version=API_VERSION,
        kind="Gateway",
        metadata={
            "name": gateway_name,
            "namespace": namespace,
            "annotations": {
                "pulumi.com/waitFor": "condition=Programmed",
                "pulumi.com/timeoutSeconds": str(READY_SECONDS),
            },
        },
        spec={
            "gatewayClassName": gateway.class_name,
            "listeners": [
                {"name": "http", "protocol": "HTTP", "port": HTTP_LISTENER_PORT, **listener},
                {
                    "name": "https",
                    "protocol": "HTTPS",
                    "port": HTTPS_LISTENER_PORT,
                    "tls": {"mode": "Terminate", "certificateRefs": [{"name": secret_name}]},
                    **listener,
                },
            ],
        },
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[secret]),
    )
    entry = Entry(gateway_name, namespace, gateway.hostname, resource)
    redirect_to_https(parent, name, entry, gateway)
    return entry, certificate


def redirect_to_https(
    parent: pulumi.Resource, name: str, entry: Entry, gateway: GatewayArgs
) -> k8s.apiextensions.CustomResource:
    redirect: dict[str, Any] = {"scheme": "https", "statusCode": 301}
    if gateway.port != 443:
        redirect["port"] = gateway.port
    return k8s.apiextensions.CustomResource(
        f"{name}-redirect",
        api_version=API_VERSION,
        kind="HTTPRoute",
        metadata={
            "name": f"{entry.gateway_name}{REDIRECT_ROUTE_SUFFIX}",
            "namespace": entry.namespace,
        },
        spec={
            "parentRefs": [entry.parent_ref("http")],
            "hostnames": [entry.hostname],
            "rules": [{"filters": [{"type": "RequestRedirect", "requestRedirect": redirect}]}],
        },
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[entry.gateway]),
    )
