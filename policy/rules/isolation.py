"""A namespace that the program creates is kept apart from the others: a NetworkPolicy that
denies every pod of it by default (the allow rules then name what may talk), and a ResourceQuota
(one team cannot starve another). A stack-wide check: the objects that isolate a namespace are
other objects of the same stack.

Advisory by default: a NetworkPolicy protects only on a cluster whose network enforces it, so a
stack turns its policies on (`networkPolicy`) where an agent does, and until then the preview
says what is missing. A team whose clusters all enforce makes the rule a refusal with the pack's
config: `{"namespace-isolated": "mandatory"}` (pulumi preview --policy-pack-config FILE).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    ReportViolation,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

from .objects import api_group_and_kind, field, items

NAMESPACE = ("core", "Namespace")
NETWORK_POLICY = ("networking.k8s.io", "NetworkPolicy")
RESOURCE_QUOTA = ("core", "ResourceQuota")


def known(read: Any) -> Any:
    """`read()`, or None where a value is not known yet (a preview)."""
    try:
        return read()
    except UnknownValueError:
        return None


def denies_by_default(spec: Any) -> bool:
    """Selects every pod, and lets nothing in (no ingress rule) under a policy type Ingress."""
    selector = field(spec, "podSelector")
    selects_all = isinstance(selector, Mapping) and not any(
        items(field(selector, key)) or field(selector, key)
        for key in ("matchLabels", "matchExpressions")
    )
    types = set(items(field(spec, "policyTypes")))
    return selects_all and "Ingress" in types and not items(field(spec, "ingress"))


def missing_isolation(resources: Sequence[PolicyResource]) -> Iterator[str]:
    """One message per namespace of the stack without a default-deny policy or a quota."""
    namespaces: list[str] = []
    denied: set[str] = set()
    quoted: set[str] = set()
    for resource in resources:
        kind = api_group_and_kind(resource.resource_type)
        props = resource.props
        if kind == NAMESPACE:
            name = known(lambda props=props: field(props, "metadata", "name"))
            namespaces.append(name if isinstance(name, str) else resource.name)
            continue
        namespace = known(lambda props=props: field(props, "metadata", "namespace"))
        if kind == NETWORK_POLICY and known(
            lambda props=props: denies_by_default(props.get("spec"))
        ):
            denied.add(namespace)
        elif kind == RESOURCE_QUOTA:
            quoted.add(namespace)
    for name in namespaces:
        if name not in denied:
            yield (
                f"Namespace '{name}': no NetworkPolicy of it denies every pod by default, so any "
                "pod of the cluster reaches its pods. Fix: pulumi config set networkPolicy true "
                "(on a cluster that enforces NetworkPolicy: cluster/network-policies.sh)."
            )
        if name not in quoted:
            yield (
                f"Namespace '{name}': no ResourceQuota, so its pods may take all of the cluster. "
                "Fix: pulumi config set quota true."
            )


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    for message in missing_isolation(args.resources):
        report_violation(message, None)


POLICIES = [
    StackValidationPolicy(
        name="namespace-isolated",
        description="Every namespace has a default-deny NetworkPolicy and a ResourceQuota.",
        enforcement_level=EnforcementLevel.ADVISORY,
        validate=validate,
    ),
]
