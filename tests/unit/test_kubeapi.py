"""Reaching the app through the API server's service proxy with a kubeconfig: every kind of
credential kubectl reads, one-line errors, and real requests to a TLS server on loopback that
stands in for the API server (no cluster)."""

from __future__ import annotations

import base64
import json
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from components.kubeapi import ApiServer, KubeAccessError, Probe, ServiceProxy, reach_service
from components.traffic import Answer

TOKEN = "t0ken"


@dataclass
class FakeApiServer:
    """An HTTPS server on loopback that answers as the API server would: a Service object, the
    service proxy (after `delay` seconds), 401 without the right token."""

    url: str
    ca_file: Path
    seen: list[tuple[str, str]]
    delay: float = 0.0


def make_tls(folder: Path) -> tuple[Path, Path, Path]:
    """A CA, and a server certificate for 127.0.0.1 signed by it (openssl)."""

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=folder, check=True, capture_output=True)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out",
            "ca.crt", "-days", "1", "-subj", "/CN=test-ca")  # fmt: skip
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out",
            "server.csr", "-subj", "/CN=127.0.0.1")  # fmt: skip
    (folder / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-out",
            "server.crt", "-days", "1", "-extfile", "san.ext", "-CAcreateserial")  # fmt: skip
    return folder / "ca.crt", folder / "server.crt", folder / "server.key"


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeApiServer]:
    folder = tmp_path_factory.mktemp("tls")
    ca, certificate, key = make_tls(folder)
    fake = FakeApiServer("", ca, [])

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            fake.seen.append((self.path, self.headers.get("Authorization", "")))
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                self.answer(401, b'{"kind":"Status","message":"Unauthorized"}')
            elif self.path == "/api/v1/namespaces/demo/services/hello-svc":
                self.answer(200, b'{"kind":"Service"}')
            elif self.path == "/api/v1/namespaces/demo/services/hello-svc:http/proxy/":
                time.sleep(fake.delay)
                self.answer(200, "Hola desde Kubernetes 👋\n".encode())
            else:
                self.answer(404, b'{"kind":"Status","message":"not found"}')

        def answer(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    fake.url = f"https://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake
    server.shutdown()


def kubeconfig(path: Path, server: str, user: dict[str, object], **cluster: object) -> Path:
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "here",
                "clusters": [{"name": "c", "cluster": {"server": server, **cluster}}],
                "users": [{"name": "u", "user": user}],
                "contexts": [{"name": "here", "context": {"cluster": "c", "user": "u"}}],
            }
        )
    )
    return path


def test_a_request_goes_to_the_service_proxy_with_the_token_over_verified_tls(api, tmp_path):
    config = kubeconfig(tmp_path / "config", api.url, {"token": TOKEN},
                        **{"certificate-authority": str(api.ca_file)})  # fmt: skip
    app = reach_service(str(config), "here", "demo", "hello-svc")

    answer = app.get(timeout=5)

    assert answer.body == "Hola desde Kubernetes 👋\n"
    assert api.seen[-1] == ("/api/v1/namespaces/demo/services/hello-svc:http/proxy/",
                            f"Bearer {TOKEN}")  # fmt: skip
    assert "through the API server https://127.0.0.1" in app.description


def test_the_certificate_authority_may_be_inline_and_paths_relative_to_the_kubeconfig(
    api, tmp_path
):
    inline = kubeconfig(tmp_path / "inline", api.url, {"token": TOKEN},
                        **{"certificate-authority-data":
                           base64.b64encode(api.ca_file.read_bytes()).decode()})  # fmt: skip
    (tmp_path / "ca.crt").write_bytes(api.ca_file.read_bytes())
    (tmp_path / "token").write_text(TOKEN + "\n")
    relative = kubeconfig(tmp_path / "relative", api.url, {"tokenFile": "token"},
                          **{"certificate-authority": "ca.crt"})  # fmt: skip

    for config in (inline, relative):
        assert ServiceProxy(ApiServer(str(config)), "demo", "hello-svc").get(5).body


def test_an_exec_plugin_gives_the_token_as_on_eks_gke_and_aks(api, tmp_path):
    plugin = tmp_path / "plugin"
    plugin.write_text(
        "#!/bin/sh\n"
        'echo "$KUBERNETES_EXEC_INFO" > "$(dirname "$0")/info.json"\n'
        f'echo \'{{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential",'
        f'"status":{{"token":"{TOKEN}","expirationTimestamp":"2999-01-01T00:00:00Z"}}}}\'\n'
    )
    plugin.chmod(0o755)
    user = {"exec": {"apiVersion": "client.authentication.k8s.io/v1", "command": str(plugin),
                     "interactiveMode": "Never"}}  # fmt: skip
    config = kubeconfig(tmp_path / "config", api.url, user,
                        **{"certificate-authority": str(api.ca_file)})  # fmt: skip

    assert reach_service(str(config), None, "demo", "hello-svc").get(5).body
    info = json.loads((tmp_path / "info.json").read_text())
    assert info["spec"]["interactive"] is False


