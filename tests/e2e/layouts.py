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
import os
import re
import signal
import subprocess
import sys
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
    for `delay` seconds before it passes it on: TLS goes through untouched. It runs as a process
    of its own (`python -m tests.e2e.layouts HOST PORT DELAY`, which prints its port), so that
    no load in the test's process slows it down more than a real far API server would be."""

    def __init__(self, upstream: tuple[str, int], delay: float) -> None:
        self.upstream, self.delay = upstream, delay
        self.port = 0
        self._process: subprocess.Popen[str] | None = None

    def __enter__(self) -> SlowProxy:
        host, port = self.upstream
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tests.e2e.layouts", host, str(port), str(self.delay)],
            cwd=Path(__file__).resolve().parents[2],
            stdout=subprocess.PIPE,
            text=True,
            # Ahead of the tests' own load: the hop it adds should be the delay, not the CPU's.
            preexec_fn=lambda: os.nice(-5),
        )
        assert self._process.stdout is not None
        self.port = int(self._process.stdout.readline())
        return self

    def __exit__(self, *exc: object) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(10)


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    """Passes what `reader` receives on to `writer`, each chunk `delay` seconds after it came: a
    delay line (a request sent in several chunks is held `delay` once, as by a long link)."""
    loop = asyncio.get_running_loop()
    line: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def deliver() -> None:
        while True:
            due, data = await line.get()
            if not data:
                return
            await asyncio.sleep(max(0.0, due - loop.time()))
            writer.write(data)
            await writer.drain()

    delivering = asyncio.create_task(deliver())
    try:
        while data := await reader.read(65536):
            line.put_nowait((loop.time() + delay, data))
    except (ConnectionError, OSError):
        pass
    finally:
        line.put_nowait((loop.time() + delay, b""))
        with contextlib.suppress(ConnectionError, OSError):
            await delivering
        writer.close()


async def serve_slowly(host: str, port: int, delay: float) -> None:
    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(host, port)
        except OSError:
            writer.close()
            return
        await asyncio.gather(pipe(reader, up_writer, delay), pipe(up_reader, writer, 0))

    server = await asyncio.start_server(connection, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()


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


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    asyncio.run(serve_slowly(sys.argv[1], int(sys.argv[2]), float(sys.argv[3])))
