"""What the cluster itself did during one operation of a tool, from watch events stamped on
arrival (bench/watch.py), and the tool's overhead above it.

For an operation that changes pods (deploy, upgrade, rollback, scale) the cluster is done at the
first event after which the live pods (not being deleted) are the wanted number, all Ready, all of
one pod template, and not the pods there were before. For an uninstall it is done when the
namespace is gone. For a BlueGreen switch (a Service's selector, no pod changes) it is done at
the first EndpointSlice event after which the Service's slices list exactly the new color's pods,
all Ready. Its own time runs from the first change it made (a new pod, a pod or the namespace
marked for deletion; for a switch, the Service's new selector: the tool's request taking effect)
to that moment; the rest of the tool's wall time is the tool's: `before` (start-up, planning,
API calls) and `after` (noticing the end, saving state, exiting).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from bench.watch import Event, Object

FIRST_PROBE_SECONDS = 3
"""A pod Ready at most this long after its container started was Ready at its first readiness
probe (initialDelaySeconds 2; the next one comes up to periodSeconds 5 later). Both timestamps
have a 1 s resolution, hence 3 rather than 2."""


@dataclass(frozen=True)
class Span:
    """One operation of one tool: its wall time and how it splits around the cluster's work."""

    total: float
    cluster: float | None = None
    """First change the cluster made -> cluster done; None when the cluster had nothing to do."""
    before: float | None = None
    """Tool start -> first change the cluster made."""
    after: float | None = None
    """Cluster done -> tool returned; negative when the tool returned before the cluster was."""
    first_probe: bool | None = None
    """Every new pod was Ready at its first readiness probe (None: no new pods)."""

    @property
    def overhead(self) -> float:
        """The tool's own time: before the cluster's first change and after its last (total -
        cluster). A tool that returned before the cluster was done spent nothing after it."""
        if self.before is None or self.after is None:
            return self.total
        return self.before + max(self.after, 0.0)


@dataclass(frozen=True)
class ClusterWork:
    """When the cluster started and finished an operation (time.monotonic()), and its new pods."""

    first: float
    done: float
    new_pods: tuple[Object, ...] = ()


def split(started: float, ended: float, work: ClusterWork | None) -> Span:
    total = ended - started
    if work is None:
        return Span(total)
    return Span(
        total,
        cluster=work.done - work.first,
        before=work.first - started,
        after=ended - work.done,
        first_probe=all_at_first_probe(work.new_pods) if work.new_pods else None,
    )


def uid(pod: Object) -> str:
    return str(pod["metadata"]["uid"])


def deleting(pod: Object) -> bool:
    return bool(pod["metadata"].get("deletionTimestamp"))


def ready(pod: Object) -> bool:
    conditions = pod.get("status", {}).get("conditions") or []
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)


def template(pod: Object) -> str:
    return str(pod["metadata"].get("labels", {}).get("pod-template-hash", ""))


def replay(
    initial: Iterable[Object], events: Iterable[Event]
) -> Iterator[tuple[Event, dict[str, Object]]]:
    """Each event with the pods (uid -> latest object, deleted ones dropped) right after it."""
    pods = {uid(pod): pod for pod in initial}
    for event in events:
        if event.type == "DELETED":
            pods.pop(event.uid, None)
        else:
            pods[event.uid] = event.object
        yield event, pods


def pods_after(initial: Iterable[Object], events: Iterable[Event]) -> dict[str, Object]:
    """The pods (uid -> latest object) once all `events` happened."""
    pods = {uid(pod): pod for pod in initial}
    for _, state in replay(initial, events):
        pods = state
    return pods


def live(pods: dict[str, Object]) -> dict[str, Object]:
    return {key: pod for key, pod in pods.items() if not deleting(pod)}


def is_change(event: Event, before: set[str], previous: dict[str, Object]) -> bool:
    """A change the operation made: a new pod, or an old one marked for deletion."""
    if event.uid not in before:
        return event.type == "ADDED"
    was = previous.get(event.uid)
    return deleting(event.object) and (was is None or not deleting(was))


