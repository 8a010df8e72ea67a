"""The local cluster is locked down like a real one (CIS Kubernetes Benchmark style):

- the API server and the kubelet refuse anonymous requests; the kubelet's read-only port is off;
- the kubelet authorizes every request through the API server (an identity RBAC does not allow
  gets 403);
- etcd answers only clients with a certificate of its own CA (the API server's);
- the state directory and the key files are root's alone;
- nothing listens on the machine's own interfaces (only 127.0.0.1 and the project's bridge);
- Pod Security admission is active: a namespace labelled "restricted" refuses a privileged pod;
- `cluster.sh restart` refuses bad arguments with one line and exit status 2.

Settings (ports, addresses, state dir) are read from cluster/lib.sh, which reads
cluster/settings.env, where they are written once.
Needs root (like the cluster); its own namespace is orq-cluster-security.
"""

from __future__ import annotations

import json
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from demo_orq.cluster_settings import ECHO_IMAGE
from demo_orq.facts import PROJECT_DIR
from demo_orq.kube import Object, kubectl
from tests.cluster.helpers import delete_namespace, lib_settings
from tests.sandbox import SANDBOXES

pytestmark = pytest.mark.cluster

CLUSTER_DIR = PROJECT_DIR / "cluster"
SANDBOX = SANDBOXES["cluster-security"]  # no Service: the node port stays unused


SETTINGS = lib_settings(
    "STATE_DIR",
    "PKI",
    "CONF",
    "NODE_IP",
    "APISERVER_PORT",
    "KUBELET_PORT",
    "ETCD_CLIENT_PORT",
    "ETCD_PEER_PORT",
    "HOST_PORTS",
)
PKI = Path(SETTINGS["PKI"])
NODE_IP = SETTINGS["NODE_IP"]


def curl(*args: str) -> subprocess.CompletedProcess[str]:
    """curl printing the HTTP status (000 when there is no HTTP answer); never follows."""
    return subprocess.run(
        ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5", *args],
        capture_output=True,
        text=True,
    )


def test_the_api_server_refuses_anonymous_requests(cluster_node: Object) -> None:
    base = f"https://{NODE_IP}:{SETTINGS['APISERVER_PORT']}"
    for path in ("/api", "/readyz", "/version"):
        assert curl("-k", base + path).stdout == "401", path
    # The same request with the admin's client certificate is answered (what the health checks use).
    admin = curl(
        "--cacert",
        str(PKI / "ca.crt"),
        "--cert",
        str(PKI / "admin.crt"),
        "--key",
        str(PKI / "admin.key"),
        base + "/readyz",
    )
    assert admin.stdout == "200"


def test_the_kubelet_api_requires_authentication(cluster_node: Object) -> None:
    base = f"https://{NODE_IP}:{SETTINGS['KUBELET_PORT']}"
    for path in ("/pods", "/metrics", "/metrics/resource"):
        assert curl("-k", base + path).stdout == "401", path
    # The read-only port (10255) is off everywhere.
    for host in ("127.0.0.1", NODE_IP):
        refused = curl(f"http://{host}:10255/pods")
        assert refused.stdout == "000" and refused.returncode == 7, (host, refused)


def test_the_kubelet_api_authorizes_through_the_api_server(cluster_node: Object) -> None:
    """Webhook authorization: a client the cluster CA authenticates but RBAC does not allow
    (kube-proxy's identity) is refused with 403; the API server's kubelet client is allowed."""
    url = f"https://{NODE_IP}:{SETTINGS['KUBELET_PORT']}/pods"

    def as_user(name: str) -> str:
        ca, cert, key = (str(PKI / f) for f in ("ca.crt", f"{name}.crt", f"{name}.key"))
        return curl("--cacert", ca, "--cert", cert, "--key", key, url).stdout

    assert as_user("kube-proxy") == "403"
    assert as_user("apiserver-kubelet-client") == "200"


