"""The namespace's ResourceQuota and LimitRange (the document's "multi-team environments with
quotas"), sized from the stack itself: the most pods it runs at once, whatever the strategy
(BlueGreen's two colors, a canary beside the stable pods, a rollout's surge), with its Jobs and
its frontend.

`peak_pods` is what a quota must hold; the quota of a stack is twice that by default, since a
stopping pod still counts until its grace period ends (the preStop sleep, then the exit) while
the pods replacing it start. CPU and memory follow from pods: each at the app's limits.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import pulumi
import pulumi_kubernetes as k8s

from .pod import LIMIT_CPU_MILLIS, LIMIT_MEMORY_MI, RESOURCES
from .strategies import BlueGreen, Canary, Recreate
from .values import IntOrPercent

if TYPE_CHECKING:
    from .args import HelloAppArgs

QUOTA_NAME = "quota"
LIMIT_RANGE_NAME = "defaults"


def surge(max_surge: IntOrPercent, replicas: int) -> int:
    """Pods a rolling Deployment of `replicas` may add while it rolls (a percentage rounds up, as
    Kubernetes does); none for a Deployment of no pods."""
    if replicas == 0:
        return 0
    if isinstance(max_surge, str):
        return math.ceil(replicas * int(max_surge.rstrip("%")) / 100)
    return max_surge


def app_pods_at_most(args: HelloAppArgs) -> int:
    """The most pods the app's Deployments run at once, during a rollout included."""
    replicas = args.autoscale.max_replicas if args.autoscale.enabled else args.replicas
    strategy = args.strategy
    if isinstance(strategy, Recreate):
        return replicas
    if isinstance(strategy, BlueGreen):
        second = strategy.idle_pods(replicas)
    elif isinstance(strategy, Canary):
        second = strategy.pods(replicas)
    else:
        second = 0
    return (
        replicas + second + surge(strategy.max_surge, replicas) + surge(strategy.max_surge, second)
    )


def peak_parts(args: HelloAppArgs) -> dict[str, int]:
    """The most pods of the namespace at once, by what runs them."""
    smoke_tests = 0
    if args.smoke_test:
        smoke_tests = 2 if isinstance(args.strategy, BlueGreen) else 1
    return {
        f"{type(args.strategy).__name__} pods with their surge": app_pods_at_most(args),
        "smoke tests": smoke_tests,
        "daily figures": 1 if args.etl.enabled else 0,
        # The frontend rolls with a surge of one.
        "frontend pods with their surge": args.frontend.replicas + 1
        if args.frontend.enabled
        else 0,
    }


def peak_pods(args: HelloAppArgs) -> int:
    return sum(peak_parts(args).values())


def pods_said(args: HelloAppArgs) -> str:
    """`peak_parts`, in words: `8 BlueGreen pods with their surge, 2 smoke tests`."""
    return ", ".join(f"{count} {what}" for what, count in peak_parts(args).items() if count)


def quota_pods(args: HelloAppArgs) -> int:
    """The pods the quota allows: the stack's setting, else twice the peak."""
    chosen = args.isolation.quota_pods
    return 2 * peak_pods(args) if chosen is None else chosen


def quota_hard(pods: int) -> dict[str, str]:
    """What the quota holds: `pods`, and their CPU and memory at the app's limits (which the
    LimitRange makes every container's most)."""
    cpu, memory = f"{pods * LIMIT_CPU_MILLIS}m", f"{pods * LIMIT_MEMORY_MI}Mi"
    return {
        "pods": str(pods),
        "limits.cpu": cpu,
        "limits.memory": memory,
        "requests.cpu": cpu,
        "requests.memory": memory,
    }


def namespace_quota(
    parent: pulumi.Resource, name: str, namespace: pulumi.Input[str], args: HelloAppArgs
) -> list[pulumi.Resource]:
    """The ResourceQuota and the LimitRange of the app's namespace."""
    limit_range = k8s.core.v1.LimitRange(
        f"{name}-limits",
        metadata={"name": LIMIT_RANGE_NAME, "namespace": namespace},
        spec={
            "limits": [
                {
                    "type": "Container",
                    "default": RESOURCES["limits"],
                    "default_request": RESOURCES["requests"],
                    "max": RESOURCES["limits"],
                }
            ]
        },
        opts=pulumi.ResourceOptions(parent=parent),
    )
    quota = k8s.core.v1.ResourceQuota(
        f"{name}-quota",
        metadata={"name": QUOTA_NAME, "namespace": namespace},
        spec={"hard": quota_hard(quota_pods(args))},
        opts=pulumi.ResourceOptions(parent=parent),
    )
    return [limit_range, quota]
