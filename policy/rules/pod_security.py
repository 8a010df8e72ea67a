"""The "restricted" Pod Security Standard (Kubernetes v1.30), checked before anything reaches
the cluster: the same profile that the namespace's `pod-security.kubernetes.io/enforce` label
makes the API server enforce. One policy per control, so that the preview names what is wrong.
https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from pulumi_policy import EnforcementLevel

from .objects import Workload, field, items, shown
from .policies import workload_policy

MANDATORY = EnforcementLevel.MANDATORY
ALLOWED_ADDED_CAPABILITIES = frozenset({"NET_BIND_SERVICE"})
ALLOWED_SECCOMP_TYPES = ("RuntimeDefault", "Localhost")
HOST_NAMESPACE_FIELDS = ("hostNetwork", "hostPID", "hostIPC")
ALLOWED_VOLUME_TYPES = frozenset(
    {
        "configMap",
        "csi",
        "downwardAPI",
        "emptyDir",
        "ephemeral",
        "persistentVolumeClaim",
        "projected",
        "secret",
    }
)
"""The volume sources that the restricted profile allows; `name` is the volume's own name."""


def run_as_non_root(workload: Workload) -> Iterator[str]:
    pod_context = field(workload.pod_spec, "securityContext")
    pod_path = f"{workload.pod_spec_path}.securityContext"
    if field(pod_context, "runAsUser") == 0:
        yield (
            f"{workload.label}: {pod_path}.runAsUser is 0 (root). "
            f"Fix: set {pod_path}.runAsUser to a non-zero user id, like 10001."
        )
    pod_non_root = field(pod_context, "runAsNonRoot") is True
    for container in workload.containers():
        context = field(container.spec, "securityContext")
        non_root = field(context, "runAsNonRoot")
        if non_root is False or (non_root is None and not pod_non_root):
            yield (
                f"{workload.label}: {container.label} may run as root: "
                f"{container.path}.securityContext.runAsNonRoot is {shown(non_root)} and "
                f"{pod_path}.runAsNonRoot is {shown(field(pod_context, 'runAsNonRoot'))}. "
                f"Fix: set {pod_path}.runAsNonRoot: true (and a non-zero runAsUser) "
                f"and do not set it to false on the container."
            )
        if field(context, "runAsUser") == 0:
            yield (
                f"{workload.label}: {container.label} has securityContext.runAsUser 0 (root). "
                f"Fix: set {container.path}.securityContext.runAsUser to a non-zero user id."
            )


def no_privilege_escalation(workload: Workload) -> Iterator[str]:
    for container in workload.containers():
        value = field(container.spec, "securityContext", "allowPrivilegeEscalation")
        if value is not False:
            yield (
                f"{workload.label}: {container.label} has "
                f"securityContext.allowPrivilegeEscalation {shown(value)} (must be false). "
                f"Fix: set {container.path}.securityContext.allowPrivilegeEscalation: false."
            )


def drop_all_capabilities(workload: Workload) -> Iterator[str]:
    for container in workload.containers():
        capabilities = field(container.spec, "securityContext", "capabilities")
        dropped = [str(c) for c in items(field(capabilities, "drop"))]
        if "ALL" not in dropped:
            yield (
                f"{workload.label}: {container.label} does not drop all capabilities "
                f"(securityContext.capabilities.drop is {dropped}). "
                f"Fix: set {container.path}.securityContext.capabilities.drop: [ALL]."
            )
        added = sorted(
            str(c)
            for c in items(field(capabilities, "add"))
            if str(c) not in ALLOWED_ADDED_CAPABILITIES
        )
        if added:
            yield (
                f"{workload.label}: {container.label} adds capabilities {added} "
                f"(securityContext.capabilities.add). Fix: remove them; only NET_BIND_SERVICE "
                f"may be added back."
            )


def seccomp_profile(workload: Workload) -> Iterator[str]:
    pod_path = f"{workload.pod_spec_path}.securityContext.seccompProfile.type"
    pod_type = field(workload.pod_spec, "securityContext", "seccompProfile", "type")
    if pod_type is not None and pod_type not in ALLOWED_SECCOMP_TYPES:
        yield (
            f"{workload.label}: {pod_path} is {pod_type}. "
            f"Fix: set {pod_path}: RuntimeDefault (or Localhost with a profile)."
        )
    for container in workload.containers():
        own_type = field(container.spec, "securityContext", "seccompProfile", "type")
        path = f"{container.path}.securityContext.seccompProfile.type"
        if own_type is not None and own_type not in ALLOWED_SECCOMP_TYPES:
            yield (
                f"{workload.label}: {container.label} has {path} {own_type}. "
                f"Fix: set it to RuntimeDefault or remove it to inherit the pod's."
            )
        elif own_type is None and pod_type not in ALLOWED_SECCOMP_TYPES:
            yield (
                f"{workload.label}: {container.label} has no seccomp profile: neither "
                f"{pod_path} nor {path} is set. Fix: set {pod_path}: RuntimeDefault."
            )


