"""BlueGreen: two fixed slots, `<deployment_name>-blue` and `-green`, each running its own
version; the app's Service selects the live color, `<service_name>-preview` the idle one.

Order, kept by the resource graph so that no request fails: both colors' pods are Ready (the
Deployments' awaits), then the analysis gate passes the candidate, then the Services switch
their selectors; old objects (of another strategy) are deleted last, by the engine. Switching
back changes the selectors only: no pod restarts while the idle color is warm.

With a gateway, `<service_name>-blue` and `-green` select one color each, for good, and the
switch is the route's: the gateway sends the next request to the new color, with no wait for
kube-proxy on each node. `X-Preview: true` reaches the idle color through the same host name.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from .args import HelloAppArgs
from .deployments import app_deployment, app_labels
from .gate import AnalysisGate, idle_color, settings
from .gateway import Backend, Entry, HeaderRule, Routing
from .names import COLORS, Color, role_service_name
from .service import role_service, service_url
from .strategies import BlueGreen
from .workload import Home, Workload


def deploy_blue_green(
    parent: pulumi.Resource, name: str, home: Home, args: HelloAppArgs, slots: BlueGreen
) -> Workload:
    """`slots`: the strategy, `args.strategy`."""
    live: Color = slots.live_color
    idle = idle_color(live)
    deployments = [color_deployment(parent, name, home, args, slots, color) for color in COLORS]
    serve_after: list[pulumi.Resource] = list(deployments)
    outputs: dict[str, pulumi.Output[Any]] = {"live_color": pulumi.Output.from_input(live)}
    if slots.gate.seconds > 0:
        analysis = gate(parent, name, home, args, slots, deployments)
        serve_after.append(analysis)
        outputs["gate_result"] = analysis.result
    preview = role_service(
        parent,
        name,
        args.service_name,
        "preview",
        home.namespace,
        color_selector(args, idle),
        slots.preview_node_port,
        depends_on=serve_after,
    )
    outputs["preview_url"] = service_url(preview, args.url_host)
    if home.entry is not None:
        color_route(parent, name, home, args, home.entry, live, serve_after)
    return Workload(color_selector(args, live), serve_after, outputs, routed=home.entry is not None)


PREVIEW_HEADER = "X-Preview"


def color_route(
    parent: pulumi.Resource,
    name: str,
    home: Home,
    args: HelloAppArgs,
    entry: Entry,
    live: Color,
    after: list[pulumi.Resource],
) -> k8s.apiextensions.CustomResource:
    """The route to the live color's Service, and to the idle one's with the preview header."""
    services = {
        color: role_service(
            parent, name, args.service_name, color, home.namespace, color_selector(args, color)
        )
        for color in COLORS
    }
    routing = Routing(
        [Backend(role_service_name(args.service_name, live))],
        [
            HeaderRule(
                PREVIEW_HEADER, "true", role_service_name(args.service_name, idle_color(live))
            )
        ],
    )
    return entry.route(parent, name, routing, [*services.values(), *after])


def color_selector(args: HelloAppArgs, color: str) -> dict[str, str]:
    return {**app_labels(args), "color": color}


def color_deployment(
    parent: pulumi.Resource,
    name: str,
    home: Home,
    args: HelloAppArgs,
    slots: BlueGreen,
    color: Color,
) -> k8s.apps.v1.Deployment:
    live = color == slots.live_color
    return app_deployment(
        parent,
        name,
        home,
        args,
        role=color,
        labels=color_selector(args, color),
        replicas=args.replicas if live else slots.idle_pods(args.replicas),
        version=slots.color_version(color, args.version()),
        autoscaled=True,
    )


def gate(
    parent: pulumi.Resource,
    name: str,
    home: Home,
    args: HelloAppArgs,
    slots: BlueGreen,
    deployments: list[k8s.apps.v1.Deployment],
) -> AnalysisGate:
    versions = {color: " ".join(slots.color_version(color, args.version())) for color in COLORS}
    return AnalysisGate(
        f"{name}-gate",
        {
            "kind": "blue-green",
            "namespace": home.namespace,
            "service": role_service_name(args.service_name, "preview"),
            "live_color": slots.live_color,
            "versions": versions,
            "idle_replicas": slots.idle_pods(args.replicas),
            **settings(slots.gate, args.cluster_access),
        },
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(deployments)),
        secret_versions=args.secret_message,
    )
