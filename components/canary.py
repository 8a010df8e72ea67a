"""Canary: the stable Deployment keeps the name `<deployment_name>` of RollingUpdate (so switching
between the two needs no migration) and runs the app's message and image; `<deployment_name>-
canary` runs the canary's version on ceil(replicas x weight / 100) of the pods. The app's Service
selects both, so traffic splits by pod count, per connection; `<service_name>-canary` selects the
canary pods alone, and the analysis gate probes it once they are Ready."""

from __future__ import annotations

import pulumi

from .args import HelloAppArgs
from .deployments import app_deployment, app_labels
from .gate import AnalysisGate, settings
from .names import role_service_name
from .service import app_service, service_url
from .strategies import Canary
from .workload import Home, Workload


def deploy_canary(
    parent: pulumi.Resource, name: str, home: Home, args: HelloAppArgs, canary: Canary
) -> Workload:
    """`canary`: the strategy, `args.strategy`."""
    canary_pods = canary.pods(args.replicas)
    stable = app_deployment(
        parent,
        name,
        home,
        args,
        labels=app_labels(args),
        replicas=args.replicas - canary_pods,
        version=args.version(),
        autoscaled=True,
    )
    canary_labels = {**app_labels(args), "track": "canary"}
    canary_deployment = app_deployment(
        parent,
        name,
        home,
        args,
        role="canary",
        labels=canary_labels,
        replicas=canary_pods,
        version=canary.version(args.version()),
        # The stable pods are Ready before the canary shrinks (an abort, a promotion): the
        # app never runs out of serving pods.
        depends_on=[stable],
    )
    canary_service_name = role_service_name(args.service_name, "canary")
    canary_service = app_service(
        parent,
        role_service_name(name, "canary"),
        canary_service_name,
        home.namespace,
        canary_labels,
        canary.node_port,
    )
    outputs = {
        "canary_url": service_url(canary_service, args.url_host),
        "canary_effective_weight": pulumi.Output.from_input(effective_weight(args, canary)),
    }
    if canary.gate.seconds > 0:
        gate = AnalysisGate(
            f"{name}-gate",
            {
                "kind": "canary",
                "namespace": home.namespace,
                "service": canary_service_name,
                "weight": canary.weight,
                "candidate": " ".join(canary.version(args.version())),
                **settings(canary.gate, args.cluster_access),
            },
            opts=pulumi.ResourceOptions(
                parent=parent, depends_on=[stable, canary_deployment, canary_service]
            ),
            secret_versions=args.secret_message,
        )
        outputs["gate_result"] = gate.result
    return Workload(selector=app_labels(args), outputs=outputs)


def effective_weight(args: HelloAppArgs, canary: Canary) -> float:
    """The share of the pods, in percent, that really run the canary (pods are whole)."""
    return round(100 * canary.pods(args.replicas) / args.replicas, 1) if args.replicas else 0.0
