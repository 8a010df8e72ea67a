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
from .service import app_service, role_service_name, service_url
from .workload import Home, Workload


def deploy_canary(parent: pulumi.Resource, name: str, home: Home, args: HelloAppArgs) -> Workload:
    canary_pods = args.canary_replicas()
    stable = app_deployment(
        parent,
        name,
        home,
        args,
        labels=app_labels(args),
        replicas=args.replicas - canary_pods,
        version=(args.message, args.image),
        autoscaled=True,
    )
    canary_labels = {**app_labels(args), "track": "canary"}
    canary = app_deployment(
        parent,
        name,
        home,
        args,
        suffix="-canary",
        labels=canary_labels,
        replicas=canary_pods,
        version=args.canary_version(),
        # The stable pods are Ready before the canary shrinks (an abort, a promotion): the
        # app never runs out of serving pods.
        depends_on=[stable],
    )
    canary_service_name = role_service_name(args.service_name, "canary")
    canary_service = app_service(
        parent,
        f"{name}-canary",
        canary_service_name,
        home.namespace,
        canary_labels,
        args.canary.node_port,
    )
    outputs = {
        "canary_url": service_url(canary_service, args.url_host),
        "canary_effective_weight": pulumi.Output.from_input(effective_weight(args)),
    }
    if args.gate.seconds > 0:
        gate = AnalysisGate(
            f"{name}-gate",
            {
                "kind": "canary",
                "namespace": home.namespace,
                "service": canary_service_name,
                "weight": args.canary.weight,
                "candidate": " ".join(args.canary_version()),
                **settings(args.gate, args.cluster_access),
            },
            opts=pulumi.ResourceOptions(parent=parent, depends_on=[stable, canary, canary_service]),
            secret_versions=args.secret_message,
        )
        outputs["gate_result"] = gate.result
    return Workload(selector=app_labels(args), outputs=outputs)


def effective_weight(args: HelloAppArgs) -> float:
    """The share of the pods, in percent, that really run the canary (pods are whole)."""
    return round(100 * args.canary_replicas() / args.replicas, 1) if args.replicas else 0.0
