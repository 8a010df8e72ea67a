"""Clusters as an operator sees them from elsewhere, reproduced on the local cluster, where this
machine is also the node and reaches every node port and pod:

- `kind`: only the node ports that cluster/kind.yaml maps reach the operator's machine;
- `cloud` (EKS, GKE, AKS): no node port at all, and the API server is far away.

Node ports are made unreachable with an iptables rule in the raw table's OUTPUT chain (the
packets this machine sends itself), for the sandbox's own ports only, removed afterwards. A far
API server is a proxy on loopback that holds every request to the API server for a while, with
a copy of the kubeconfig that points at it.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from components.traffic import get_once

RULE_COMMENT = "demo-orq-test-layout"


def iptables(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["iptables", "-w", "5", *args], capture_output=True, text=True,
                          check=check, timeout=30)  # fmt: skip


def drop_rule(ports: list[int]) -> list[str]:
    return ["OUTPUT", "-p", "tcp", "-m", "multiport", "--dports", ",".join(map(str, ports)),
            "-m", "comment", "--comment", RULE_COMMENT, "-j", "DROP"]  # fmt: skip


def remove_leftover_rules() -> None:
    """Rules of a run that was killed before it could remove its own."""
    listed = iptables("-t", "raw", "-S", "OUTPUT").stdout.splitlines()
    for line in listed:
        if RULE_COMMENT in line:
            ports = re.search(r"--dports (\S+)", line)
            if ports:
                iptables("-t", "raw", "-D", *drop_rule([int(p) for p in ports[1].split(",")]),
                         check=False)  # fmt: skip


@contextlib.contextmanager
def unreachable_node_ports(ports: list[int]) -> Iterator[None]:
    """This machine's packets to `ports` are dropped while the block runs (as if they were not
    mapped to it), and the drop is checked before the block starts."""
    remove_leftover_rules()
    iptables("-t", "raw", "-I", *drop_rule(ports))
    try:
        for port in ports:
            answer = get_once("127.0.0.1", port, "/", timeout=1)
            assert answer.body is None and "timed out" in (answer.error or ""), (
                f"node port {port} still answers with the drop rule in place: {answer}"
            )
        yield
    finally:
        iptables("-t", "raw", "-D", *drop_rule(ports), check=False)


class SlowProxy:
    """A TCP proxy on 127.0.0.1 to `upstream` (host, port) that holds every chunk from the client
    for `delay` seconds before it passes it on: TLS goes through untouched."""

    def __init__(self, upstream: tuple[str, int], delay: float) -> None:
        self.upstream, self.delay = upstream, delay
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float
    ) -> None:
        try:
            while data := await reader.read(65536):
                if delay:
                    await asyncio.sleep(delay)
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.close()
            return
        await asyncio.gather(
            self._pipe(reader, up_writer, self.delay), self._pipe(up_reader, writer, 0)
        )

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        server.close()

    def __enter__(self) -> SlowProxy:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


@contextlib.contextmanager
def far_api_server(kubeconfig: Path, context: str, folder: Path, delay: float) -> Iterator[Path]:
    """A copy of `kubeconfig` in `folder` whose `context` reaches its API server through a
    SlowProxy that adds `delay` seconds to every request (the copy's path)."""
    document = yaml.safe_load(kubeconfig.read_text())
    cluster_name = next(c["context"]["cluster"] for c in document["contexts"]
                        if c["name"] == context)  # fmt: skip
    cluster = next(c["cluster"] for c in document["clusters"] if c["name"] == cluster_name)
    server = urlsplit(cluster["server"])
    assert server.hostname and server.port, cluster["server"]
    with SlowProxy((server.hostname, server.port), delay) as proxy:
        # The API server's certificate names its own address: keep checking it by that name.
        cluster["tls-server-name"] = server.hostname
        cluster["server"] = f"https://127.0.0.1:{proxy.port}"
        copy = folder / "far-api-server.kubeconfig"
        copy.write_text(yaml.safe_dump(document))
        copy.chmod(0o600)
        yield copy
