"""The gateway add-on (cluster/gateway.sh, docs/gateway.md) on the local cluster.

- The install command is idempotent: run again on a healthy add-on it returns in seconds and
  changes no object; status.sh shows the add-on; bad arguments get exit status 2.
- Traefik runs as non-root under the "restricted" Pod Security profile (checked on the running
  process too), the GatewayClass is Accepted, and the dashboard and API are not served.
- End to end, as the app stacks use it: http-echo behind a Gateway (an HTTP listener on port
  8000) and an HTTPRoute answers at 127.0.0.1:30800 for its host name only, and a route change
  takes effect in well under a second; an HTTPS listener (port 8443) with a certificate of a
  throw-away CA is verified by Python's ssl module at 127.0.0.1:30443.

Its own namespace, orq-gw-addon (refused if it exists, deleted at the end); the add-on's names,
ports and node ports come from cluster/settings.env.
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from demo_orq.cluster_settings import ECHO_IMAGE, SETTINGS
from demo_orq.kube import (
    Object,
    kubectl,
    kubectl_json,
    wait_until,
)
from tests.cluster.helpers import (
    CLUSTER_DIR,
    Addon,
    apply,
    assert_confined,
    assert_restricted_pod,
    echo_deployed,
    port_forward,
    process_status,
    running_pod,
)
from tests.sandbox import SANDBOXES

pytestmark = pytest.mark.cluster

ADDON_NAMESPACE = SETTINGS["GATEWAY_NAMESPACE"]
GATEWAY_CLASS = SETTINGS["GATEWAY_CLASS"]
HTTP_PORT = int(SETTINGS["GATEWAY_HTTP_PORT"])
HTTPS_PORT = int(SETTINGS["GATEWAY_HTTPS_PORT"])
HTTP_NODE_PORT = int(SETTINGS["GATEWAY_HTTP_NODE_PORT"])
HTTPS_NODE_PORT = int(SETTINGS["GATEWAY_HTTPS_NODE_PORT"])
TRAEFIK = "app.kubernetes.io/name=traefik"

SANDBOX = SANDBOXES["gateway-addon"]  # its Service is a ClusterIP: no node port used
NAMESPACE = SANDBOX.namespace
HOST = f"addon.{NAMESPACE}.localhost"
SECURE_HOST = f"secure.{NAMESPACE}.localhost"
TEXT = "served through the gateway add-on"
ROUTE_CHANGE_LIMIT = 1.0
"""Seconds a route change may take to be served (Traefik's providers throttle is 100 ms)."""

GATEWAY_API = "gateway.networking.k8s.io/v1"


def gateway_api_crds() -> list[Object]:
    crds = kubectl_json("get", "customresourcedefinitions")["items"]
    return [c for c in crds if c["spec"]["group"] == "gateway.networking.k8s.io"]


ADDON = Addon(
    "gateway.sh",
    "gateway",
    "(gateway add-on)",
    ADDON_NAMESPACE,
    # The add-on's objects (the Gateway API CRDs included); its pods are Traefik's.
    (
        "serviceaccount/traefik",
        "clusterrole/traefik-gateway",
        "clusterrolebinding/traefik-gateway",
        f"gatewayclass/{GATEWAY_CLASS}",
        "service/traefik",
        "deployment/traefik",
    ),
    TRAEFIK,
    more_objects=gateway_api_crds,
)
gateway_addon = ADDON.fixture()


def test_the_install_command_is_idempotent(gateway_addon: str) -> None:
    before = ADDON.assert_second_install_is_a_no_op()
    assert sum(1 for key in before if key.startswith("CustomResourceDefinition/")) >= 6, before


def test_status_shows_the_add_on_and_bad_arguments_are_refused(gateway_addon: str) -> None:
    line = ADDON.assert_status_and_refusals()
    assert f"127.0.0.1:{HTTP_NODE_PORT}" in line, line


def traefik_pod() -> Object:
    return running_pod(ADDON_NAMESPACE, TRAEFIK)


def test_traefik_runs_as_non_root_under_the_restricted_profile(gateway_addon: str) -> None:
    [container] = assert_restricted_pod(traefik_pod(), 65532).values()
    assert container["image"].endswith(f"/traefik:{SETTINGS['TRAEFIK_VERSION']}"), container
    [process] = process_status(b"/traefik", b"--providers.kubernetesgateway=true")
    assert_confined(process, 65532)
    print(f"\nTraefik's resident memory: {process['VmRSS']}")

    # The API server refuses a pod that does not pass the profile in the add-on's namespace.
    privileged = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "privileged", "namespace": ADDON_NAMESPACE},
        "spec": {
            "containers": [
                {"name": "c", "image": ECHO_IMAGE, "securityContext": {"privileged": True}}
            ]
        },
    }
    refused = kubectl("apply", "--dry-run=server", "-f", "-", stdin=json.dumps(privileged),
                      check=False)  # fmt: skip
    assert refused.returncode != 0 and "violates PodSecurity" in refused.stderr, refused.stderr


