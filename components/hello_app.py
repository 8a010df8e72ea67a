"""HelloApp: the demo's Namespace, Deployment and Service as one reusable Pulumi component."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Optional, Union

import pulumi
import pulumi_kubernetes as k8s

DEMO_MESSAGE = "Hola desde Kubernetes 👋"
CONTAINER_PORT = 8080
SERVICE_PORT = 80
RUN_AS_USER = 10001

# The provider's Service await holds every create or update of a Service for 10 s after the first
# change of its endpoints (bench/: cold deploy 12.2 s -> 7.6 s without it). The Deployment's await
# already waits for the very pods that the Service selects, so the Service's own is skipped.
SERVICE_ANNOTATIONS = {"pulumi.com/skipAwait": "true"}

Strategy = Literal["RollingUpdate", "Recreate"]
IntOrPercent = Union[int, str]


@dataclass(frozen=True)
class HelloAppArgs:
    """What one HelloApp deploys. The defaults reproduce the demo's manifest (demo.yaml)."""

    namespace: str = "demo"
    """Namespace created for the app (a DNS-1123 label): one namespace per instance."""

    deployment_name: str = "hello-api"
    """Name of the Deployment, and value of the pods' `app` label that the Service selects."""

    service_name: str = "hello-svc"
    """Name of the Service in front of the pods."""

    message: str = DEMO_MESSAGE
    """Text that http-echo answers every request with."""

    image: str = "hashicorp/http-echo:0.2.3"
    """Container image; it must accept http-echo's `-text` and `-listen` flags."""

    replicas: int = 3
    """Number of pods."""

    strategy: Strategy = "RollingUpdate"
    """How a new version replaces the pods: a few at a time, or all of them at once."""

    max_surge: IntOrPercent = 1
    """RollingUpdate only: pods allowed above `replicas`, a count or a percentage like "25%"."""

    max_unavailable: IntOrPercent = 1
    """RollingUpdate only: pods allowed below `replicas`, a count or a percentage like "25%"."""

    node_port: Optional[int] = 30080
    """Port opened on every node (30000-32767); None makes the Service a ClusterIP one."""

    url_host: str = "127.0.0.1"
    """Host at which the machine running Pulumi reaches the nodes' ports (the `url` output)."""

    pre_stop_sleep_seconds: int = 5
    """Seconds a terminating pod keeps serving while it is removed from the Service; 0: none."""

    min_ready_seconds: int = 0
    """Seconds a new pod must stay ready before it counts as available."""

    rollout_timeout_seconds: int = 120
    """Seconds `pulumi up` waits for the Deployment to be ready before it fails the update."""


class HelloApp(pulumi.ComponentResource):
    """The demo's app: a Namespace, a Deployment of http-echo in it and a Service in front.

    Pass the Kubernetes provider in `opts` (`providers=[provider]`): the children use it.
    Instances are independent: give each one its own name, namespace and node port.
    """

    url: pulumi.Output[str]
    namespace: pulumi.Output[str]
    deployment_name: pulumi.Output[str]
    service_name: pulumi.Output[str]
    image: pulumi.Output[str]
    replicas: pulumi.Output[int]
    message: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        args: HelloAppArgs = HelloAppArgs(),
        opts: Optional[pulumi.ResourceOptions] = None,
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

        self.url = pulumi.Output.from_input(service_url(args))
        self.namespace = namespace_name
        self.deployment_name = deployment.metadata.name
        self.service_name = service.metadata.name
        self.image = pulumi.Output.from_input(args.image)
        self.replicas = pulumi.Output.from_input(args.replicas)
        self.message = pulumi.Output.from_input(args.message)
        self.register_outputs(
            {
                "url": self.url,
                "namespace": self.namespace,
                "deployment_name": self.deployment_name,
                "service_name": self.service_name,
                "image": self.image,
                "replicas": self.replicas,
                "message": self.message,
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
        "template": {
            "metadata": {"labels": pod_labels(args)},
            "spec": pod_spec(args),
        },
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


def pod_spec(args: HelloAppArgs) -> k8s.core.v1.PodSpecArgsDict:
    return {
        "security_context": {
            "run_as_non_root": True,
            "run_as_user": RUN_AS_USER,
            "seccomp_profile": {"type": "RuntimeDefault"},
        },
        # The preStop sleep counts against the grace period; 5 s more let http-echo exit on SIGTERM.
        "termination_grace_period_seconds": args.pre_stop_sleep_seconds + 5,
        "containers": [container(args)],
    }


def container(args: HelloAppArgs) -> k8s.core.v1.ContainerArgsDict:
    spec: k8s.core.v1.ContainerArgsDict = {
        "name": "app",
        "image": args.image,
        "image_pull_policy": "IfNotPresent",
        "args": [f"-text={args.message}", f"-listen=:{CONTAINER_PORT}"],
        "ports": [{"container_port": CONTAINER_PORT}],
        "resources": {
            "requests": {"cpu": "50m", "memory": "64Mi"},
            "limits": {"cpu": "200m", "memory": "128Mi"},
        },
        "liveness_probe": http_probe(initial_delay_seconds=5, period_seconds=10),
        "readiness_probe": http_probe(initial_delay_seconds=2, period_seconds=5),
        "security_context": {
            "allow_privilege_escalation": False,
            "capabilities": {"drop": ["ALL"]},
            "read_only_root_filesystem": True,
        },
    }
    if args.pre_stop_sleep_seconds > 0:
        # Keeps the pod answering until the Service has stopped sending it requests. A sleep
        # action (Kubernetes 1.30+) rather than an exec: the image has no shell.
        spec["lifecycle"] = {"pre_stop": {"sleep": {"seconds": args.pre_stop_sleep_seconds}}}
    return spec


def http_probe(initial_delay_seconds: int, period_seconds: int) -> k8s.core.v1.ProbeArgsDict:
    return {
        "http_get": {"path": "/", "port": CONTAINER_PORT},
        "initial_delay_seconds": initial_delay_seconds,
        "period_seconds": period_seconds,
    }


def service_spec(args: HelloAppArgs) -> k8s.core.v1.ServiceSpecArgsDict:
    port: k8s.core.v1.ServicePortArgsDict = {
        "name": "http",
        "port": SERVICE_PORT,
        "target_port": CONTAINER_PORT,
    }
    if args.node_port is not None:
        port["node_port"] = args.node_port
    return {
        "type": "ClusterIP" if args.node_port is None else "NodePort",
        "selector": pod_labels(args),
        "ports": [port],
    }


def service_url(args: HelloAppArgs) -> str:
    """Where the Service answers: the node port from outside, else its in-cluster DNS name."""
    if args.node_port is None:
        return f"http://{args.service_name}.{args.namespace}.svc.cluster.local/"
    return f"http://{args.url_host}:{args.node_port}/"
