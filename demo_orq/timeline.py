"""The timeline of a probe window or a rollout: requests per second, errors, p99 latency and ready
pods per version, second by second, as JSON and as a picture (PNG).

    with Recorder(target, namespace, selector, rate=20) as recorder:
        ...                                  # a rollout, or nothing: a probe window
    timeline = recorder.timeline("v2 rollout of stack dev")
    save(timeline, directory, "rollout")     # rollout.json and rollout.png

While the load runs (components.kubeapi.Probe: through the API server, or to a local URL), the
pods are listed about every half second with kubectl; a pod's version is the text it answers
(its `-text=` argument), with its image when that is not the demo's.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from components.kubeapi import Probe
from components.traffic import Answer, Target, TrafficReport, percentile

from . import facts
from .kube import KubectlError, Object, is_ready, kubectl_json

SAMPLE_INTERVAL_SECONDS = 0.5
LIST_TIMEOUT_SECONDS = 10


def pod_version(pod: Object) -> str:
    """What tells one version of the app from another: its text, and its image if not the demo's."""
    container = pod["spec"]["containers"][0]
    args = container.get("args", [])
    texts = [arg.removeprefix("-text=") for arg in args if arg.startswith("-text=")]
    image = str(container.get("image", "?"))
    if not texts:
        return image
    return texts[0] if image == facts.IMAGE else f"{texts[0]} [{image}]"


