"""The time the cluster itself needed: from the pods' own timestamps (case 4).

Kubernetes stamps `metadata.creationTimestamp` and the Ready condition's `lastTransitionTime`
with a 1-second resolution, so a span is exact to about +-1 s.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from demo_orq.kube import is_ready, pods, wait_until

SELECTOR = "app=hello-api"


def timestamp(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def ready_since(pod: dict) -> datetime | None:
    for condition in pod.get("status", {}).get("conditions", []):
        if condition["type"] == "Ready" and condition["status"] == "True":
            return timestamp(condition["lastTransitionTime"])
    return None


def readiness_span(new_pods: Iterable[dict]) -> float:
    """Seconds from the first of the pods created to the last of them Ready."""
    new_pods = list(new_pods)
    created = min(timestamp(pod["metadata"]["creationTimestamp"]) for pod in new_pods)
    ready = max(ready_since(pod) for pod in new_pods)
    return (ready - created).total_seconds()


def uids(namespace: str, selector: str = SELECTOR) -> set[str]:
    return {pod["metadata"]["uid"] for pod in pods(namespace, selector)}


def wait_for_new_ready_pods(
    namespace: str,
    replicas: int,
    old_uids: set[str],
    selector: str = SELECTOR,
    timeout: float = 180,
) -> list[dict]:
    """The `replicas` pods not among `old_uids` once all of them are Ready (and no old one is left
    serving)."""

    def settled() -> list[dict] | None:
        current = [
            pod for pod in pods(namespace, selector) if not pod["metadata"].get("deletionTimestamp")
        ]
        new = [pod for pod in current if pod["metadata"]["uid"] not in old_uids]
        if len(current) == len(new) == replicas and all(is_ready(pod) for pod in new):
            return new
        return None

    return wait_until(settled, timeout, f"{replicas} new ready pods in {namespace}", interval=0.2)