def test_an_untrusted_server_certificate_fails(api, tmp_path):
    config = kubeconfig(tmp_path / "config", api.url, {"token": TOKEN})  # no CA: system's

    with pytest.raises(KubeAccessError, match=r"cannot reach the API server .*CERTIFICATE"):
        reach_service(str(config), "here", "demo", "hello-svc")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"context": "nope"}, r"no context 'nope' \(contexts: here\)"),
        ({"file": "missing"}, r"kubeconfig .*missing: no such file"),
        ({"token": "wrong"}, r"refused the credentials of context 'here' \(HTTP 401: Unauthorized"),
        ({"service": "other"}, r"no Service demo/other at the API server"),
        ({"server": "https://127.0.0.1:9"}, r"cannot reach the API server https://127.0.0.1:9"),
        ({"server": "127.0.0.1:6443"}, r"has no usable server"),
        ({"text": "{not: [yaml"}, r"unreadable"),
        ({"exec": "/nonexistent/plugin"}, r"exec plugin /nonexistent/plugin"),
    ],
)
def test_a_bad_kubeconfig_context_or_credential_is_one_clear_line(api, tmp_path, change, message):
    user: dict[str, object] = {"token": change.get("token", TOKEN)}
    if "exec" in change:
        user = {"exec": {"command": change["exec"]}}
    config = kubeconfig(tmp_path / "config", change.get("server", api.url), user,
                        **{"certificate-authority": str(api.ca_file)})  # fmt: skip
    if "text" in change:
        config.write_text(change["text"])
    path = str(tmp_path / change["file"]) if "file" in change else str(config)

    with pytest.raises(KubeAccessError, match=message) as raised:
        reach_service(
            path, change.get("context", "here"), "demo", change.get("service", "hello-svc")
        )

    assert "\n" not in str(raised.value)


def test_the_kubeconfig_variable_lists_files_and_the_first_one_wins(api, tmp_path, monkeypatch):
    first = kubeconfig(tmp_path / "first", api.url, {"token": TOKEN},
                       **{"certificate-authority": str(api.ca_file)})  # fmt: skip
    second = kubeconfig(tmp_path / "second", "https://127.0.0.1:9", {"token": "other"})
    monkeypatch.setenv("KUBECONFIG", f"{first}:{tmp_path / 'absent'}:{second}")

    assert ApiServer().server == api.url


def test_the_probe_pairs_each_request_with_its_hop_and_takes_it_off(api, tmp_path):
    config = kubeconfig(tmp_path / "config", api.url, {"token": TOKEN},
                        **{"certificate-authority": str(api.ca_file)})  # fmt: skip
    api.delay = 0.05  # the app takes 50 ms; the hop (a local TLS round trip) a few
    seen = len(api.seen)
    try:
        with Probe(reach_service(str(config), "here", "demo", "hello-svc"), 20, 2) as probe:
            time.sleep(1.5)
    finally:
        api.delay = 0.0

    answers = probe.report.answers
    assert answers and all(a.hop_seconds is not None for a in answers)
    paths = [path for path, _ in api.seen[seen:]]
    assert paths.count("/api/v1/namespaces/demo/services/hello-svc") >= len(answers)
    hop_median, hop_p99 = probe.hop_ms()
    assert 0 < hop_median <= hop_p99
    through = probe.report.latency_percentiles_ms()["p50"]
    app = probe.app_percentiles_ms()["p50"]
    assert app < through
    assert 45 <= app <= 100
    assert "taken off" in probe.how()


def app_percentiles(*pairs: tuple[float, float]) -> dict[str, float]:
    """The app's percentiles of answers given as (latency, hop) in ms."""
    probe = Probe("http://127.0.0.1:9/", 1, 1)
    probe.report.answers.extend(Answer(0, t / 1000, "v1", hop_seconds=h / 1000) for t, h in pairs)
    return probe.app_percentiles_ms()


def test_a_hop_that_jitters_with_the_request_is_taken_off_that_request():
    # Three requests that each waited 40 ms more in a hop that was as slow: the app's own
    # latency (2 ms) is what is left, not the 42 ms that the median hop leaves.
    steady = [(7.0, 5.0)] * 97
    jittery = [(47.0, 45.0)] * 3

    assert app_percentiles(*steady, *jittery)["p99"] == pytest.approx(2.0)


def test_a_slow_app_stays_slow_whatever_the_hop():
    # An app that answers in 250 ms: less the median hop or its own, about 250 ms is left.
    pairs = [(255.0 + jitter, 5.0 + jitter) for jitter in (0, 1, 2, 30)] * 25

    assert app_percentiles(*pairs)["p99"] == pytest.approx(250.0, abs=2)


def test_latencies_less_their_hop_never_go_below_zero():
    assert app_percentiles((1.0, 5.0), (2.0, 5.0))["p50"] == 0.0


def test_the_certificate_is_checked_for_the_tls_server_name_when_one_is_given(api, tmp_path):
    by_name = api.url.replace("127.0.0.1", "localhost")  # the certificate names 127.0.0.1 only
    trusted = {"certificate-authority": str(api.ca_file)}
    unnamed = kubeconfig(tmp_path / "unnamed", by_name, {"token": TOKEN}, **trusted)
    named = kubeconfig(tmp_path / "named", by_name, {"token": TOKEN}, **trusted,
                       **{"tls-server-name": "127.0.0.1"})  # fmt: skip

    with pytest.raises(KubeAccessError, match="certificate"):
        reach_service(str(unnamed), None, "demo", "hello-svc")
    assert reach_service(str(named), None, "demo", "hello-svc").get(5).body
