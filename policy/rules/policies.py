"""Turns a check of one workload (or namespace) into a Pulumi policy that reports each problem."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
)

from .objects import Workload, is_namespace, object_name, workload

WorkloadCheck = Callable[[Workload], Iterable[str]]
NamespaceCheck = Callable[[str, Mapping[str, Any]], Iterable[str]]
"""A check of a Namespace: given its name and its inputs, the problems found."""


def workload_policy(
    name: str, description: str, enforcement_level: EnforcementLevel, check: WorkloadCheck
) -> ResourceValidationPolicy:
    """A policy that runs `check` on every Pod, Deployment, ReplicaSet, StatefulSet, DaemonSet,
    Job and CronJob; every message it yields is one violation."""

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        found = workload(args.resource_type, args.props, args.name)
        if found is not None:
            for message in check(found):
                report_violation(message, None)

    return ResourceValidationPolicy(
        name=name, description=description, validate=validate, enforcement_level=enforcement_level
    )


def namespace_policy(
    name: str, description: str, enforcement_level: EnforcementLevel, check: NamespaceCheck
) -> ResourceValidationPolicy:
    """A policy that runs `check` on every Namespace."""

    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if is_namespace(args.resource_type):
            for message in check(object_name(args.props, args.name), args.props):
                report_violation(message, None)

    return ResourceValidationPolicy(
        name=name, description=description, validate=validate, enforcement_level=enforcement_level
    )
