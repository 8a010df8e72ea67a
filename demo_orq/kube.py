"""kubectl against the cluster in use (KUBECONFIG and context from the environment, set for the
local cluster by `eval "$(cluster/status.sh --env)"`), what its objects say (readiness, resource
quantities), and small waiting helpers."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
Object = dict[str, Any]
"""A Kubernetes object as kubectl prints it in JSON."""


_QUANTITY = re.compile(r"([0-9.]+(?:[eE][-+]?[0-9]+)?)([a-zA-Z]*)")
_SUFFIXES = {
    "": 1.0, "n": 1e-9, "u": 1e-6, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12,
    "Ki": 2.0**10, "Mi": 2.0**20, "Gi": 2.0**30, "Ti": 2.0**40,
}  # fmt: skip


class KubectlError(RuntimeError):
    """kubectl is missing or a command of it failed."""


def kubectl(
    *args: str, check: bool = True, timeout: float = 120, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    executable = shutil.which("kubectl")
    if executable is None:
        raise KubectlError('kubectl is not on PATH: run eval "$(cluster/status.sh --env)"')
    completed = subprocess.run(
        [executable, *args], capture_output=True, text=True, timeout=timeout, input=stdin
    )
    if check and completed.returncode != 0:
        raise KubectlError(
            f"kubectl {' '.join(args)} failed:\n{completed.stdout}{completed.stderr}"
        )
    return completed


def kubectl_json(*args: str) -> Any:
    return json.loads(kubectl(*args, "-o", "json").stdout)


def wait_until(
    probe: Callable[[], T | None], timeout: float, what: str, interval: float = 0.5
) -> T:
    """Calls `probe` until it returns something truthy; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what} (last: {last!r})")


def namespace_exists(namespace: str) -> bool:
    return kubectl("get", "namespace", namespace, check=False).returncode == 0


def delete_namespace_now(namespace: str) -> None:
    """Starts deleting a test's own namespace and removes its pods at once, without their
    graceful stop (a 5 s preStop each): nothing is served from a sandbox being torn down, and a
    terminating namespace lets nothing recreate them. The namespace is then gone in about 5 s
    instead of 13."""
    kubectl("delete", "namespace", namespace, "--ignore-not-found", "--wait=false", check=False)
    kubectl("-n", namespace, "delete", "pods", "--all", "--force", "--grace-period=0",
            check=False)  # fmt: skip


def pods(namespace: str, selector: str) -> list[Object]:
    items: list[Object] = kubectl_json("-n", namespace, "get", "pods", "-l", selector)["items"]
    return items


def is_ready(pod: Object) -> bool:
    if pod["metadata"].get("deletionTimestamp"):
        return False
    conditions = pod.get("status", {}).get("conditions", [])
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


def quantity(text: str) -> float:
    """A Kubernetes quantity in base units: `250m` -> 0.25 (cores), `64Mi` -> 67108864 (bytes)."""
    match = _QUANTITY.fullmatch(text.strip())
    if not match or match.group(2) not in _SUFFIXES:
        raise ValueError(f"not a Kubernetes quantity: {text!r}")
    return float(match.group(1)) * _SUFFIXES[match.group(2)]


def ready_pods(namespace: str, selector: str) -> list[Object]:
    return [pod for pod in pods(namespace, selector) if is_ready(pod)]


def deployment_settled(namespace: str, name: str, replicas: int) -> Object | None:
    """The Deployment's status once all `replicas` are updated, ready and available, else None."""
    status: Object = kubectl_json("-n", namespace, "get", "deployment", name).get("status", {})
    wanted = (
        status.get("updatedReplicas"),
        status.get("readyReplicas"),
        status.get("availableReplicas"),
        status.get("replicas"),
    )
    return status if wanted == (replicas,) * 4 else None