def not_privileged(workload: Workload) -> Iterator[str]:
    for container in workload.containers():
        if field(container.spec, "securityContext", "privileged") is True:
            yield (
                f"{workload.label}: {container.label} is privileged "
                f"(securityContext.privileged: true). "
                f"Fix: remove {container.path}.securityContext.privileged or set it to false."
            )


def no_host_namespaces(workload: Workload) -> Iterator[str]:
    for name in HOST_NAMESPACE_FIELDS:
        if field(workload.pod_spec, name) is True:
            yield (
                f"{workload.label}: {workload.pod_spec_path}.{name} is true, sharing the node's "
                f"namespace. Fix: remove {workload.pod_spec_path}.{name} or set it to false."
            )


def volume_types(workload: Workload) -> Iterator[str]:
    for index, volume in enumerate(items(field(workload.pod_spec, "volumes"))):
        path = f"{workload.pod_spec_path}.volumes[{index}]"
        sources = (
            sorted(key for key in volume if key != "name") if isinstance(volume, Mapping) else []
        )
        for source in sources:
            if source == "hostPath":
                yield (
                    f"{workload.label}: volume '{field(volume, 'name')}' ({path}) is a hostPath "
                    f"volume, a directory of the node. Fix: use an emptyDir, configMap, secret "
                    f"or persistentVolumeClaim volume instead."
                )
            elif source not in ALLOWED_VOLUME_TYPES:
                yield (
                    f"{workload.label}: volume '{field(volume, 'name')}' ({path}) is of type "
                    f"{source}, not allowed by the restricted profile. Fix: use one of "
                    f"{', '.join(sorted(ALLOWED_VOLUME_TYPES))}."
                )


def no_host_ports(workload: Workload) -> Iterator[str]:
    for container in workload.containers():
        for index, port in enumerate(items(field(container.spec, "ports"))):
            host_port = field(port, "hostPort")
            if host_port not in (None, 0):
                yield (
                    f"{workload.label}: {container.label} opens hostPort {shown(host_port)} "
                    f"({container.path}.ports[{index}].hostPort) on the node. "
                    f"Fix: remove hostPort and reach the pods through a Service."
                )


POLICIES = [
    workload_policy(
        "pod-security-run-as-non-root",
        "Pods run as a non-root user (Pod Security restricted: runAsNonRoot).",
        MANDATORY,
        run_as_non_root,
    ),
    workload_policy(
        "pod-security-no-privilege-escalation",
        "Containers set allowPrivilegeEscalation: false (Pod Security restricted).",
        MANDATORY,
        no_privilege_escalation,
    ),
    workload_policy(
        "pod-security-drop-all-capabilities",
        "Containers drop ALL capabilities and add none but NET_BIND_SERVICE "
        "(Pod Security restricted).",
        MANDATORY,
        drop_all_capabilities,
    ),
    workload_policy(
        "pod-security-seccomp-profile",
        "Pods use the RuntimeDefault or a Localhost seccomp profile (Pod Security restricted).",
        MANDATORY,
        seccomp_profile,
    ),
    workload_policy(
        "pod-security-not-privileged",
        "No privileged containers (Pod Security baseline and restricted).",
        MANDATORY,
        not_privileged,
    ),
    workload_policy(
        "pod-security-no-host-namespaces",
        "Pods do not share the node's network, PID or IPC namespace "
        "(Pod Security baseline and restricted).",
        MANDATORY,
        no_host_namespaces,
    ),
    workload_policy(
        "pod-security-volume-types",
        "Pods use only the volume types of the restricted profile: no hostPath "
        "(Pod Security restricted).",
        MANDATORY,
        volume_types,
    ),
    workload_policy(
        "pod-security-no-host-ports",
        "Containers open no port on the node (hostPort) (Pod Security baseline).",
        MANDATORY,
        no_host_ports,
    ),
]