def test_the_gateway_class_is_accepted_by_traefik(gateway_addon: str) -> None:
    gateway_class = kubectl_json("get", "gatewayclass", GATEWAY_CLASS)
    assert gateway_class["spec"]["controllerName"] == "traefik.io/gateway-controller"
    conditions = {c["type"]: c for c in gateway_class["status"]["conditions"]}
    assert conditions["Accepted"]["status"] == "True", conditions
    assert conditions["Accepted"]["observedGeneration"] == gateway_class["metadata"]["generation"]


def get(port: int, path: str, host: str = "127.0.0.1") -> tuple[int, str]:
    connection = http.client.HTTPConnection(host, port, timeout=5)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def test_the_dashboard_and_the_api_are_not_served(gateway_addon: str) -> None:
    [container] = traefik_pod()["spec"]["containers"]
    assert not [arg for arg in container["args"] if arg.startswith(("--api", "--accesslog"))]
    service = kubectl_json("-n", ADDON_NAMESPACE, "get", "service", "traefik")
    assert sorted(p["port"] for p in service["spec"]["ports"]) == [HTTP_PORT, HTTPS_PORT]

    ping_port = int(SETTINGS["TRAEFIK_PING_PORT"])
    with port_forward(ADDON_NAMESPACE, "deployment/traefik", free_port(), ping_port) as ping:
        assert get(ping, "/ping") == (200, "OK")
        for path in ("/api/rawdata", "/api/overview", "/dashboard/"):
            assert get(ping, path)[0] == 404, path
    metrics_port = int(SETTINGS["TRAEFIK_METRICS_PORT"])
    with port_forward(ADDON_NAMESPACE, "deployment/traefik", free_port(), metrics_port) as metrics:
        status, text = get(metrics, "/metrics")
        assert status == 200 and "traefik_config_reloads_total" in text, text[:500]
        assert get(metrics, "/api/rawdata")[0] == 404
    # Nor on the listeners' entry points, whatever the host name.
    for path in ("/api/rawdata", "/dashboard/"):
        assert curl(HTTP_NODE_PORT, "traefik.localhost", path)[0] == 404


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


# ---------------------------------------------------------------- end to end


@pytest.fixture(scope="module")
def echo_backend(gateway_addon: str) -> Iterator[None]:
    with echo_deployed(SANDBOX, TEXT):
        yield


def gateway(name: str, listener: Object) -> Object:
    return {
        "apiVersion": GATEWAY_API,
        "kind": "Gateway",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {"gatewayClassName": GATEWAY_CLASS, "listeners": [listener]},
    }


def http_route(name: str, gateway_name: str, host: str, *filters: Object) -> Object:
    rule: Object = {"backendRefs": [{"name": "echo", "port": 80}], "filters": list(filters)}
    return {
        "apiVersion": GATEWAY_API,
        "kind": "HTTPRoute",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {"parentRefs": [{"name": gateway_name}], "hostnames": [host], "rules": [rule]},
    }


def condition(obj: Object, kind: str) -> str | None:
    """The status of condition `kind` of a Gateway, or of a route's first parent."""
    status: Object = obj.get("status", {})
    parents: list[Object] = status.get("parents") or [{}]
    conditions: list[Object] = status.get("conditions") or parents[0].get("conditions", [])
    return next((c["status"] for c in conditions if c["type"] == kind), None)


def wait_accepted(kind: str, name: str, *conditions: str) -> None:
    wait_until(
        lambda: all(
            condition(kubectl_json("-n", NAMESPACE, "get", kind, name), c) == "True"
            for c in conditions
        ),
        60,
        f"{kind} {name}: {', '.join(conditions)}",
    )


