"""The app, reached from the operator's side through the Kubernetes API server's service proxy
(`/api/v1/namespaces/<ns>/services/<name>:<port>/proxy/`) with a kubeconfig and a context: the
one reach that every operator of every cluster has (kind, EKS, GKE, AKS, this machine's), where
node ports and pod addresses are often out of reach. The analysis gate, the stepped canary, the
watch and the report all go this way. Standard library only (the kubeconfig: .kubeconfig).

The API server picks a ready endpoint of the Service at random for each request and forwards it
to the pod: the answers split as the Service's endpoints do. What the requests also cross (this
machine to the API server and back) is the hop; each request is paired with a measure of it on
the same connection (HopPaired), so that figures can be given for the app alone (Probe).
"""

from __future__ import annotations

import http.client
import json
import ssl
import threading
import time
from dataclasses import dataclass, replace
from urllib.parse import quote, urlsplit

from .kubeconfig import (
    Config,
    Credentials,
    KubeAccessError,
    TlsConnection,
    exec_credentials,
    kubeconfig_files,
    one_line,
    read_kubeconfig,
    static_credentials,
    tls_context,
)
from .traffic import Answer, SteadyLoad, Target, TrafficReport, percentile, timed

__all__ = ["ApiServer", "HopPaired", "KubeAccessError", "Probe", "ServiceProxy", "reach_service"]

SERVICE_PORT_NAME = "http"
"""The name of the port of every Service of the app (components.service)."""


class ApiServer:
    """An API server as a kubeconfig's context reaches it: address, TLS and credentials."""

    def __init__(self, kubeconfig: str | None = None, context: str | None = None) -> None:
        files = kubeconfig_files(kubeconfig)
        where = ", ".join(map(str, files))
        config, origin = read_kubeconfig(files)
        name = context or config["current-context"]
        if not name:
            raise KubeAccessError(f"kubeconfig {where}: no context given and no current-context")
        if name not in config["contexts"]:
            known = ", ".join(sorted(config["contexts"])) or "none"
            raise KubeAccessError(f"kubeconfig {where}: no context {name!r} (contexts: {known})")
        entry = config["contexts"][name]
        cluster_name, user_name = entry.get("cluster", ""), entry.get("user", "")
        if cluster_name not in config["clusters"]:
            raise KubeAccessError(
                f"kubeconfig {where}: context {name!r} names cluster {cluster_name!r}, "
                "which is not there"
            )
        self.context = name
        self._cluster: Config = config["clusters"][cluster_name]
        self._user: Config = config["users"].get(user_name, {})
        self._cluster_base = origin[f"clusters/{cluster_name}"]
        self._user_base = origin.get(f"users/{user_name}", self._cluster_base)
        self.server = str(self._cluster.get("server", "")).rstrip("/")
        parts = urlsplit(self.server)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise KubeAccessError(
                f"kubeconfig {where}: cluster {cluster_name!r} has no usable server "
                f"({self.server!r}; accepted: https://host[:port])"
            )
        default_port = 443 if parts.scheme == "https" else 80
        self._host, self._port = parts.hostname, parts.port or default_port
        self._prefix = parts.path
        self._server_name = self._cluster.get("tls-server-name") or self._host
        self._lock = threading.Lock()
        self._credentials: Credentials | None = None
        self._tls: ssl.SSLContext | None = None
        self._generation = 0
        self._local = threading.local()

    def _current(self) -> tuple[Credentials, ssl.SSLContext | None, int]:
        """The credentials and TLS context, asking an exec plugin again once they expire."""
        with self._lock:
            stale = self._credentials is None or (
                self._credentials.expires is not None
                and time.time() > self._credentials.expires - 30
            )
            if stale:
                self._credentials = self._load_credentials()
                self._tls = None
                if urlsplit(self.server).scheme == "https":
                    try:
                        self._tls = tls_context(
                            self._cluster, self._cluster_base, self._credentials
                        )
                    except (OSError, ssl.SSLError, ValueError) as error:
                        raise KubeAccessError(
                            f"kubeconfig context {self.context!r}: bad TLS settings "
                            f"({one_line(error)})"
                        ) from None
                self._generation += 1
            assert self._credentials is not None
            return self._credentials, self._tls, self._generation

    def _load_credentials(self) -> Credentials:
        try:
            if self._user.get("exec"):
                return exec_credentials(self._user["exec"], self.server, self._user_base)
            return static_credentials(self._user, self._user_base)
        except OSError as error:
            raise KubeAccessError(
                f"kubeconfig context {self.context!r}: unreadable credentials ({one_line(error)})"
            ) from None

    def _connection(self, timeout: float) -> tuple[http.client.HTTPConnection, dict[str, str]]:
        """This thread's kept-alive connection (a new one after new credentials)."""
        credentials, tls, generation = self._current()
        connection = getattr(self._local, "connection", None)
        if connection is None or self._local.generation != generation:
            if connection is not None:
                connection.close()
            if tls is None:
                connection = http.client.HTTPConnection(self._host, self._port, timeout=timeout)
            else:
                connection = TlsConnection(self._host, self._port, timeout, tls, self._server_name)
            self._local.connection, self._local.generation = connection, generation
        connection.timeout = timeout
        if connection.sock is not None:
            connection.sock.settimeout(timeout)
        return connection, credentials.headers

    def request(self, path: str, timeout: float = 10) -> tuple[int, bytes]:
        """(status, body) of a GET of `path`; connection errors are raised (OSError,
        http.client.HTTPException), the connection then dropped."""
        connection, headers = self._connection(timeout)
        try:
            connection.request("GET", self._prefix + path, headers=headers)
            response = connection.getresponse()
            return response.status, response.read()
        except (OSError, http.client.HTTPException):
            connection.close()
            self._local.connection = None
            raise

    def get(self, path: str, timeout: float) -> Answer:
        started = time.monotonic()
        try:
            status, body = self.request(path, timeout)
        except (OSError, http.client.HTTPException) as error:
            return Answer(started, time.monotonic() - started, None, repr(error))
        return timed(started, status, body)

    def check(self, namespace: str, service: str) -> None:
        """Fails with one line unless the API server answers and lets these credentials read the
        Service (and so, with `services/proxy`, reach it)."""
        try:
            status, body = self.request(service_path(namespace, service), timeout=15)
        except KubeAccessError:
            raise
        except (OSError, http.client.HTTPException) as error:
            raise KubeAccessError(
                f"cannot reach the API server {self.server} of context {self.context!r}: "
                f"{one_line(error)}"
            ) from None
        if status in (401, 403):
            raise KubeAccessError(
                f"the API server {self.server} refused the credentials of context "
                f"{self.context!r} (HTTP {status}: {api_message(body)})"
            )
        if status == 404:
            raise KubeAccessError(
                f"no Service {namespace}/{service} at the API server {self.server} of context "
                f"{self.context!r}: is the stack deployed there?"
            )
        if status != 200:
            raise KubeAccessError(f"the API server {self.server} answered HTTP {status}")


