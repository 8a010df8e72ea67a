"""The Deployments of the app: every strategy makes them the same way, with its own role (the
name suffix, components/names.py), labels, replica count and version (message and image)."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_kubernetes as k8s

from .app_config import pod_version
from .args import HelloAppArgs
from .names import VERSION_LABEL, DeploymentRole, role_deployment_name
from .pod import PodVersion, pod_template
from .strategies import Recreate, Version
from .workload import Home

# Pulumi owns what it declares: a field that someone changed by hand (kubectl scale, kubectl set
# image) is taken back by the next `pulumi up` instead of failing with a server-side-apply
# conflict. Fields it does not declare, the autoscaler's replica count among them, stay theirs.
DEPLOYMENT_ANNOTATIONS = {"pulumi.com/patchForce": "true"}


def app_labels(args: HelloAppArgs) -> dict[str, str]:
    """The label every pod of the app carries: the stable app name (selectors cannot change
    without replacing a Deployment, so versions never go into selectors)."""
    return {"app": args.deployment_name}


def app_deployment(
    parent: pulumi.Resource,
    name: str,
    home: Home,
    args: HelloAppArgs,
    *,
    role: DeploymentRole = "app",
    labels: dict[str, str],
    replicas: int,
    pod: PodVersion,
    depends_on: Sequence[pulumi.Resource] = (),
    autoscaled: bool = False,
    pod_labels: dict[str, str] | None = None,
) -> k8s.apps.v1.Deployment:
    """The Deployment of `role` (its name and logical name from the app's and `name`) of
    `replicas` pods labelled `labels` (its selector) and `pod_labels` (labels its selector
    leaves out, which a Service may select) that run `pod` (role_version); `pulumi up` waits
    until its pods are ready, and changes it only after `depends_on` is done. `autoscaled`: it
    serves traffic, so with autoscale on it gets a HorizontalPodAutoscaler, which then owns its
    replica count, and with vpa on a VerticalPodAutoscaler that recommends its requests."""
    with_autoscaler = autoscaled and args.autoscale.enabled
    logical_name = role_deployment_name(name, role)
    deployment = k8s.apps.v1.Deployment(
        logical_name,
        metadata={
            "name": role_deployment_name(args.deployment_name, role),
            "namespace": home.namespace,
            "annotations": DEPLOYMENT_ANNOTATIONS,
        },
        spec={
            "replicas": replicas,
            "min_ready_seconds": args.min_ready_seconds,
            "selector": {"match_labels": labels},
            "strategy": deployment_strategy(args),
            "template": pod_template(
                {**labels, **(pod_labels or {}), **version_label(args, pod)},
                pod,
                args.pre_stop_sleep_seconds,
                home.service_account,
            ),
        },
        opts=pulumi.ResourceOptions(
            parent=parent,
            custom_timeouts=rollout_timeouts(args.rollout_timeout_seconds),
            depends_on=list(depends_on),
            # The autoscaler's from the first deploy on: Pulumi neither resets nor claims it.
            ignore_changes=["spec.replicas"] if with_autoscaler else None,
        ),
    )
    if with_autoscaler:
        autoscaler(parent, logical_name, home, args, deployment)
    if autoscaled and args.vpa:
        vertical_autoscaler(parent, logical_name, home, deployment)
    return deployment


def version_label(args: HelloAppArgs, pod: PodVersion) -> dict[str, pulumi.Output[str]]:
    """The label of the version its smoke test selects, with smoke tests on (components/jobs.py)."""
    return {VERSION_LABEL: pod.digest()} if args.smoke_test else {}


def role_version(
    parent: pulumi.Resource,
    name: str,
    home: Home,
    args: HelloAppArgs,
    role: DeploymentRole,
    version: Version,
    config: dict[str, str],
) -> PodVersion:
    """What the pods of `role` run: `version` (message, image) and `config`, with the app's
    secrets; the message from its Secret when it is the app's secret one."""
    secret_message = args.secret_message and version[0] == args.message
    return pod_version(
        parent, name, home, args.deployment_name, role, version, config, secret_message
    )


def vertical_autoscaler(
    parent: pulumi.Resource, name: str, home: Home, deployment: k8s.apps.v1.Deployment
) -> k8s.apiextensions.CustomResource:
    """A VerticalPodAutoscaler that recommends the pods' requests and never applies them
    (`updateMode: Off`): the CPU autoscaler's percentages stay of requests that do not move."""
    return k8s.apiextensions.CustomResource(
        f"{name}-vpa",
        api_version="autoscaling.k8s.io/v1",
        kind="VerticalPodAutoscaler",
        metadata={"name": deployment.metadata.name, "namespace": home.namespace},
        spec={
            "targetRef": {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "name": deployment.metadata.name,
            },
            "updatePolicy": {"updateMode": "Off"},
        },
        opts=pulumi.ResourceOptions(parent=parent),
    )


def autoscaler(
    parent: pulumi.Resource,
    name: str,
    home: Home,
    args: HelloAppArgs,
    deployment: k8s.apps.v1.Deployment,
) -> k8s.autoscaling.v2.HorizontalPodAutoscaler:
    scale = args.autoscale
    return k8s.autoscaling.v2.HorizontalPodAutoscaler(
        name,
        metadata={"name": deployment.metadata.name, "namespace": home.namespace},
        spec={
            "scale_target_ref": {
                "api_version": "apps/v1",
                "kind": "Deployment",
                "name": deployment.metadata.name,
            },
            "min_replicas": scale.min_replicas,
            "max_replicas": scale.max_replicas,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {
                            "type": "Utilization",
                            "average_utilization": scale.cpu_target_percent,
                        },
                    },
                }
            ],
            "behavior": {
                "scale_down": {
                    "stabilization_window_seconds": scale.scale_down_stabilization_seconds
                }
            },
        },
        opts=pulumi.ResourceOptions(parent=parent),
    )


def rollout_timeouts(seconds: int) -> pulumi.CustomTimeouts:
    """How long the provider waits for a created or updated Deployment to become ready."""
    return pulumi.CustomTimeouts(create=f"{seconds}s", update=f"{seconds}s")


def deployment_strategy(args: HelloAppArgs) -> k8s.apps.v1.DeploymentStrategyArgsDict:
    """How Kubernetes replaces the pods of each of the app's Deployments."""
    pace = args.strategy
    if isinstance(pace, Recreate):
        # Kubernetes rejects rollingUpdate parameters on a Recreate strategy.
        return {"type": "Recreate"}
    return {
        "type": "RollingUpdate",
        "rolling_update": {"max_surge": pace.max_surge, "max_unavailable": pace.max_unavailable},
    }
