"""kubectl against the cluster the tests target (KUBECONFIG and context from the environment,
set by `eval "$(cluster/status.sh --env)"`), and small waiting helpers."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from typing import Any, Callable, Optional, TypeVar

T = TypeVar("T")


def kubectl(*args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
    executable = shutil.which("kubectl")
    if executable is None:
        raise AssertionError('kubectl is not on PATH: run eval "$(cluster/status.sh --env)"')
    completed = subprocess.run([executable, *args], capture_output=True, text=True, timeout=timeout)
    if check and completed.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)} failed:\n{completed.stdout}{completed.stderr}")
    return completed


def kubectl_json(*args: str) -> Any:
    return json.loads(kubectl(*args, "-o", "json").stdout)


def wait_until(probe: Callable[[], Optional[T]], timeout: float, what: str, interval: float = 0.5) -> T:
    """Calls `probe` until it returns something truthy; fails after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last: Optional[T] = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what} (last: {last!r})")


def pods(namespace: str, selector: str) -> list[dict]:
    return kubectl_json("-n", namespace, "get", "pods", "-l", selector)["items"]


def is_ready(pod: dict) -> bool:
    if pod["metadata"].get("deletionTimestamp"):
        return False
    conditions = pod.get("status", {}).get("conditions", [])
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


def ready_pods(namespace: str, selector: str) -> list[dict]:
    return [pod for pod in pods(namespace, selector) if is_ready(pod)]


def deployment_settled(namespace: str, name: str, replicas: int) -> Optional[dict]:
    """The Deployment's status once all `replicas` are updated, ready and available, else None."""
    status = kubectl_json("-n", namespace, "get", "deployment", name).get("status", {})
    wanted = (status.get("updatedReplicas"), status.get("readyReplicas"),
              status.get("availableReplicas"), status.get("replicas"))
    return status if wanted == (replicas,) * 4 else None
