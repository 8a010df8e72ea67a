"""The report over a window of time (`--since 10m`, `--from/--to`, `--last-update`) instead of a
probe of its own: the users' requests through the gateway, per backend Service (each runs one
version: a BlueGreen color, Canary's stable or canary pods, or the app's), and each pod's CPU,
CPU throttling, memory and OOM events, as the cluster's Prometheus recorded them
(cluster/prometheus.sh), read through the API server of the stack's kubeconfig.

Requests and errors are the gateway's counters at the window's end minus at its start (exact,
whatever the scrape interval, once the last scrape is in); latency quantiles come from its
duration histograms (interpolated within a bucket).
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from components import SloArgs
from components.metrics import DURATION_BUCKETS, PROVIDER, REQUESTS, backends_selector
from components.prometheus import Prometheus, Series

from .timeline import Second, Timeline

DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")
MAX_WINDOW_SECONDS = 7 * 24 * 3600
QUANTILES = {"p50": 0.5, "p95": 0.95, "p99": 0.99}
CADVISOR = 'namespace="{namespace}",pod!="",container=""'
"""cAdvisor's series of each pod's own cgroup (its containers' sum): every kubelet has those, while
per-container series depend on the runtime's cgroup layout (this cluster's have none)."""


@dataclass(frozen=True)
class Window:
    start: float
    end: float
    """Seconds since the epoch."""
    said: str

    @property
    def seconds(self) -> float:
        return self.end - self.start

    @property
    def range(self) -> str:
        """The window as a PromQL range, whole seconds."""
        return f"{max(1, math.ceil(self.seconds))}s"


def duration_seconds(raw: str) -> int:
    """`90s`, `10m`, `1h30m` -> seconds; ValueError for anything else or out of bounds."""
    found = DURATION.match(raw.strip())
    if not raw.strip() or found is None:
        raise ValueError(raw)
    hours, minutes, seconds = (int(part or 0) for part in found.groups())
    total = 3600 * hours + 60 * minutes + seconds
    if not 0 < total <= MAX_WINDOW_SECONDS:
        raise ValueError(raw)
    return total


def since(raw: str, now: float | None = None) -> Window:
    end = time.time() if now is None else now
    return Window(end - duration_seconds(raw), end, f"the last {raw}")


def between(start: datetime, end: datetime, said: str) -> Window:
    return Window(start.timestamp(), end.timestamp(), said)


@dataclass(frozen=True)
class BackendFigures:
    """The users' requests that the gateway sent one Service over the window."""

    service: str
    requests: int
    errors: int
    availability_percent: float | None
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    availability_within_slo: bool | None
    p99_within_slo: bool | None


@dataclass(frozen=True)
class PodWindowFigures:
    """One pod's resources over the window (cAdvisor, through the kubelet)."""

    pod: str
    cpu_millicores_mean: float | None
    throttled_percent: float | None
    """Share of the CPU periods in which the pod hit its CPU limit."""
    memory_mib_max: float | None
    oom_events: int


def kubernetes_service(label: str, namespace: str) -> str:
    """`hello-svc-blue` for Traefik's `demo-hello-svc-blue-http-80@kubernetesgateway`."""
    name = label.removesuffix(f"@{PROVIDER}").removeprefix(f"{namespace}-")
    return re.sub(r"-http-\d+$", "", name)


def counted(prometheus: Prometheus, selector: str, at: float) -> dict[tuple[str, str], float]:
    """The gateway's request counters at `at`, by (service, code)."""
    samples = prometheus.vector(f"sum by (service, code) ({REQUESTS}{{{selector}}})", at)
    return {(s.labels.get("service", ""), s.labels.get("code", "")): s.value for s in samples}


def increase(before: float, after: float) -> float:
    """A counter's increase; a counter that restarted (Traefik did) counts from 0."""
    return after - before if after >= before else after


def real_traffic(
    prometheus: Prometheus,
    namespace: str,
    backends: Sequence[str],
    window: Window,
    slo: SloArgs,
) -> list[BackendFigures]:
    selector = backends_selector(namespace, backends)
    before = counted(prometheus, selector, window.start)
    after = counted(prometheus, selector, window.end)
    requests: dict[str, float] = {}
    errors: dict[str, float] = {}
    for (service, code), value in after.items():
        grown = increase(before.get((service, code), 0.0), value)
        requests[service] = requests.get(service, 0.0) + grown
        if code.startswith("5"):
            errors[service] = errors.get(service, 0.0) + grown
    quantiles = {
        name: latency_quantile(prometheus, selector, window, q) for name, q in QUANTILES.items()
    }
    figures = []
    for service, total in sorted(requests.items()):
        if round(total) == 0:
            continue
        failed = round(errors.get(service, 0.0))
        availability = 100 * (1 - failed / round(total))
        p99 = quantiles["p99"].get(service)
        figures.append(
            BackendFigures(
                service=kubernetes_service(service, namespace),
                requests=round(total),
                errors=failed,
                availability_percent=availability,
                p50_ms=quantiles["p50"].get(service),
                p95_ms=quantiles["p95"].get(service),
                p99_ms=p99,
                availability_within_slo=availability >= slo.availability_percent,
                p99_within_slo=None if p99 is None else p99 <= slo.p99_ms,
            )
        )
    return figures


