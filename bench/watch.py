"""The cluster's own clock for the benchmark: Kubernetes API watches whose events are stamped with
time.monotonic() when they arrive (sub-second; the objects' own timestamps have 1 s resolution).

`ApiWatch` lists a collection, then watches it from the list's resourceVersion on its own
connection, so no event is missed and the watch is established before `__enter__` returns. It
speaks to the API server of the kubeconfig in use ($KUBECONFIG, its current context) with the
client certificate of that context, as kubectl does.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import os
import socket
import ssl
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

Object = dict[str, Any]


@dataclass(frozen=True)
class Event:
    """One watch event: when it arrived (time.monotonic()), ADDED/MODIFIED/DELETED, the object."""

    arrived: float
    type: str
    object: Object

    @property
    def uid(self) -> str:
        return str(self.object["metadata"]["uid"])


@dataclass(frozen=True)
class ApiServer:
    """Where the API server is and the TLS context that authenticates to it."""

    host: str
    port: int
    context: ssl.SSLContext


def kubeconfig_path() -> Path:
    first = os.environ.get("KUBECONFIG", "").split(os.pathsep)[0]
    return Path(first) if first else Path.home() / ".kube" / "config"


def named(entries: list[Object], name: str, what: str) -> Object:
    for entry in entries:
        if entry["name"] == name:
            return dict(entry[what])
    raise KeyError(f"kubeconfig {kubeconfig_path()}: no {what} named {name!r}")


def pem(entry: Object, key: str) -> bytes:
    """A certificate or key of a kubeconfig entry, embedded (`<key>-data`) or in a file."""
    if f"{key}-data" in entry:
        return base64.b64decode(entry[f"{key}-data"])
    return Path(entry[key]).expanduser().read_bytes()


def api_server(path: Path | None = None) -> ApiServer:
    """The current context's API server, authenticated by its client certificate."""
    config = yaml.safe_load((path or kubeconfig_path()).read_text(encoding="utf-8"))
    context = named(config["contexts"], config["current-context"], "context")
    cluster = named(config["clusters"], context["cluster"], "cluster")
    user = named(config["users"], context["user"], "user")
    url = urllib.parse.urlsplit(cluster["server"])
    if url.scheme != "https" or url.hostname is None:
        raise ValueError(f"kubeconfig server {cluster['server']!r}: the benchmark needs https")
    tls = ssl.create_default_context(cadata=pem(cluster, "certificate-authority").decode())
    # ssl loads a client certificate from files only: a private directory, gone right after.
    with tempfile.TemporaryDirectory(prefix="bench-watch-") as directory:
        certificate, key = Path(directory, "client.crt"), Path(directory, "client.key")
        certificate.write_bytes(pem(user, "client-certificate"))
        key.write_bytes(pem(user, "client-key"))
        tls.load_cert_chain(certificate, key)
    return ApiServer(url.hostname, url.port or 443, tls)


def request_json(server: ApiServer, path: str) -> Object:
    connection = http.client.HTTPSConnection(
        server.host, server.port, context=server.context, timeout=30
    )
    try:
        connection.request("GET", path, headers={"Accept": "application/json"})
        response = connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise RuntimeError(f"GET {path}: HTTP {response.status} {body[:300]!r}")
        answer: Object = json.loads(body)
        return answer
    finally:
        connection.close()


class ApiWatch:
    """`with ApiWatch(collection, params) as watch:` ... `watch.events` grows as they arrive.

    collection: an API path such as /api/v1/namespaces/NS/pods; params: labelSelector,
    fieldSelector. The objects that exist when it starts are in `watch.initial`.
    """

    def __init__(self, collection: str, params: dict[str, str] | None = None) -> None:
        self.collection = collection
        self.params = dict(params or {})
        self.initial: list[Object] = []
        self.events: list[Event] = []
        self.error: BaseException | None = None
        self._lock = threading.Lock()
        self._connection: http.client.HTTPSConnection | None = None
        self._thread: threading.Thread | None = None
        self._closing = False

    def path(self, **extra: str) -> str:
        return f"{self.collection}?{urllib.parse.urlencode({**self.params, **extra})}"

    def __enter__(self) -> ApiWatch:
        server = api_server()
        listed = request_json(server, self.path())
        self.initial = list(listed.get("items") or [])
        version = listed["metadata"]["resourceVersion"]
        # No read timeout: the server sends nothing while nothing changes.
        self._connection = http.client.HTTPSConnection(
            server.host, server.port, context=server.context
        )
        self._connection.request(
            "GET",
            self.path(watch="1", resourceVersion=version, timeoutSeconds="3600"),
            headers={"Accept": "application/json"},
        )
        response = self._connection.getresponse()
        if response.status != 200:
            raise RuntimeError(f"watch {self.collection}: HTTP {response.status}")
        self._thread = threading.Thread(target=self._read, args=(response,), daemon=True)
        self._thread.start()
        return self

    def _read(self, response: http.client.HTTPResponse) -> None:
        try:
            while line := response.readline():
                arrived = time.monotonic()
                event = json.loads(line)
                if event["type"] == "ERROR":
                    raise RuntimeError(f"watch {self.collection}: {event['object']}")
                if event["type"] == "BOOKMARK":
                    continue
                with self._lock:
                    self.events.append(Event(arrived, event["type"], event["object"]))
        except BaseException as error:  # kept for the reader of the events
            if not self._closing:
                self.error = error

    def snapshot(self) -> list[Event]:
        """The events so far; fails if the watch broke (its figures would be wrong)."""
        if self.error is not None:
            raise RuntimeError(f"watch {self.collection} broke: {self.error!r}")
        with self._lock:
            return list(self.events)

    def __exit__(self, *exc_info: object) -> None:
        self._closing = True
        if self._connection is not None:
            sock = self._connection.sock
            if sock is not None:
                # Unblocks the reader thread at once (close alone may wait for the next event).
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            self._connection.close()
        if self._thread is not None:
            self._thread.join(timeout=10)


def pod_watch(namespace: str, selector: str) -> ApiWatch:
    return ApiWatch(f"/api/v1/namespaces/{namespace}/pods", {"labelSelector": selector})


def namespace_watch(namespace: str) -> ApiWatch:
    return ApiWatch("/api/v1/namespaces", {"fieldSelector": f"metadata.name={namespace}"})


def service_watch(namespace: str, service: str) -> ApiWatch:
    return ApiWatch(
        f"/api/v1/namespaces/{namespace}/services", {"fieldSelector": f"metadata.name={service}"}
    )


def endpoint_slice_watch(namespace: str, service: str) -> ApiWatch:
    """The EndpointSlices of `service` (labelled with its name by the EndpointSlice controller)."""
    return ApiWatch(
        f"/apis/discovery.k8s.io/v1/namespaces/{namespace}/endpointslices",
        {"labelSelector": f"kubernetes.io/service-name={service}"},
    )