def service_path(namespace: str, service: str) -> str:
    return f"/api/v1/namespaces/{quote(namespace)}/services/{quote(service)}"


def api_message(body: bytes) -> str:
    """The `message` of an API server's Status, else the start of the body."""
    try:
        return str(json.loads(body)["message"])
    except (ValueError, KeyError, TypeError):
        return one_line(body[:200].decode("utf-8", errors="replace"))


@dataclass(frozen=True)
class ServiceProxy:
    """A Service of the app, through the API server's service proxy (a Target)."""

    api: ApiServer
    namespace: str
    service: str
    path: str = "/"

    @property
    def proxy_path(self) -> str:
        return f"{service_path(self.namespace, self.service)}:{SERVICE_PORT_NAME}/proxy{self.path}"

    @property
    def description(self) -> str:
        return f"through the API server {self.api.server} (service proxy of {self.service})"

    def get(self, timeout: float) -> Answer:
        return self.api.get(self.proxy_path, timeout)


@dataclass(frozen=True)
class HopPaired:
    """A Target: each request to the Service through the API server comes right after a read of
    the Service object on the same connection (the same credentials, TLS and API server work,
    without the pod), whose latency is that request's hop (`Answer.hop_seconds`)."""

    proxy: ServiceProxy

    @property
    def description(self) -> str:
        return self.proxy.description

    def get(self, timeout: float) -> Answer:
        path = service_path(self.proxy.namespace, self.proxy.service)
        hop = self.proxy.api.get(path, timeout)
        answer = self.proxy.get(timeout)
        return replace(answer, hop_seconds=hop.seconds if hop.body is not None else None)


def reach_service(
    kubeconfig: str | None, context: str | None, namespace: str, service: str
) -> ServiceProxy:
    """The Service `namespace/service` through the API server of the kubeconfig's context,
    checked to answer (KubeAccessError, one line, when it cannot be used)."""
    proxy = ServiceProxy(ApiServer(kubeconfig, context), namespace, service)
    proxy.api.check(namespace, service)
    return proxy


class Probe:
    """A steady load on `target` for the time of a `with` block. Through the API server, each
    request is paired with a measure of its hop (HopPaired), so that the latencies can be told
    for the app alone: `app_percentiles_ms`."""

    def __init__(
        self, target: Target | str, rate: int, workers: int, max_seconds: float = 900
    ) -> None:
        """`target`: a Target, or a URL of this machine (a node port, a port-forward)."""
        paired = HopPaired(target) if isinstance(target, ServiceProxy) else target
        self.load = SteadyLoad(paired, rate, workers, max_seconds, only_loopback=False)
        self.description = self.load.target.description

    def __enter__(self) -> Probe:
        self.load.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.load.__exit__(*exc)

    @property
    def report(self) -> TrafficReport:
        return self.load.report

    def hops_ms(self) -> list[float]:
        return [a.hop_seconds * 1000 for a in self.report.answers if a.hop_seconds is not None]

    def hop_ms(self) -> tuple[float, float]:
        """The hop's (median, p99) in ms: (0, 0) for a target reached directly."""
        hops = self.hops_ms()
        return (percentile(hops, 50), percentile(hops, 99)) if hops else (0.0, 0.0)

    def app_percentiles_ms(self) -> dict[str, float]:
        """p50, p95, p99 of the app alone. Two estimates, each of them the app's latency plus
        what is left of the hop's jitter: each latency less the hop's median, and each latency
        less its own paired hop (which also takes off the jitter both shared). The smaller is
        kept, per percentile; never below 0."""
        answered = [a for a in self.report.answers if a.body is not None]
        if not self.hops_ms():
            return self.report.latency_percentiles_ms()
        median = self.hop_ms()[0]
        less_median = [max(0.0, a.seconds * 1000 - median) for a in answered]
        less_own = [max(0.0, (a.seconds - (a.hop_seconds or 0.0)) * 1000) for a in answered]
        return {
            f"p{q}": min(percentile(less_median, q), percentile(less_own, q)) for q in (50, 95, 99)
        }

    def how(self) -> str:
        """How the figures were measured, for the output that shows them."""
        if not self.hops_ms():
            return self.description
        median, p99 = self.hop_ms()
        return (
            f"{self.description}; the hop to the API server and back (median {median:.1f} "
            f"ms, p99 {p99:.1f} ms, a read of the Service before each request) taken off"
        )
