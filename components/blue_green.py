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
from .deployments import app_deployment, app_labels, role_version
from .gate import AnalysisGate, idle_color, settings, version_said
from .gateway import Backend, Entry, HeaderRule, Routing
from .jobs import smoke_test
from .names import COLORS, Color, role_service_name
from .pod import PodVersion
from .service import role_service, service_url
from .strategies import BlueGreen
from .workload import Home, Workload


def deploy_blue_green(
    parent: pulumi.Resource, name: str, home: Home, args: HelloAppArgs, slots: BlueGreen
) -> Workload:
    """`slots`: the strategy, `args.strategy`."""
    live: Color = slots.live_color
    idle = idle_color(live)
    pods = {color: color_version(parent, name, home, args, slots, color) for color in COLORS}
    deployments = {
        color: color_deployment(parent, name, home, args, slots, color, pods[color])
        for color in COLORS
    }
    serve_after: list[pulumi.Resource] = list(deployments.values())
    outputs: dict[str, pulumi.Output[Any]] = {"live_color": pulumi.Output.from_input(live)}
    if args.smoke_test:
        # Each color's version, before the app's Service may select it.
        serve_after += [
            smoke_test(
                parent,
                name,
                home,
                args,
                color,
                color_selector(args, color),
                pods[color],
                after=[deployments[color]],
            )
            for color in COLORS
        ]
    if slots.gate.seconds > 0:
        analysis = gate(parent, name, home, args, slots, list(deployments.values()))
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
        services = color_services(parent, name, home, args)
        color_route(parent, name, args, home.entry, live, [*services.values(), *serve_after])
    return Workload(color_selector(args, live), serve_after, outputs, routed=home.entry is not None)


PREVIEW_HEADER = "X-Preview"


def color_services(
    parent: pulumi.Resource, name: str, home: Home, args: HelloAppArgs
) -> dict[Color, k8s.core.v1.Service]:
    """`<service_name>-blue` and `-green`: one color each, for good (a route's backends)."""
    return {
        color: role_service(
            parent, name, args.service_name, color, home.namespace, color_selector(args, color)
        )
        for color in COLORS
    }


def color_route(
    parent: pulumi.Resource,
    name: str,
    args: HelloAppArgs,
    entry: Entry,
    live: Color,
    after: list[pulumi.Resource],
) -> k8s.apiextensions.CustomResource:
    """The route to the live color's Service, and to the idle one's with the preview header."""
    routing = Routing(
        [Backend(role_service_name(args.service_name, live))],
        [
            HeaderRule(
                PREVIEW_HEADER, "true", role_service_name(args.service_name, idle_color(live))
            )
        ],
    )
    return entry.route(parent, name, routing, after)


def color_selector(args: HelloAppArgs, color: str) -> dict[str, str]:
    return {**app_labels(args), "color": color}


def color_version(
    parent: pulumi.Resource,
    name: str,
    home: Home,
    args: HelloAppArgs,
    slots: BlueGreen,
    color: Color,
) -> PodVersion:
    version = slots.color_version(color, args.version())
    config = slots.color_config(color, args.app_config)
    return role_version(parent, name, home, args, color, version, config)


def color_deployment(
    parent: pulumi.Resource,
    name: str,
    home: Home,
    args: HelloAppArgs,
    slots: BlueGreen,
    color: Color,
    pod: PodVersion,
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
        pod=pod,
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
    versions = {
        color: version_said(
            slots.color_version(color, args.version()), slots.color_config(color, args.app_config)
        )
        for color in COLORS
    }
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