def test_etcd_answers_only_clients_with_a_certificate_of_its_own_ca(cluster_node: Object) -> None:
    for port in (SETTINGS["ETCD_CLIENT_PORT"], SETTINGS["ETCD_PEER_PORT"]):
        url = f"https://127.0.0.1:{port}/health"
        no_cert = curl("--cacert", str(PKI / "etcd-ca.crt"), url)
        assert no_cert.stdout == "000" and no_cert.returncode != 0, (port, no_cert)
        cluster_ca_cert = curl(
            "--cacert",
            str(PKI / "etcd-ca.crt"),
            "--cert",
            str(PKI / "admin.crt"),
            "--key",
            str(PKI / "admin.key"),
            url,
        )
        assert cluster_ca_cert.stdout == "000", (port, cluster_ca_cert)
    # Plain HTTP gets nothing either.
    assert curl(f"http://127.0.0.1:{SETTINGS['ETCD_CLIENT_PORT']}/health").stdout != "200"
    allowed = curl(
        "--cacert",
        str(PKI / "etcd-ca.crt"),
        "--cert",
        str(PKI / "etcd-healthcheck-client.crt"),
        "--key",
        str(PKI / "etcd-healthcheck-client.key"),
        f"https://127.0.0.1:{SETTINGS['ETCD_CLIENT_PORT']}/health",
    )
    assert allowed.stdout == "200"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_state_dir_and_key_files_are_roots_alone(cluster_node: Object) -> None:
    for directory in (SETTINGS["STATE_DIR"], SETTINGS["PKI"], SETTINGS["CONF"]):
        path = Path(directory)
        assert (mode(path), path.stat().st_uid) == (0o700, 0), f"{path}: {oct(mode(path))}"
    keys = [*PKI.rglob("*.key"), *(Path(SETTINGS["STATE_DIR"]) / "kubelet" / "pki").glob("*.key")]
    assert len(keys) >= 15
    loose = [f"{key}: {oct(mode(key))}" for key in keys if mode(key) & 0o077 or key.stat().st_uid]
    assert not loose, loose
    kubeconfigs = list(Path(SETTINGS["CONF"]).glob("*.kubeconfig"))
    assert kubeconfigs and all(mode(k) == 0o600 for k in kubeconfigs)


def test_nothing_listens_on_the_machines_own_interfaces(cluster_node: Object) -> None:
    ports = SETTINGS["HOST_PORTS"].split()
    listeners = subprocess.run(["ss", "-Hltn"], capture_output=True, text=True, check=True).stdout
    found = {}
    for line in listeners.splitlines():
        address, _, port = line.split()[3].rpartition(":")
        if port in ports:
            found[port] = address
    assert set(found) == set(ports), f"not listening: {set(ports) - set(found)}"
    wrong = {port: a for port, a in found.items() if a not in ("127.0.0.1", NODE_IP)}
    assert not wrong, f"listening beyond loopback and the project's bridge: {wrong}"


@pytest.fixture(scope="module")
def restricted_namespace(cluster_node: Object) -> Iterator[str]:
    SANDBOX.claim()
    kubectl("create", "namespace", SANDBOX.namespace)
    kubectl(
        "label", "namespace", SANDBOX.namespace, "pod-security.kubernetes.io/enforce=restricted"
    )
    try:
        yield SANDBOX.namespace
    finally:
        delete_namespace(SANDBOX.namespace)


def test_pod_security_admission_refuses_a_privileged_pod(restricted_namespace: str) -> None:
    args = (
        "run",
        "privileged",
        "-n",
        restricted_namespace,
        f"--image={ECHO_IMAGE}",
        "--image-pull-policy=Never",
        "--dry-run=server",
        "--restart=Never",
    )
    container = {"name": "privileged", "image": ECHO_IMAGE, "securityContext": {"privileged": True}}
    overrides = json.dumps({"spec": {"containers": [container]}})
    privileged = kubectl(*args, f"--overrides={overrides}", check=False)
    assert privileged.returncode != 0
    assert 'violates PodSecurity "restricted:latest"' in privileged.stderr, privileged.stderr
    assert "privileged" in privileged.stderr
    # PodSecurity is not switched off on the API server.
    apiserver_pid = (Path(SETTINGS["STATE_DIR"]) / "run" / "kube-apiserver.pid").read_text().strip()
    command_line = Path(f"/proc/{apiserver_pid}/cmdline").read_bytes().decode().split("\0")
    assert not [arg for arg in command_line if arg.startswith("--disable-admission-plugins")]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "a command is needed (accepted: up, down, status, env, restart"),
        (("reboot",), "unknown command 'reboot' (accepted: up, down, status, env, restart"),
        (("restart",), "restart needs a component (accepted: etcd, containerd, kube-apiserver"),
        (("restart", "kube-dns"), "unknown component 'kube-dns' (accepted: etcd, containerd,"),
        (("restart", "etcd", "--now"), "unknown option '--now' for restart (accepted: --kill)"),
        (("restart", "etcd", "kubelet"), "restart takes one component, got 'etcd' and 'kubelet'"),
        (("up", "--fast"), "unexpected argument '--fast' for up (accepted: none)"),
    ],
)
def test_cluster_commands_refuse_bad_arguments(args: tuple[str, ...], message: str) -> None:
    completed = subprocess.run(
        [str(CLUSTER_DIR / "cluster.sh"), *args], capture_output=True, text=True, timeout=30
    )
    assert completed.returncode == 2
    assert completed.stderr.startswith("error: " + message), completed.stderr
    assert completed.stderr.count("\n") == 1, completed.stderr