def ready_by_version(pods: Sequence[Object]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for pod in pods:
        if is_ready(pod):
            version = pod_version(pod)
            counts[version] = counts.get(version, 0) + 1
    return counts


@dataclass(frozen=True)
class PodSample:
    at: float
    """time.monotonic() when the pods were listed."""
    ready: dict[str, int]


class PodSampler:
    """Lists the pods every SAMPLE_INTERVAL_SECONDS in a thread and keeps the ready ones by version.

    A listing that fails (the API server briefly unreachable) is skipped, not fatal.
    """

    def __init__(self, list_pods: Callable[[], list[Object]]) -> None:
        self.list_pods = list_pods
        self.samples: list[PodSample] = []
        self.failed_listings = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                self.samples.append(PodSample(started, ready_by_version(self.list_pods())))
            except (KubectlError, TimeoutError, ValueError, KeyError):
                self.failed_listings += 1
            self._stop.wait(max(0.0, SAMPLE_INTERVAL_SECONDS - (time.monotonic() - started)))

    def __enter__(self) -> PodSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def pod_lister(
    namespace: str, selector: str, kubectl_args: Sequence[str] = ()
) -> Callable[[], list[Object]]:
    """Lists the pods of `selector` in `namespace`; `kubectl_args` choose the cluster."""

    def list_pods() -> list[Object]:
        timeout = f"--request-timeout={LIST_TIMEOUT_SECONDS}s"
        listing = kubectl_json(
            *kubectl_args, timeout, "-n", namespace, "get", "pods", "-l", selector
        )
        items: list[Object] = listing["items"]
        return items

    return list_pods


@dataclass(frozen=True)
class Second:
    """One second of the timeline."""

    t: int
    """Seconds since the timeline started."""
    requests: int
    errors: int
    p99_ms: float | None
    """p99 latency of the answered requests of this second; None when none was answered."""
    ready: dict[str, int]
    """Ready pods per version at the end of this second (the last listing before it)."""


@dataclass(frozen=True)
class Mark:
    """Something that happened during the timeline, drawn as a vertical line."""

    t: float
    """Seconds since the timeline started."""
    label: str


@dataclass(frozen=True)
class Timeline:
    title: str
    started_at: float
    """Seconds since the epoch."""
    seconds: list[Second]
    versions: list[str] = field(default_factory=list)
    """Every version seen, in the order they first appeared."""
    marks: list[Mark] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def versions_in_order(seconds: Sequence[Second]) -> list[str]:
    versions: list[str] = []
    for second in seconds:
        versions.extend(v for v in second.ready if v not in versions)
    return versions


def bucket(
    answers: Sequence[Answer], samples: Sequence[PodSample], start: float, end: float
) -> list[Second]:
    """The answers and pod listings between the monotonic times `start` and `end`, per whole
    second (a last, partial second is left out: its rate would look like a drop)."""
    count = max(1, int(end - start))
    in_second: list[list[Answer]] = [[] for _ in range(count)]
    for answer in answers:
        index = int(answer.started - start)
        if 0 <= index < count:
            in_second[index].append(answer)
    ordered = sorted(samples, key=lambda s: s.at)
    seconds = []
    for index, group in enumerate(in_second):
        latencies = [a.seconds * 1000 for a in group if a.body is not None]
        before_end = [s for s in ordered if s.at - start <= index + 1]
        seconds.append(
            Second(
                t=index,
                requests=len(group),
                errors=sum(1 for a in group if a.body is None),
                p99_ms=percentile(latencies, 99) if latencies else None,
                ready=dict(before_end[-1].ready) if before_end else {},
            )
        )
    return seconds


class Recorder:
    """A steady load on `url` and a pod sampler, for the time of the `with` block (at most
    `max_seconds`)."""

    def __init__(
        self,
        target: Target | str,
        namespace: str,
        selector: str,
        rate: float,
        max_seconds: float = 900,
        kubectl_args: Sequence[str] = (),
    ) -> None:
        workers = min(6, max(1, int(rate)))
        self.probe = Probe(target, int(rate), workers, max_seconds)
        self.sampler = PodSampler(pod_lister(namespace, selector, kubectl_args))
        self.start = self.end = 0.0
        self.started_at = 0.0
        self.marks: list[Mark] = []

    def __enter__(self) -> Recorder:
        self.start, self.started_at = time.monotonic(), time.time()
        self.sampler.__enter__()
        self.probe.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.probe.__exit__(*exc)
        self.sampler.__exit__(*exc)
        self.end = time.monotonic()

    def mark(self, label: str) -> None:
        """Marks this moment on the timeline, e.g. "pulumi up started"."""
        self.marks.append(Mark(round(time.monotonic() - self.start, 2), label))

    @property
    def report(self) -> TrafficReport:
        return self.probe.report

    def timeline(self, title: str) -> Timeline:
        seconds = bucket(self.report.answers, self.sampler.samples, self.start, self.end)
        return Timeline(
            title, round(self.started_at, 3), seconds, versions_in_order(seconds), self.marks
        )


def printable(text: str) -> str:
    """`text` without the characters the picture's font cannot draw (the demo's emoji)."""
    return "".join(c for c in text if ord(c) < 0x10000).strip()


def draw(timeline: Timeline, path: Path, slo_p99_ms: float | None = None) -> Path:
    """Draws the timeline in three panels sharing the time axis, and writes it as a PNG."""
    figure = Figure(figsize=(10, 7.5), dpi=100, layout="constrained")
    traffic, latency, pods = figure.subplots(3, 1, sharex=True)
    t = [second.t for second in timeline.seconds]

    traffic.plot(t, [s.requests for s in timeline.seconds], color="tab:blue", label="requests/s")
    traffic.bar(t, [s.errors for s in timeline.seconds], color="tab:red", label="errors/s")
    traffic.set_ylabel("per second")
    # Headroom above the rate for the labels of the marks.
    traffic.set_ylim(0, 1.3 * max([1, *(s.requests for s in timeline.seconds)]))
    traffic.legend(loc="upper left", bbox_to_anchor=(1.01, 1))

    p99 = [math.nan if s.p99_ms is None else s.p99_ms for s in timeline.seconds]
    latency.plot(t, p99, color="tab:purple", marker=".", label="p99 latency")
    if slo_p99_ms is not None:
        latency.axhline(slo_p99_ms, color="tab:orange", linestyle="--", label="p99 SLO")
    latency.set_ylabel("ms")
    if any(value > 0 for value in [*p99, slo_p99_ms or 0]):
        latency.set_yscale("log")
    latency.legend(loc="upper left", bbox_to_anchor=(1.01, 1))

    if timeline.versions:
        counts = [[s.ready.get(v, 0) for s in timeline.seconds] for v in timeline.versions]
        pods.stackplot(t, counts, labels=[printable(v) for v in timeline.versions], alpha=0.8)
        pods.legend(loc="upper left", bbox_to_anchor=(1.01, 1))
    pods.set_ylabel("ready pods")
    pods.set_xlabel("seconds since start")
    pods.set_ylim(bottom=0)
    pods.yaxis.set_major_locator(MaxNLocator(integer=True))

    for mark in timeline.marks:
        for axes in (traffic, latency, pods):
            axes.axvline(mark.t, color="gray", linestyle=":")
        traffic.annotate(
            printable(mark.label),
            (mark.t, 1),
            xycoords=("data", "axes fraction"),
            xytext=(3, -3),
            textcoords="offset points",
            va="top",
            fontsize="small",
            color="gray",
        )

    started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(timeline.started_at))
    figure.suptitle(f"{printable(timeline.title)} (from {started})")
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png")
    return path


def save(
    timeline: Timeline, directory: Path, name: str, slo_p99_ms: float | None = None
) -> tuple[Path, Path]:
    """Writes `name`.json and `name`.png into `directory`; returns their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    json_path = directory / f"{name}.json"
    json_path.write_text(
        json.dumps(timeline.to_dict(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    return json_path, draw(timeline, directory / f"{name}.png", slo_p99_ms)
