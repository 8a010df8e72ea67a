"""A program that breaks every mandatory rule of the policy pack (policy/), for
tests/policy/test_policy_preview.py: `pulumi preview --policy-pack policy` must refuse it and
name each rule. It is only ever previewed, and its provider renders YAML files instead of
talking to a cluster, so nothing reaches a cluster and no image is pulled."""

import pulumi
import pulumi_kubernetes as k8s

provider = k8s.Provider("render-only", render_yaml_to_directory="rendered")
opts = pulumi.ResourceOptions(provider=provider)

SAFE_CONTEXT = {
    "allow_privilege_escalation": False,
    "capabilities": {"drop": ["ALL"]},
    "run_as_non_root": True,
    "run_as_user": 10001,
    "seccomp_profile": {"type": "RuntimeDefault"},
}
LIMITS = {
    "requests": {"cpu": "50m", "memory": "64Mi"},
    "limits": {"cpu": "200m", "memory": "128Mi"},
}
PROBE = {"http_get": {"path": "/", "port": 8080}}

# namespace-enforces-pod-security-restricted: no pod-security.kubernetes.io/enforce label.
namespace = k8s.core.v1.Namespace("unlabelled", metadata={"name": "policy-violations"}, opts=opts)

# Every pod-security-* rule: a privileged pod with the node's namespaces, a hostPath and a hostPort.
k8s.core.v1.Pod(
    "privileged",
    metadata={"name": "privileged", "namespace": "policy-violations"},
    spec={
        "host_network": True,
        "host_pid": True,
        "host_ipc": True,
        "containers": [
            {
                "name": "root-shell",
                "image": "busybox:1.36",
                "ports": [{"container_port": 8080, "host_port": 8080}],
                "resources": LIMITS,
                "liveness_probe": PROBE,
                "readiness_probe": PROBE,
                "security_context": {
                    "privileged": True,
                    "allow_privilege_escalation": True,
                    "capabilities": {"add": ["SYS_ADMIN"]},
                    "seccomp_profile": {"type": "Unconfined"},
                },
                "volume_mounts": [{"name": "node-root", "mount_path": "/host"}],
            }
        ],
        "volumes": [{"name": "node-root", "host_path": {"path": "/"}}],
    },
    opts=opts,
)

# image-pinned-by-tag-or-digest: :latest, in an otherwise compliant Deployment.
k8s.apps.v1.Deployment(
    "latest-image",
    metadata={"name": "latest-image", "namespace": "policy-violations"},
    spec={
        "replicas": 2,
        "selector": {"match_labels": {"app": "latest-image"}},
        "template": {
            "metadata": {"labels": {"app": "latest-image"}},
            "spec": {
                "containers": [
                    {
                        "name": "app",
                        "image": "nginx:latest",
                        "resources": LIMITS,
                        "liveness_probe": PROBE,
                        "readiness_probe": PROBE,
                        "security_context": SAFE_CONTEXT,
                    }
                ],
            },
        },
    },
    opts=opts,
)

# container-requests-and-limits and container-liveness-and-readiness-probes: no limits, no probes.
k8s.core.v1.Pod(
    "no-limits",
    metadata={"name": "no-limits", "namespace": "policy-violations"},
    spec={
        "containers": [
            {
                "name": "app",
                "image": "hashicorp/http-echo:0.2.3",
                "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}},
                "security_context": SAFE_CONTEXT,
            }
        ],
    },
    opts=opts,
)