def latency_quantile(
    prometheus: Prometheus, selector: str, window: Window, q: float
) -> dict[str, float]:
    """Each backend's latency quantile `q` in ms over the window."""
    buckets = f"{DURATION_BUCKETS}{{{selector}}}"
    promql = f"histogram_quantile({q}, sum by (service, le) (increase({buckets}[{window.range}])))"
    samples = prometheus.vector(promql, window.end)
    return {s.labels["service"]: s.value * 1000 for s in samples if not math.isnan(s.value)}


def by_pod(prometheus: Prometheus, promql: str, at: float) -> dict[str, float]:
    return {s.labels.get("pod", ""): s.value for s in prometheus.vector(promql, at)}


def pods_over_window(
    prometheus: Prometheus, namespace: str, window: Window
) -> list[PodWindowFigures]:
    where, span, at = CADVISOR.format(namespace=namespace), window.range, window.end
    used = f"increase(container_cpu_usage_seconds_total{{{where}}}[{span}])"
    cpu = by_pod(prometheus, f"sum by (pod) ({used}) / {window.seconds:.3f}", at)
    throttled_periods = f"increase(container_cpu_cfs_throttled_periods_total{{{where}}}[{span}])"
    periods = f"increase(container_cpu_cfs_periods_total{{{where}}}[{span}])"
    throttled = by_pod(
        prometheus, f"100 * sum by (pod) ({throttled_periods}) / sum by (pod) ({periods})", at
    )
    working_set = f"max_over_time(container_memory_working_set_bytes{{{where}}}[{span}])"
    memory = by_pod(prometheus, f"max by (pod) ({working_set})", at)
    oom_events = f"increase(container_oom_events_total{{{where}}}[{span}])"
    ooms = by_pod(prometheus, f"sum by (pod) ({oom_events})", at)
    return [
        PodWindowFigures(
            pod=pod,
            cpu_millicores_mean=known(cpu, pod, 1000),
            throttled_percent=known(throttled, pod),
            memory_mib_max=known(memory, pod, 2.0**-20),
            oom_events=round(ooms.get(pod, 0.0)),
        )
        for pod in sorted(set(cpu) | set(memory))
    ]


def known(values: Mapping[str, float], pod: str, scale: float = 1.0) -> float | None:
    value = values.get(pod)
    return None if value is None or math.isnan(value) else round(value * scale, 1)


def by_step(series: Sequence[Series], window: Window, step: float) -> dict[int, float]:
    """The points of the one series of a range query, by their step's index from the start."""
    if not series:
        return {}
    return {round((t - window.start) / step): value for t, value in series[0].points}


def traffic_timeline(
    prometheus: Prometheus, namespace: str, backends: Sequence[str], window: Window, title: str
) -> Timeline:
    """Requests and errors per second and p99, every `step`, from the same series."""
    selector = backends_selector(namespace, backends)
    step = max(5.0, window.seconds / 240)
    span = f"{math.ceil(step * 2)}s"
    rate = f"sum(rate({REQUESTS}{{{selector}}}[{span}]))"
    errors = f'sum(rate({REQUESTS}{{{selector},code=~"5.."}}[{span}]))'
    p99 = (f"histogram_quantile(0.99, sum by (le) (rate({DURATION_BUCKETS}{{{selector}}}"
           f"[{span}])))")  # fmt: skip
    series = {
        name: by_step(prometheus.matrix(promql, window.start, window.end, step), window, step)
        for name, promql in (("rate", rate), ("errors", errors), ("p99", p99))
    }
    seconds = []
    for index in range(int(window.seconds // step) + 1):
        p99_seconds = series["p99"].get(index)
        seconds.append(
            Second(
                t=round(index * step),
                requests=round(series["rate"].get(index, 0.0)),
                errors=round(series["errors"].get(index, 0.0)),
                p99_ms=None
                if p99_seconds is None or math.isnan(p99_seconds)
                else p99_seconds * 1000,
                ready={},
            )
        )
    return Timeline(title, window.start, seconds)
