"""Canary: the stable Deployment keeps the name `<deployment_name>` of RollingUpdate (so switching
between the two needs no migration) and runs the app's message and image; `<deployment_name>-
canary` runs the canary's version on ceil(replicas x weight / 100) pods. `<service_name>-canary`
selects the canary pods alone, and the analysis gate probes it once they are Ready.

Without a gateway the app's Service selects both Deployments, so traffic splits by pod count, per
connection (the stable pods give up the canary's share). With one, the route splits requests:
exactly `weight` percent to the canary, `X-Canary: always`/`never` to one side; the stable
Deployment keeps every one of its pods until a promotion, behind `<service_name>-stable`.
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from .args import HelloAppArgs
from .deployments import app_deployment, app_labels, role_version
from .gate import AnalysisGate, settings, version_said
from .gateway import Backend, Entry, HeaderRule, Routing
from .jobs import smoke_test
from .names import role_service_name
from .pod import PodVersion
from .service import role_service, service_url
from .strategies import Canary
from .workload import Home, Workload

CANARY_HEADER = "X-Canary"
TRACK = "track"
"""The label that tells the canary pods (`canary`) from the stable ones (`stable`, with a
gateway: the stable Deployment's selector leaves it out, so adding it changes no selector)."""


def deploy_canary(
    parent: pulumi.Resource, name: str, home: Home, args: HelloAppArgs, canary: Canary
) -> Workload:
    """`canary`: the strategy, `args.strategy`. The side that grows changes first, so that the
    app never runs short of Ready pods."""
    entry = home.entry
    canary_pods = canary.pods(args.replicas)
    app_pod = role_version(parent, name, home, args, "app", args.version(), args.app_config)
    canary_labels = {**app_labels(args), TRACK: "canary"}
    canary_service = role_service(
        parent, name, args.service_name, "canary", home.namespace, canary_labels, canary.node_port
    )
    stable: k8s.apps.v1.Deployment | None = None
    route = None
    if entry is not None or canary_pods == 0:
        # The stable pods are Ready before the canary shrinks (an abort, a promotion).
        stable = stable_deployment(parent, name, home, args, app_pod, canary_pods, after=[])
        if entry is not None and canary_pods == 0:
            # No canary pods in this version: the route lets go of them before they stop.
            route = canary_route(parent, name, home, args, entry, canary, after=[stable])
    canary_pod = role_version(
        parent,
        name,
        home,
        args,
        "canary",
        canary.version(args.version()),
        canary.canary_config(args.app_config),
    )
    canary_deployment = app_deployment(
        parent,
        name,
        home,
        args,
        role="canary",
        labels=canary_labels,
        replicas=canary_pods,
        pod=canary_pod,
        depends_on=[r for r in (stable, route) if r is not None],
    )
    outputs = {
        "canary_url": service_url(canary_service, args.url_host),
        "canary_effective_weight": pulumi.Output.from_input(effective_weight(args, canary, entry)),
        "canary_split": pulumi.Output.from_input(split_said(args, canary, entry)),
    }
    analysed: list[pulumi.Resource] = [canary_deployment, canary_service]
    if args.smoke_test and canary_pods > 0:
        # The canary's version, before anything sends it more.
        analysed.append(
            smoke_test(parent, name, home, args, "canary", canary_labels, canary_pod, analysed)
        )
    if entry is not None and stable is not None and canary.gate.source == "prometheus":
        # The gate judges the requests that the route sends the canary pods: the route first.
        route = route or canary_route(
            parent, name, home, args, entry, canary, after=[stable, *analysed]
        )
        analysed.append(route)
    if canary.gate.seconds > 0:
        gate = canary_gate(parent, name, home, args, canary, after=[stable, *analysed])
        outputs["gate_result"] = gate.result
        analysed.append(gate)
    if stable is None:
        # Without a gateway a canary step takes its pods from the stable Deployment: it shrinks
        # once they are Ready and analysed (a failed gate leaves it whole).
        stable = stable_deployment(parent, name, home, args, app_pod, canary_pods, after=analysed)
    if entry is not None and route is None:
        # Canary pods in this version: Ready (and analysed) before the route sends them more.
        canary_route(parent, name, home, args, entry, canary, after=[stable, *analysed])
    return Workload(
        selector=app_labels(args),
        outputs=outputs,
        app_pod=app_pod if canary_pods == 0 else None,
        app_deployments=[stable],
        routed=entry is not None,
    )


def canary_gate(
    parent: pulumi.Resource,
    name: str,
    home: Home,
    args: HelloAppArgs,
    canary: Canary,
    after: list[pulumi.Resource | None],
) -> AnalysisGate:
    """The gate of the canary pods, through their Service, once `after` is done."""
    return AnalysisGate(
        f"{name}-gate",
        {
            "kind": "canary",
            "namespace": home.namespace,
            "service": role_service_name(args.service_name, "canary"),
            "weight": canary.weight,
            "candidate": version_said(
                canary.version(args.version()), canary.canary_config(args.app_config)
            ),
            **settings(canary.gate, args.cluster_access),
        },
        opts=pulumi.ResourceOptions(
            parent=parent, depends_on=[each for each in after if each is not None]
        ),
        secret_versions=args.secret_message,
    )


def stable_deployment(
    parent: pulumi.Resource,
    name: str,
    home: Home,
    args: HelloAppArgs,
    pod: PodVersion,
    canary_pods: int,
    after: list[pulumi.Resource],
) -> k8s.apps.v1.Deployment:
    """The app's own version: every pod with a gateway (the route splits the requests), the
    pods the canary does not take without one."""
    routed = home.entry is not None
    return app_deployment(
        parent,
        name,
        home,
        args,
        labels=app_labels(args),
        pod_labels={TRACK: "stable"} if routed else None,
        replicas=args.replicas if routed else args.replicas - canary_pods,
        pod=pod,
        autoscaled=True,
        depends_on=after,
    )


def canary_route(
    parent: pulumi.Resource,
    name: str,
    home: Home,
    args: HelloAppArgs,
    entry: Entry,
    canary: Canary,
    after: list[pulumi.Resource],
) -> k8s.apiextensions.CustomResource:
    stable_name = role_service_name(args.service_name, "stable")
    canary_name = role_service_name(args.service_name, "canary")
    stable_labels = {**app_labels(args), TRACK: "stable"}
    stable_service = role_service(
        parent, name, args.service_name, "stable", home.namespace, stable_labels
    )
    routing = Routing(
        [Backend(stable_name, 100 - canary.weight), Backend(canary_name, canary.weight)],
        [
            HeaderRule(CANARY_HEADER, "always", canary_name),
            HeaderRule(CANARY_HEADER, "never", stable_name),
        ],
    )
    return entry.route(parent, name, routing, [stable_service, *after])


def effective_weight(args: HelloAppArgs, canary: Canary, entry: Entry | None) -> float:
    """The share, in percent, of the requests (at the route) or of the pods (pods are whole)
    that really reach the canary."""
    if entry is not None:
        return float(canary.weight)
    return round(100 * canary.pods(args.replicas) / args.replicas, 1) if args.replicas else 0.0


def split_said(args: HelloAppArgs, canary: Canary, entry: Entry | None) -> str:
    if entry is not None:
        return f"route: {canary.weight}% of the requests through the gateway"
    pods = canary.pods(args.replicas)
    return (
        f"pods: {pods} of {args.replicas} pods run the canary "
        f"({effective_weight(args, canary, entry):g}%, per connection; no gateway)"
    )
