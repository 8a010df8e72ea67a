"""The Services of the app: the one users reach, and the extra ones of BlueGreen (preview) and
Canary (the canary pods alone)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from . import defaults
from .names import ServiceRole, role_service_name

# The provider's Service await holds every create or update of a Service for 10 s after the first
# change of its endpoints (bench/: cold deploy 12.2 s -> 7.6 s without it). The Deployments'
# awaits already wait for the very pods that a Service selects, so the Service's own is skipped.
SERVICE_ANNOTATIONS = {"pulumi.com/skipAwait": "true"}


def app_service(
    parent: pulumi.Resource,
    logical_name: str,
    name: pulumi.Input[str],
    namespace: pulumi.Input[str],
    selector: pulumi.Input[dict[str, str]],
    node_port: int | None,
    depends_on: Sequence[pulumi.Resource] = (),
) -> k8s.core.v1.Service:
    """A Service on port 80 to the pods' 8080, a NodePort one when `node_port` is set.

    `depends_on` holds it back until those resources are done: a Service never selects pods
    before they are ready, or a candidate before the analysis gate has passed it."""
    port: dict[str, Any] = {
        "name": "http",
        "port": defaults.SERVICE_PORT,
        "target_port": defaults.CONTAINER_PORT,
    }
    if node_port is not None:
        port["node_port"] = node_port
    return k8s.core.v1.Service(
        logical_name,
        metadata={"name": name, "namespace": namespace, "annotations": SERVICE_ANNOTATIONS},
        spec={
            "type": "ClusterIP" if node_port is None else "NodePort",
            "selector": selector,
            "ports": [port],
        },
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(depends_on)),
    )


def role_service(
    parent: pulumi.Resource,
    name: str,
    service_name: str,
    role: ServiceRole,
    namespace: pulumi.Input[str],
    selector: pulumi.Input[dict[str, str]],
    node_port: int | None = None,
    depends_on: Sequence[pulumi.Resource] = (),
) -> k8s.core.v1.Service:
    """`app_service` of a strategy's `role`, named from the component's `name` (its logical
    name) and the app's `service_name` (its name in the cluster)."""
    return app_service(
        parent,
        role_service_name(name, role),
        role_service_name(service_name, role),
        namespace,
        selector,
        node_port,
        depends_on,
    )


def in_cluster_url(namespace: str, service: str) -> str:
    """A Service of the app as a pod of its namespace reaches it, by name."""
    return f"http://{service}.{namespace}.svc:{defaults.SERVICE_PORT}/"


def service_url(service: k8s.core.v1.Service, url_host: str) -> pulumi.Output[str]:
    """Where the Service the cluster created answers: its node port, else its in-cluster name."""

    # Output types are dicts keyed by their Python names (so are the plain dicts of mocks).
    def url(metadata: dict[str, Any], spec: dict[str, Any]) -> str:
        if spec["type"] == "NodePort":
            return f"http://{url_host}:{spec['ports'][0]['node_port']}/"
        return f"http://{metadata['name']}.{metadata['namespace']}.svc.cluster.local/"

    return pulumi.Output.all(service.metadata, service.spec).apply(lambda both: url(*both))
