"""Helpers for tests against the local cluster (also used by tests/e2e): exact HTTP answers from
127.0.0.1, `kubectl port-forward` as a context manager, and a check that fails loudly when the
cluster is not reachable. kubectl comes from demo_orq.kube (PATH and KUBECONFIG set by
`eval "$(cluster/status.sh --env)"`)."""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import time
from collections.abc import Iterator

from components.traffic import http_get
from demo_orq.cluster_settings import ECHO_IMAGE, NODE_NAME
from demo_orq.kube import (
    Object,
    delete_namespace_now,
    deployment_settled,
    kubectl,
    kubectl_json,
    namespace_exists,
    wait_until,
)
from tests.sandbox import Sandbox

COMPONENTS = (
    "etcd",
    "containerd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kubelet",
    "kube-proxy",
)
"""The local cluster's components, in the order cluster/steps/ starts them."""


def require_cluster() -> Object:
    """The cluster's single node once the API server answers; fails with the fix otherwise."""
    readyz = kubectl("get", "--raw", "/readyz", check=False, timeout=15)
    if readyz.returncode != 0:
        raise AssertionError(
            "the local cluster is not reachable: run cluster/up.sh, then "
            f'eval "$(cluster/status.sh --env)"\n{readyz.stderr}'
        )
    node: Object = kubectl_json("get", "node", NODE_NAME)
    return node


def answer_text(host: str, port: int, path: str = "/") -> str | None:
    """The body as text when the answer is a 200, else None (connection errors included)."""
    try:
        status, _, body = http_get(host, port, path)
    except OSError:
        return None
    return body.decode("utf-8") if status == 200 else None


def answers(host: str, port: int, count: int = 20) -> set[str | None]:
    return {answer_text(host, port) for _ in range(count)}


def wait_for_only_answer(host: str, port: int, text: str, timeout: float = 60) -> None:
    """Until 20 answers in a row are exactly `text` plus a newline."""
    wait_until(
        lambda: answers(host, port) == {text + "\n"},
        timeout,
        f"only {text!r} from {host}:{port}",
    )


@contextlib.contextmanager
def port_forward(
    namespace: str, target: str, local_port: int, remote_port: int, timeout: float = 30
) -> Iterator[int]:
    """`kubectl port-forward` in the background for the `with` block; yields the local port."""
    executable = shutil.which("kubectl")
    assert executable, 'kubectl is not on PATH: run eval "$(cluster/status.sh --env)"'
    process = subprocess.Popen(
        [executable, "-n", namespace, "port-forward", "--address", "127.0.0.1", target,
         f"{local_port}:{remote_port}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + timeout
        assert process.stdout is not None
        line = process.stdout.readline()
        while "Forwarding from" not in line:
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(
                    f"kubectl port-forward did not start: {line}{process.stdout.read()}"
                )
            line = process.stdout.readline()
        yield local_port
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def delete_namespace(name: str, timeout: float = 120) -> None:
    delete_namespace_now(name)
    wait_until(lambda: not namespace_exists(name), timeout, f"namespace {name} to be gone")


HARDENED = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
}
"""A container's security context under the "restricted" profile."""
NON_ROOT = {"runAsNonRoot": True, "runAsUser": 10001, "seccompProfile": {"type": "RuntimeDefault"}}


def apply(*objects: Object) -> None:
    items = {"apiVersion": "v1", "kind": "List", "items": list(objects)}
    kubectl("apply", "-f", "-", stdin=json.dumps(items))


def restricted_namespace(name: str) -> Object:
    labels = {"pod-security.kubernetes.io/enforce": "restricted"}
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def echo_app(namespace: str, text: str, replicas: int) -> list[Object]:
    """http-echo saying `text` behind a ClusterIP Service `echo` in `namespace`."""
    labels = {"app": "echo"}
    container = {
        "name": "echo",
        "image": ECHO_IMAGE,
        "imagePullPolicy": "Never",
        "args": [f"-text={text}", "-listen=:8080"],
        "ports": [{"containerPort": 8080}],
        "readinessProbe": {"httpGet": {"path": "/", "port": 8080}, "periodSeconds": 2},
        "securityContext": HARDENED,
    }
    template = {
        "metadata": {"labels": labels},
        "spec": {"securityContext": NON_ROOT, "containers": [container]},
    }
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "echo", "namespace": namespace},
        "spec": {"replicas": replicas, "selector": {"matchLabels": labels}, "template": template},
    }
    spec: Object = {"selector": labels, "ports": [{"port": 80, "targetPort": 8080}]}
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "echo", "namespace": namespace},
        "spec": spec,
    }
    return [deployment, service]


def deploy_echo(sandbox: Sandbox, text: str, replicas: int) -> None:
    """`echo_app` in the sandbox's namespace (claimed first, restricted), Ready."""
    sandbox.claim()
    apply(restricted_namespace(sandbox.namespace), *echo_app(sandbox.namespace, text, replicas))
    wait_until(
        lambda: deployment_settled(sandbox.namespace, "echo", replicas),
        120,
        f"echo ready in {sandbox.namespace}",
    )
