"""A steady HTTP load on a local URL, recording every answer, for rollout tests and benchmarks.

Each request opens a new connection (as curl does), so that it is balanced by the Service over
all the ready pods. The load is bounded in time by the caller (`with` block) and by `max_seconds`.
"""

from __future__ import annotations

import http.client
import statistics
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .http import http_get

LOCAL_HOSTS = ("127.",)


@dataclass(frozen=True)
class Answer:
    started: float  # time.monotonic() when the request was sent
    seconds: float  # latency
    body: str | None  # None when the request failed
    error: str | None = None


@dataclass
class TrafficReport:
    answers: list[Answer] = field(default_factory=list)

    @property
    def failures(self) -> list[Answer]:
        return [a for a in self.answers if a.body is None]

    @property
    def bodies(self) -> Counter[str]:
        return Counter(a.body for a in self.answers if a.body is not None)

    def requests_per_second(self) -> float:
        if len(self.answers) < 2:
            return 0.0
        span = self.answers[-1].started - self.answers[0].started
        return len(self.answers) / span if span > 0 else 0.0

    def latency_percentiles_ms(self) -> dict[str, float]:
        latencies = sorted(a.seconds * 1000 for a in self.answers if a.body is not None)
        if len(latencies) < 2:
            return {"p50": float("nan"), "p95": float("nan"), "p99": float("nan")}
        cuts = statistics.quantiles(latencies, n=100, method="inclusive")
        return {"p50": cuts[49], "p95": cuts[94], "p99": cuts[98]}

    def body_sequence(self) -> list[str]:
        """The distinct answers in the order they first appeared."""
        sequence: list[str] = []
        for answer in self.answers:
            if answer.body is not None and answer.body not in sequence:
                sequence.append(answer.body)
        return sequence

    def summary(self) -> str:
        percentiles = ", ".join(f"{k}={v:.1f}ms" for k, v in self.latency_percentiles_ms().items())
        return (
            f"{len(self.answers)} requests, {len(self.failures)} failed (none retried), "
            f"{self.requests_per_second():.0f} req/s, {percentiles}, answers={dict(self.bodies)}"
        )


def get_once(host: str, port: int, path: str, timeout: float) -> Answer:
    """One request on a new connection; a failure is an answer without a body, never retried."""
    started = time.monotonic()
    try:
        status, _, body = http_get(host, port, path, timeout)
    except (OSError, http.client.HTTPException) as error:
        return Answer(started, time.monotonic() - started, None, repr(error))
    if status != 200:
        return Answer(started, time.monotonic() - started, None, f"HTTP {status}")
    return Answer(started, time.monotonic() - started, body.decode("utf-8"))


class SteadyLoad:
    """Sends `rate` requests per second to `url` from `workers` threads until stopped."""

    def __init__(
        self,
        url: str,
        rate: float = 150,
        workers: int = 6,
        max_seconds: float = 900,
        timeout: float = 2.0,
        only_loopback: bool = True,
    ) -> None:
        parts = urlsplit(url)
        if parts.hostname is None:
            raise ValueError(f"no host in {url}")
        if only_loopback and not parts.hostname.startswith(LOCAL_HOSTS):
            raise ValueError(f"load is only ever sent to loopback addresses, not to {url}")
        self.host, self.port = parts.hostname, parts.port or 80
        self.path = parts.path or "/"
        self.interval = workers / rate
        self.workers, self.max_seconds, self.timeout = workers, max_seconds, timeout
        self.report = TrafficReport()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def _work(self, offset: float) -> None:
        deadline = time.monotonic() + self.max_seconds
        next_send = time.monotonic() + offset
        while not self._stop.is_set() and time.monotonic() < deadline:
            time.sleep(max(0.0, next_send - time.monotonic()))
            next_send += self.interval
            answer = get_once(self.host, self.port, self.path, self.timeout)
            with self._lock:
                self.report.answers.append(answer)

    def __enter__(self) -> SteadyLoad:
        for index in range(self.workers):
            thread = threading.Thread(
                target=self._work, args=(index * self.interval / self.workers,), daemon=True
            )
            thread.start()
            self._threads.append(thread)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()
        self.report.answers.sort(key=lambda a: a.started)
