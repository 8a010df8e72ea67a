"""The app's frontend: a Deployment `<deployment_name>-frontend` of the frontend image
(cluster/images/frontend), whose pods serve `/` by asking the API through its Service's DNS name
and answer `frontend -> <the API's answer>`, and its Service `<service_name>-frontend`. Its pods
are hardened as the API's and roll one at a time with no pod missing."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from . import defaults
from .args import HelloAppArgs
from .names import FRONTEND_SUFFIX
from .pod import CONTAINER_SECURITY_CONTEXT, POD_SECURITY_CONTEXT, RESOURCES
from .service import app_service, in_cluster_url
from .workload import Home

HEALTH_PATH = "/health"
"""Answered without asking the API: a frontend whose API is down stays up and says so (502)."""


def frontend_labels(args: HelloAppArgs) -> dict[str, str]:
    return {"app": f"{args.deployment_name}{FRONTEND_SUFFIX}"}


def frontend_container(args: HelloAppArgs) -> dict[str, Any]:
    probe: k8s.core.v1.ProbeArgsDict = {
        "http_get": {"path": HEALTH_PATH, "port": defaults.CONTAINER_PORT},
        "period_seconds": 5,
    }
    container: dict[str, Any] = {
        "name": "frontend",
        "image": args.frontend.image,
        "image_pull_policy": "IfNotPresent",
        "args": [
            f"-api={in_cluster_url(args.namespace, args.service_name)}",
            f"-listen=:{defaults.CONTAINER_PORT}",
        ],
        "ports": [{"container_port": defaults.CONTAINER_PORT}],
        "resources": RESOURCES,
        "liveness_probe": probe,
        "readiness_probe": probe,
        "security_context": CONTAINER_SECURITY_CONTEXT,
    }
    if args.pre_stop_sleep_seconds > 0:  # as the API's pods (components/pod.py)
        container["lifecycle"] = {"pre_stop": {"sleep": {"seconds": args.pre_stop_sleep_seconds}}}
    return container


def deploy_frontend(
    parent: pulumi.Resource,
    name: str,
    home: Home,
    args: HelloAppArgs,
    after: Sequence[pulumi.Resource],
) -> k8s.core.v1.Service:
    """The frontend's Deployment, once `after` is done (the API's Service), and its Service."""
    labels = frontend_labels(args)
    deployment = k8s.apps.v1.Deployment(
        f"{name}{FRONTEND_SUFFIX}",
        metadata={"name": f"{args.deployment_name}{FRONTEND_SUFFIX}", "namespace": home.namespace},
        spec={
            "replicas": args.frontend.replicas,
            "selector": {"match_labels": labels},
            "strategy": {
                "type": "RollingUpdate",
                "rolling_update": {"max_surge": 1, "max_unavailable": 0},
            },
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "service_account_name": home.service_account,
                    "automount_service_account_token": False,
                    "security_context": POD_SECURITY_CONTEXT,
                    "termination_grace_period_seconds": args.pre_stop_sleep_seconds + 5,
                    "containers": [frontend_container(args)],
                },
            },
        },
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(after)),
    )
    return app_service(
        parent,
        f"{name}{FRONTEND_SUFFIX}",
        f"{args.service_name}{FRONTEND_SUFFIX}",
        home.namespace,
        labels,
        args.frontend.node_port,
        depends_on=[deployment],
    )