def rollout_work(
    initial: list[Object], events: list[Event], started: float, replicas: int
) -> ClusterWork | None:
    """When the pods changed by an operation that started at `started` were all Ready, if yet.

    initial: the pods when the watch started; events: all its events since."""
    earlier = [event for event in events if event.arrived < started]
    later = [event for event in events if event.arrived >= started]
    pods = pods_after(initial, earlier)
    before = set(live(pods))
    first: float | None = None
    previous = dict(pods)
    for event, current_pods in replay(pods.values(), later):
        if first is None and is_change(event, before, previous):
            first = event.arrived
        previous = dict(current_pods)
        current = live(current_pods)
        if (
            first is not None
            and len(current) == replicas
            and set(current) != before
            and all(ready(pod) for pod in current.values())
            and len({template(pod) for pod in current.values()}) == 1
        ):
            new = tuple(pod for key, pod in current.items() if key not in before)
            return ClusterWork(first, event.arrived, new)
    return None


def deletion_work(
    pod_events: list[Event], namespace_events: list[Event], started: float
) -> ClusterWork | None:
    """From the first pod or namespace marked for deletion to the namespace gone, if yet."""
    marked = [
        event.arrived
        for event in [*pod_events, *namespace_events]
        if event.arrived >= started and (event.type == "DELETED" or deleting(event.object))
    ]
    gone = [e.arrived for e in namespace_events if e.arrived >= started and e.type == "DELETED"]
    if not marked or not gone:
        return None
    return ClusterWork(min(marked), gone[0])


def endpoints(slices: dict[str, Object]) -> list[Object]:
    """The endpoints that a Service's EndpointSlices (uid -> object) list, but for slices being
    deleted."""
    return [
        endpoint
        for piece in slices.values()
        if not deleting(piece)
        for endpoint in piece.get("endpoints") or []
    ]


def endpoint_pod(endpoint: Object) -> str:
    """The uid of the pod an endpoint stands for ("" when it names none)."""
    return str((endpoint.get("targetRef") or {}).get("uid", ""))


def with_label(pods: dict[str, Object], key: str, value: str) -> set[str]:
    """The uids of the live pods (not being deleted) labelled `key`=`value`."""
    return {
        name
        for name, pod in live(pods).items()
        if (pod["metadata"].get("labels") or {}).get(key) == value
    }


def serves_only(slices: dict[str, Object], pods: set[str]) -> bool:
    """The slices list exactly `pods` (uids), and every endpoint is Ready: the Service sends its
    requests to those pods and to no other."""
    listed = endpoints(slices)
    return (
        bool(pods)
        and {endpoint_pod(endpoint) for endpoint in listed} == pods
        and all((endpoint.get("conditions") or {}).get("ready") is True for endpoint in listed)
    )


def switch_work(
    initial_slices: list[Object],
    slice_events: list[Event],
    service_events: list[Event],
    started: float,
    selector: dict[str, str],
    pods: set[str],
) -> ClusterWork | None:
    """When a Service switched at `started` to `selector` was served by `pods` (uids) alone, if
    yet: from its change (the first event of the Service with that selector; or the first
    EndpointSlice event, if that arrived first on its own connection) to the first EndpointSlice
    event after which the slices list exactly `pods`, all Ready.

    initial_slices: the Service's slices when their watch started; the events: all since."""
    switched = [
        event.arrived
        for event in service_events
        if event.arrived >= started
        and event.type != "DELETED"
        and (event.object.get("spec") or {}).get("selector") == selector
    ]
    if not switched:
        return None
    earlier = [event for event in slice_events if event.arrived < started]
    later = [event for event in slice_events if event.arrived >= started]
    for event, current in replay(pods_after(initial_slices, earlier).values(), later):
        if serves_only(current, pods):
            return ClusterWork(min(switched[0], later[0].arrived), event.arrived)
    return None


def timestamp(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def seconds_to_ready(pod: Object) -> float | None:
    """Container started -> pod Ready, from the pod's own 1 s timestamps."""
    started = [
        status["state"]["running"]["startedAt"]
        for status in pod.get("status", {}).get("containerStatuses") or []
        if "running" in status.get("state", {})
    ]
    became_ready = [
        condition["lastTransitionTime"]
        for condition in pod.get("status", {}).get("conditions") or []
        if condition["type"] == "Ready" and condition["status"] == "True"
    ]
    if not started or not became_ready:
        return None
    return (timestamp(became_ready[0]) - timestamp(max(started))).total_seconds()


def all_at_first_probe(pods: Iterable[Object]) -> bool:
    delays = [seconds_to_ready(pod) for pod in pods]
    return all(delay is not None and delay <= FIRST_PROBE_SECONDS for delay in delays)
