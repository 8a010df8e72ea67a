"""RollingUpdate and Recreate: one Deployment, which Kubernetes rolls a few pods at a time, or
replaces all at once (a brief downtime)."""

from __future__ import annotations

import pulumi

from .args import HelloAppArgs
from .deployments import app_deployment, app_labels
from .workload import Home, Workload


def deploy_rolling(parent: pulumi.Resource, name: str, home: Home, args: HelloAppArgs) -> Workload:
    app_deployment(
        parent,
        name,
        home,
        args,
        labels=app_labels(args),
        replicas=args.replicas,
        version=args.version(),
        autoscaled=True,
    )
    return Workload(selector=app_labels(args))
