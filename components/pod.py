"""The pod template of the app: one http-echo container, hardened, with probes and limits.

Every Deployment of every strategy runs this template; only the message, the image and the
labels differ between them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from . import defaults
from .names import content_hash

RUN_AS_USER = 10001
MESSAGE_ENV = "APP_MESSAGE"


@dataclass(frozen=True)
class PodVersion:
    """What the pods of one Deployment run: the image, the text they answer (with `$(NAME)`
    references that Kubernetes expands from their environment), and that environment: the
    secret message, the role's ConfigMap and the app's Secret (components/app_config.py)."""

    image: str
    text: str
    env: list[k8s.core.v1.EnvVarArgsDict] = field(default_factory=list)
    env_from: list[k8s.core.v1.EnvFromSourceArgsDict] = field(default_factory=list)

    def digest(self) -> pulumi.Output[str]:
        """The content hash of this version: its pods' VERSION_LABEL when it is smoke-tested."""
        parts = pulumi.Output.all(self.image, self.text, *self.env, *self.env_from)
        return parts.apply(lambda resolved: content_hash(*map(str, resolved)))


LIMIT_CPU_MILLIS = 200
LIMIT_MEMORY_MI = 128
RESOURCES: k8s.core.v1.ResourceRequirementsArgsDict = {
    "requests": {"cpu": "50m", "memory": "64Mi"},
    "limits": {"cpu": f"{LIMIT_CPU_MILLIS}m", "memory": f"{LIMIT_MEMORY_MI}Mi"},
}

POD_SECURITY_CONTEXT: k8s.core.v1.PodSecurityContextArgsDict = {
    "run_as_non_root": True,
    "run_as_user": RUN_AS_USER,
    "seccomp_profile": {"type": "RuntimeDefault"},
}
CONTAINER_SECURITY_CONTEXT: k8s.core.v1.SecurityContextArgsDict = {
    "allow_privilege_escalation": False,
    "capabilities": {"drop": ["ALL"]},
    "read_only_root_filesystem": True,
}


def literal(text: str) -> str:
    """`text` as Kubernetes passes it in args: `$(` escaped, so that no variable expands."""
    return text.replace("$(", "$$(")


def pod_template(
    labels: dict[str, pulumi.Input[str]],
    version: PodVersion,
    pre_stop_sleep_seconds: int,
    service_account: pulumi.Input[str],
) -> k8s.core.v1.PodTemplateSpecArgsDict:
    return {
        "metadata": {"labels": labels},
        "spec": pod_spec(version, pre_stop_sleep_seconds, service_account),
    }


def pod_spec(
    version: PodVersion, pre_stop_sleep_seconds: int, service_account: pulumi.Input[str]
) -> k8s.core.v1.PodSpecArgsDict:
    return {
        # Its own identity, with no API token: the app never talks to the API server.
        "service_account_name": service_account,
        "automount_service_account_token": False,
        "security_context": POD_SECURITY_CONTEXT,
        # The preStop sleep counts against the grace period; 5 s more let http-echo exit on SIGTERM.
        "termination_grace_period_seconds": pre_stop_sleep_seconds + 5,
        "containers": [container(version, pre_stop_sleep_seconds)],
    }


def container(version: PodVersion, pre_stop_sleep_seconds: int) -> k8s.core.v1.ContainerArgsDict:
    spec: dict[str, Any] = {
        "name": "app",
        "image": version.image,
        "image_pull_policy": "IfNotPresent",
        "args": [f"-text={version.text}", f"-listen=:{defaults.CONTAINER_PORT}"],
        "ports": [{"container_port": defaults.CONTAINER_PORT}],
        "resources": RESOURCES,
        "liveness_probe": http_probe(initial_delay_seconds=5, period_seconds=10),
        "readiness_probe": http_probe(initial_delay_seconds=2, period_seconds=5),
        "security_context": CONTAINER_SECURITY_CONTEXT,
    }
    if version.env:
        spec["env"] = version.env
    if version.env_from:
        spec["env_from"] = version.env_from
    if pre_stop_sleep_seconds > 0:
        # Keeps the pod answering until the Service has stopped sending it requests. A sleep
        # action (Kubernetes 1.30+) rather than an exec: the image has no shell.
        spec["lifecycle"] = {"pre_stop": {"sleep": {"seconds": pre_stop_sleep_seconds}}}
    return spec


def http_probe(initial_delay_seconds: int, period_seconds: int) -> k8s.core.v1.ProbeArgsDict:
    return {
        "http_get": {"path": "/", "port": defaults.CONTAINER_PORT},
        "initial_delay_seconds": initial_delay_seconds,
        "period_seconds": period_seconds,
    }