def curl(port: int, host: str, path: str = "/") -> tuple[int, str]:
    """`curl -H 'Host: host' http://127.0.0.1:port/path`: the status and the body."""
    completed = subprocess.run(
        ["curl", "-sS", "--max-time", "5", "-H", f"Host: {host}", "-w", "\n%{http_code}",
         f"http://127.0.0.1:{port}{path}"],
        capture_output=True, text=True, timeout=10,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    body, _, status = completed.stdout.rpartition("\n")
    return int(status), body


def route_header(host: str) -> str | None:
    """The X-Route-Revision header of the answer to `host` at the HTTP node port."""
    connection = http.client.HTTPConnection("127.0.0.1", HTTP_NODE_PORT, timeout=2)
    try:
        connection.request("GET", "/", headers={"Host": host})
        response = connection.getresponse()
        response.read()
        return response.getheader("X-Route-Revision")
    finally:
        connection.close()


def test_an_http_listener_routes_its_host_name_to_the_app(echo_backend: None) -> None:
    listener = {"name": "http", "protocol": "HTTP", "port": HTTP_PORT, "hostname": HOST}
    apply(gateway("web", listener))
    wait_accepted("gateway", "web", "Accepted", "Programmed")
    apply(http_route("echo", "web", HOST))
    applied = time.monotonic()
    wait_until(
        lambda: curl(HTTP_NODE_PORT, HOST) == (200, TEXT + "\n"), 30, f"{HOST} answers", 0.02
    )
    first_answer = time.monotonic() - applied
    wait_accepted("httproute", "echo", "Accepted", "ResolvedRefs")

    assert curl(HTTP_NODE_PORT, f"other.{NAMESPACE}.localhost")[0] == 404
    assert curl(HTTP_NODE_PORT, "127.0.0.1")[0] == 404

    # A route change (a header added to the answers) is served well under a second later.
    revision = {
        "type": "ResponseHeaderModifier",
        "responseHeaderModifier": {"set": [{"name": "X-Route-Revision", "value": "2"}]},
    }
    assert route_header(HOST) is None
    apply(http_route("echo", "web", HOST, revision))
    changed = time.monotonic()
    wait_until(lambda: route_header(HOST) == "2", 10, "the changed route", interval=0.01)
    change_seconds = time.monotonic() - changed
    print(f"\nnew route served after {first_answer:.2f}s; route change after {change_seconds:.3f}s")
    assert change_seconds < ROUTE_CHANGE_LIMIT
    assert curl(HTTP_NODE_PORT, HOST) == (200, TEXT + "\n")


def make_certificate(directory: Path, host: str) -> tuple[Path, Path, Path]:
    """A throw-away CA and a certificate for `host` signed by it: (ca, cert, key) files."""

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=directory, check=True, capture_output=True)

    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "1",
            "-subj", "/CN=orq-gw-addon test CA")  # fmt: skip
    openssl("req", "-new", *ec, "-keyout", "tls.key", "-out", "tls.csr", "-subj", f"/CN={host}")
    (directory / "ext.cnf").write_text(
        f"subjectAltName=DNS:{host}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n"
    )
    openssl("x509", "-req", "-in", "tls.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "1", "-extfile", "ext.cnf", "-out", "tls.crt")  # fmt: skip
    return directory / "ca.crt", directory / "tls.crt", directory / "tls.key"


def https_get(ca: Path, server_name: str, host: str) -> tuple[int, str]:
    """GET / at the HTTPS node port with SNI `server_name`, verified against `ca` only."""
    context = ssl.create_default_context(cafile=str(ca))
    with (
        socket.create_connection(("127.0.0.1", HTTPS_NODE_PORT), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname=server_name) as tls,
    ):
        tls.sendall(f"GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        response = http.client.HTTPResponse(tls)
        response.begin()
        return response.status, response.read().decode()


def answers_https(ca: Path) -> bool:
    try:
        return https_get(ca, SECURE_HOST, SECURE_HOST) == (200, TEXT + "\n")
    except (OSError, http.client.HTTPException):
        return False


def test_an_https_listener_serves_the_route_with_its_certificate(
    echo_backend: None, tmp_path: Path
) -> None:
    ca, cert, key = make_certificate(tmp_path, SECURE_HOST)
    kubectl("-n", NAMESPACE, "create", "secret", "tls", "secure-tls",
            f"--cert={cert}", f"--key={key}")  # fmt: skip
    listener = {
        "name": "https",
        "protocol": "HTTPS",
        "port": HTTPS_PORT,
        "hostname": SECURE_HOST,
        "tls": {"mode": "Terminate", "certificateRefs": [{"name": "secure-tls"}]},
    }
    apply(gateway("secure", listener), http_route("echo-secure", "secure", SECURE_HOST))
    wait_accepted("gateway", "secure", "Accepted", "Programmed")
    wait_accepted("httproute", "echo-secure", "Accepted", "ResolvedRefs")
    wait_until(lambda: answers_https(ca), 30, f"https://{SECURE_HOST} verified by the test CA")

    # Another server name gets Traefik's default certificate, which the CA does not vouch for.
    with pytest.raises(ssl.SSLCertVerificationError):
        https_get(ca, f"other.{NAMESPACE}.localhost", SECURE_HOST)


def test_the_kind_cluster_maps_the_gateway_node_ports() -> None:
    kind = yaml.safe_load((CLUSTER_DIR / "kind.yaml").read_text(encoding="utf-8"))
    mapped = {
        (m["containerPort"], m["hostPort"], m["listenAddress"])
        for m in kind["nodes"][0]["extraPortMappings"]
    }
    for port in (HTTP_NODE_PORT, HTTPS_NODE_PORT):
        assert (port, port, "127.0.0.1") in mapped
