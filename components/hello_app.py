"""HelloApp: the demo's Namespace, Deployment and Service as one reusable Pulumi component."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from demo_orq import facts

from .args import HelloAppArgs
from .pod import pod_template

# The provider's Service await holds every create or update of a Service for 10 s after the first
# change of its endpoints (bench/: cold deploy 12.2 s -> 7.6 s without it). The Deployment's await
# already waits for the very pods that the Service selects, so the Service's own is skipped.
SERVICE_ANNOTATIONS = {"pulumi.com/skipAwait": "true"}
DEMO = HelloAppArgs()
"""The demo's app, exactly as its manifest has it."""


class HelloApp(pulumi.ComponentResource):
    """The demo's app: a Namespace, a Deployment of http-echo in it and a Service in front.

    Pass the Kubernetes provider in `opts` (`providers=[provider]`): the children use it.
    Instances are independent: give each one its own name, namespace and node port.
    """

    url: pulumi.Output[str]
    """Where the Service answers: the node port from outside, else its in-cluster DNS name."""
    namespace: pulumi.Output[str]
    deployment_name: pulumi.Output[str]
    service_name: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        args: HelloAppArgs = DEMO,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("demo-orq:app:HelloApp", name, None, opts)
        namespace = k8s.core.v1.Namespace(
            name,
            metadata={"name": args.namespace},
            opts=pulumi.ResourceOptions(parent=self),
        )
        # Taking the namespace's name from the Namespace makes its children wait for it.
        namespace_name = namespace.metadata.name
        deployment = k8s.apps.v1.Deployment(
            name,
            metadata={"name": args.deployment_name, "namespace": namespace_name},
            spec=deployment_spec(args),
            opts=pulumi.ResourceOptions(
                parent=self, custom_timeouts=rollout_timeouts(args.rollout_timeout_seconds)
            ),
        )
        service = k8s.core.v1.Service(
            name,
            metadata={
                "name": args.service_name,
                "namespace": namespace_name,
                "annotations": SERVICE_ANNOTATIONS,
            },
            spec=service_spec(args),
            opts=pulumi.ResourceOptions(parent=self),
        )

        self.url = service_url(service, args.url_host)
        self.namespace = namespace_name
        self.deployment_name = deployment.metadata.name
        self.service_name = service.metadata.name
        self.register_outputs(
            {
                "url": self.url,
                "namespace": self.namespace,
                "deployment_name": self.deployment_name,
                "service_name": self.service_name,
            }
        )


def pod_labels(args: HelloAppArgs) -> dict[str, str]:
    """The pods' labels, also the Deployment's and the Service's selector.

    Only the stable app name: a selector cannot change without replacing the Deployment.
    """
    return {"app": args.deployment_name}


def rollout_timeouts(seconds: int) -> pulumi.CustomTimeouts:
    """How long the provider waits for a created or updated Deployment to become ready."""
    return pulumi.CustomTimeouts(create=f"{seconds}s", update=f"{seconds}s")


def deployment_spec(args: HelloAppArgs) -> k8s.apps.v1.DeploymentSpecArgsDict:
    return {
        "replicas": args.replicas,
        "min_ready_seconds": args.min_ready_seconds,
        "selector": {"match_labels": pod_labels(args)},
        "strategy": deployment_strategy(args),
        "template": pod_template(
            pod_labels(args), args.message, args.image, args.pre_stop_sleep_seconds
        ),
    }


def deployment_strategy(args: HelloAppArgs) -> k8s.apps.v1.DeploymentStrategyArgsDict:
    if args.strategy == "Recreate":
        # Kubernetes rejects rollingUpdate parameters on a Recreate strategy.
        return {"type": "Recreate"}
    return {
        "type": "RollingUpdate",
        "rolling_update": {
            "max_surge": args.max_surge,
            "max_unavailable": args.max_unavailable,
        },
    }


def service_spec(args: HelloAppArgs) -> k8s.core.v1.ServiceSpecArgsDict:
    port: dict[str, Any] = {
        "name": "http",
        "port": facts.SERVICE_PORT,
        "target_port": facts.CONTAINER_PORT,
    }
    if args.node_port is not None:
        port["node_port"] = args.node_port
    return {
        "type": "ClusterIP" if args.node_port is None else "NodePort",
        "selector": pod_labels(args),
        "ports": [port],
    }


def service_url(service: k8s.core.v1.Service, url_host: str) -> pulumi.Output[str]:
    """Where the Service the cluster created answers: its node port, else its in-cluster name."""

    # Output types are dicts keyed by their Python names (so are the plain dicts of mocks).
    def url(metadata: dict[str, Any], spec: dict[str, Any]) -> str:
        if spec["type"] == "NodePort":
            return f"http://{url_host}:{spec['ports'][0]['node_port']}/"
        return f"http://{metadata['name']}.{metadata['namespace']}.svc.cluster.local/"

    return pulumi.Output.all(service.metadata, service.spec).apply(lambda both: url(*both))
