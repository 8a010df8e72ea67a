"""Requests to the app from the operator's side, recorded one by one: a steady load for the
analysis gate, the commands, the tests and the benchmarks. Standard library only.

Where the requests go is a Target: a URL of loopback or of the local cluster (`DirectUrl`, a new
connection per request, as curl does), the app's HTTPS entry through its gateway (`GatewayUrl`,
the stack's CA trusted), or the app's Service through the Kubernetes API server
(`components.kubeapi.ServiceProxy`), the one way that works on any cluster.
"""

from __future__ import annotations

import http.client
import math
import ssl
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlsplit

LOCAL_HOSTS = ("127.",)


@dataclass(frozen=True)
class Answer:
    started: float  # time.monotonic() when the request was sent
    seconds: float  # latency
    body: str | None  # None when the request failed
    error: str | None = None
    hop_seconds: float | None = None
    """The part of `seconds` spent on the way to the app and back (the hop to the API server),
    measured beside it; None when not measured."""


class Target(Protocol):
    """Where requests go."""

    @property
    def description(self) -> str:
        """Where, in a few words, for figures that must say how they were measured."""

    def get(self, timeout: float) -> Answer:
        """One GET; a failure is an Answer without a body, never retried, never raised."""


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), linear between the closest ranks; nan without values."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


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

    def latencies_ms(self) -> list[float]:
        return [a.seconds * 1000 for a in self.answers if a.body is not None]

    def latency_percentiles_ms(self) -> dict[str, float]:
        """p50, p95 and p99 of the answered requests, as measured."""
        latencies = self.latencies_ms()
        return {f"p{q}": percentile(latencies, q) for q in (50, 95, 99)}

    def body_sequence(self) -> list[str]:
        """The distinct answers in the order they first appeared."""
        sequence: list[str] = []
        for answer in self.answers:
            if answer.body is not None and answer.body not in sequence:
                sequence.append(answer.body)
        return sequence

    def split(self, with_failures: bool = True) -> str:
        """How the answers split, in shares of every request, e.g. `51% 'v2', 49% 'v1'`; each
        failure counts as its own answer (`'failed: <error>'`), or, without `with_failures`, is
        left out of the list (the shares then add up to the part answered)."""
        counts = Counter(
            a.body.strip() if a.body is not None else f"failed: {a.error}"
            for a in self.answers
            if a.body is not None or with_failures
        )
        total = len(self.answers) or 1
        return ", ".join(f"{n / total:.0%} {answer!r}" for answer, n in counts.most_common())

    def summary(self) -> str:
        percentiles = ", ".join(f"{k}={v:.1f}ms" for k, v in self.latency_percentiles_ms().items())
        return (
            f"{len(self.answers)} requests, {len(self.failures)} failed (none retried), "
            f"{self.requests_per_second():.0f} req/s, {percentiles}, answers={dict(self.bodies)}"
        )


def http_get(
    host: str,
    port: int,
    path: str = "/",
    timeout: float = 5,
    connection: http.client.HTTPConnection | None = None,
    headers: Sequence[tuple[str, str]] = (),
) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, raw body bytes) of one GET on a new connection (`connection`, when
    given, not yet connected); errors are raised."""
    connection = connection or http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request("GET", path, headers={"Connection": "close", **dict(headers)})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def timed(started: float, status: int, body: bytes) -> Answer:
    """The Answer of a request sent at `started` that got `status` and `body` just now."""
    seconds = time.monotonic() - started
    if status != 200:
        return Answer(started, seconds, None, f"HTTP {status}: {body[:200]!r}")
    return Answer(started, seconds, body.decode("utf-8", errors="replace"))


def get_once(host: str, port: int, path: str, timeout: float) -> Answer:
    """One request on a new connection, as curl sends it."""
    started = time.monotonic()
    try:
        status, _, body = http_get(host, port, path, timeout)
    except (OSError, http.client.HTTPException) as error:
        return Answer(started, time.monotonic() - started, None, repr(error))
    return timed(started, status, body)


@dataclass(frozen=True)
class DirectUrl:
    """An http URL that this machine reaches itself (a node port, a port-forward)."""

    url: str

    @property
    def description(self) -> str:
        return f"directly at {self.url}"

    def get(self, timeout: float) -> Answer:
        parts = urlsplit(self.url)
        return get_once(parts.hostname or "", parts.port or 80, parts.path or "/", timeout)


def loopback_for(host: str) -> str:
    """The address to connect to for `host`: a `*.localhost` name is this machine (RFC 6761, as
    curl and browsers resolve it, whatever the system resolver says)."""
    return "127.0.0.1" if host == "localhost" or host.endswith(".localhost") else host


@dataclass(frozen=True)
class GatewayUrl:
    """An https URL of the app's gateway: the server must prove its name with a certificate of
    `ca_pem` (never unverified), and each request is a new connection with `headers`."""

    url: str
    ca_pem: str
    headers: tuple[tuple[str, str], ...] = ()

    @property
    def description(self) -> str:
        said = "".join(f" with {name}: {value}" for name, value in self.headers)
        return f"through the gateway at {self.url}{said}"

    def get(self, timeout: float) -> Answer:
        parts = urlsplit(self.url)
        host = parts.hostname or ""
        context = ssl.create_default_context(cadata=self.ca_pem)
        started = time.monotonic()
        try:
            connection = ServerNamed(host, loopback_for(host), parts.port or 443, timeout, context)
            status, _, body = http_get(host, 0, parts.path or "/", timeout, connection,
                                       (("Host", parts.netloc), *self.headers))  # fmt: skip
        except (OSError, http.client.HTTPException) as error:
            return Answer(started, time.monotonic() - started, None, repr(error))
        return timed(started, status, body)


class ServerNamed(http.client.HTTPSConnection):
    """HTTPS to `address`, for the server named `server_name` (SNI and the certificate's name)."""

    def __init__(
        self, server_name: str, address: str, port: int, timeout: float, context: ssl.SSLContext
    ) -> None:
        super().__init__(address, port, timeout=timeout, context=context)
        self.server_name = server_name

    def connect(self) -> None:
        http.client.HTTPConnection.connect(self)
        self.sock = self._context.wrap_socket(self.sock, server_hostname=self.server_name)  # type: ignore[attr-defined]


def direct_url(url: str, only_loopback: bool) -> DirectUrl:
    """`url` as a target; with `only_loopback`, refused unless it is a loopback address."""
    host = urlsplit(url).hostname
    if host is None:
        raise ValueError(f"no host in {url}")
    if only_loopback and not host.startswith(LOCAL_HOSTS):
        raise ValueError(f"load is only ever sent to loopback addresses, not to {url}")
    return DirectUrl(url)


class SteadyLoad:
    """Sends `rate` requests per second to `target` from `workers` threads until stopped (the
    end of the `with` block, or `max_seconds`). A URL is a DirectUrl, of loopback only unless
    `only_loopback` is False."""

    def __init__(
        self,
        target: Target | str,
        rate: float = 150,
        workers: int = 6,
        max_seconds: float = 900,
        timeout: float = 2.0,
        only_loopback: bool = True,
    ) -> None:
        self.target = direct_url(target, only_loopback) if isinstance(target, str) else target
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
            answer = self.target.get(self.timeout)
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


def wait_for_answer(target: Target, seconds: float) -> Answer:
    """Asks `target` until it answers (at most `seconds`); the last answer."""
    deadline = time.monotonic() + seconds
    answer = target.get(2)
    while answer.body is None and time.monotonic() < deadline:
        time.sleep(0.2)
        answer = target.get(2)
    return answer
