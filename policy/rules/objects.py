"""How the rules see a Kubernetes object that the program declares: its kind, its name, the pod
spec inside it, and its containers, each with the path of the field as `kubectl explain` names it.

The engine hands a policy the resource's inputs with the Kubernetes field names (camelCase),
wrapped in read-only mappings and sequences (not dicts and lists) that raise when a value is
not known yet during a preview. So every read goes through `Mapping`/`Sequence` checks.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pulumi_policy.proxy import UnknownValueError

POD_SPEC_PATHS: dict[tuple[str, str], tuple[str, ...]] = {
    ("core", "Pod"): ("spec",),
    ("apps", "Deployment"): ("spec", "template", "spec"),
    ("apps", "ReplicaSet"): ("spec", "template", "spec"),
    ("apps", "StatefulSet"): ("spec", "template", "spec"),
    ("apps", "DaemonSet"): ("spec", "template", "spec"),
    ("batch", "Job"): ("spec", "template", "spec"),
    ("batch", "CronJob"): ("spec", "jobTemplate", "spec", "template", "spec"),
}
"""Where each kind of workload keeps the spec of its pods, by (API group, kind)."""

RUN_TO_COMPLETION_KINDS = frozenset({"Job", "CronJob"})


def api_group_and_kind(resource_type: str) -> tuple[str, str] | None:
    """('apps', 'Deployment') for 'kubernetes:apps/v1:Deployment'; None for other providers."""
    parts = resource_type.split(":")
    if len(parts) != 3 or parts[0] != "kubernetes":
        return None
    group = parts[1].split("/")[0]
    return group, parts[2]


def field(value: Any, *keys: str) -> Any:
    """value[keys[0]][keys[1]]..., or None where a key is missing or a value is not a mapping."""
    for key in keys:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def items(value: Any) -> Sequence[Any]:
    """A list field as a sequence; an absent or malformed one as empty."""
    if isinstance(value, Sequence) and not isinstance(value, str):
        return value
    return ()


def object_name(props: Mapping[str, Any], pulumi_name: str) -> str:
    """metadata.name, else the Pulumi resource name (an auto-named object, or a name that is
    not known yet): the rules must not give up on an object because its name is unknown."""
    try:
        name = field(props, "metadata", "name")
    except UnknownValueError:
        name = None
    return name if isinstance(name, str) and name else pulumi_name


@dataclass(frozen=True)
class Container:
    name: str
    path: str
    """Where it is in its object, like `spec.template.spec.containers[0]`."""
    spec: Mapping[str, Any]

    @property
    def label(self) -> str:
        return f"container '{self.name}' ({self.path})"


@dataclass(frozen=True)
class Workload:
    kind: str
    name: str
    props: Mapping[str, Any]
    pod_spec_path: str
    pod_spec: Mapping[str, Any]

    @property
    def label(self) -> str:
        return f"{self.kind} '{self.name}'"

    @property
    def runs_to_completion(self) -> bool:
        """Jobs, CronJobs and bare pods that are not restarted: nothing long-running to probe."""
        if self.kind in RUN_TO_COMPLETION_KINDS:
            return True
        return self.kind == "Pod" and field(self.pod_spec, "restartPolicy") in (
            "Never",
            "OnFailure",
        )

    def containers(self, include_init: bool = True) -> Iterator[Container]:
        """Its app containers, then (by default) its init containers."""
        lists = ("containers", "initContainers") if include_init else ("containers",)
        for list_name in lists:
            for index, spec in enumerate(items(field(self.pod_spec, list_name))):
                if isinstance(spec, Mapping):
                    name = field(spec, "name")
                    path = f"{self.pod_spec_path}.{list_name}[{index}]"
                    yield Container(name if isinstance(name, str) else f"#{index}", path, spec)


def workload(resource_type: str, props: Mapping[str, Any], pulumi_name: str) -> Workload | None:
    """The workload that a resource declares, or None when it is not one of the checked kinds."""
    group_and_kind = api_group_and_kind(resource_type)
    keys = POD_SPEC_PATHS.get(group_and_kind) if group_and_kind else None
    if group_and_kind is None or keys is None:
        return None
    pod_spec = field(props, *keys)
    return Workload(
        kind=group_and_kind[1],
        name=object_name(props, pulumi_name),
        props=props,
        pod_spec_path=".".join(keys),
        pod_spec=pod_spec if isinstance(pod_spec, Mapping) else {},
    )


def is_namespace(resource_type: str) -> bool:
    return api_group_and_kind(resource_type) == ("core", "Namespace")


def shown(value: Any) -> str:
    """A field's value as the YAML of a manifest would show it: `not set`, true, 8080."""
    if value is None:
        return "not set"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
