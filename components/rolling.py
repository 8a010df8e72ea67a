"""RollingUpdate and Recreate: one Deployment, which Kubernetes rolls a few pods at a time, or
replaces all at once (a brief downtime)."""

from __future__ import annotations

import pulumi

from .args import HelloAppArgs
from .deployments import app_deployment, app_labels, role_version
from .workload import Home, Workload


def deploy_rolling(parent: pulumi.Resource, name: str, home: Home, args: HelloAppArgs) -> Workload:
    pod = role_version(parent, name, home, args, "app", args.version(), args.app_config)
    deployment = app_deployment(
        parent,
        name,
        home,
        args,
        labels=app_labels(args),
        replicas=args.replicas,
        pod=pod,
        autoscaled=True,
    )
    return Workload(selector=app_labels(args), app_pod=pod, app_deployments=[deployment])
