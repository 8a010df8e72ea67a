"""Helpers for tests against the local cluster (also used by tests/e2e): exact HTTP answers from
127.0.0.1, `kubectl port-forward` as a context manager, and a check that fails loudly when the
cluster is not reachable. kubectl comes from demo_orq.kube (PATH and KUBECONFIG set by
`eval "$(cluster/status.sh --env)"`)."""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from components.traffic import http_get
from demo_orq.cluster_settings import ECHO_IMAGE, NODE_NAME
from demo_orq.facts import PROJECT_DIR
from demo_orq.kube import (
    Object,
    delete_namespace_now,
    deployment_settled,
    kubectl,
    kubectl_json,
    namespace_exists,
    pods,
    wait_until,
)
from tests.sandbox import Sandbox

COMPONENTS = (
    "etcd",
    "containerd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kubelet",
    "kube-proxy",
)
"""The local cluster's components, in the order cluster/steps/ starts them."""


def require_cluster() -> Object:
    """The cluster's single node once the API server answers; fails with the fix otherwise."""
    readyz = kubectl("get", "--raw", "/readyz", check=False, timeout=15)
    if readyz.returncode != 0:
        raise AssertionError(
            "the local cluster is not reachable: run cluster/up.sh, then "
            f'eval "$(cluster/status.sh --env)"\n{readyz.stderr}'
        )
    node: Object = kubectl_json("get", "node", NODE_NAME)
    return node


def answer_text(host: str, port: int, path: str = "/") -> str | None:
    """The body as text when the answer is a 200, else None (connection errors included)."""
    try:
        status, _, body = http_get(host, port, path)
    except OSError:
        return None
    return body.decode("utf-8") if status == 200 else None


def answers(host: str, port: int, count: int = 20) -> set[str | None]:
    return {answer_text(host, port) for _ in range(count)}


def wait_for_only_answer(host: str, port: int, text: str, timeout: float = 60) -> None:
    """Until 20 answers in a row are exactly `text` plus a newline."""
    wait_until(
        lambda: answers(host, port) == {text + "\n"},
        timeout,
        f"only {text!r} from {host}:{port}",
    )


@contextlib.contextmanager
def port_forward(
    namespace: str, target: str, local_port: int, remote_port: int, timeout: float = 30
) -> Iterator[int]:
    """`kubectl port-forward` in the background for the `with` block; yields the local port."""
    executable = shutil.which("kubectl")
    assert executable, 'kubectl is not on PATH: run eval "$(cluster/status.sh --env)"'
    process = subprocess.Popen(
        [executable, "-n", namespace, "port-forward", "--address", "127.0.0.1", target,
         f"{local_port}:{remote_port}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + timeout
        assert process.stdout is not None
        line = process.stdout.readline()
        while "Forwarding from" not in line:
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(
                    f"kubectl port-forward did not start: {line}{process.stdout.read()}"
                )
            line = process.stdout.readline()
        yield local_port
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def delete_namespace(name: str, timeout: float = 120) -> None:
    delete_namespace_now(name)
    wait_until(lambda: not namespace_exists(name), timeout, f"namespace {name} to be gone")


HARDENED = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
}
"""A container's security context under the "restricted" profile."""
NON_ROOT = {"runAsNonRoot": True, "runAsUser": 10001, "seccompProfile": {"type": "RuntimeDefault"}}


def apply(*objects: Object) -> None:
    items = {"apiVersion": "v1", "kind": "List", "items": list(objects)}
    kubectl("apply", "-f", "-", stdin=json.dumps(items))


def restricted_namespace(name: str) -> Object:
    labels = {"pod-security.kubernetes.io/enforce": "restricted"}
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def echo_app(namespace: str, text: str, replicas: int) -> list[Object]:
    """http-echo saying `text` behind a ClusterIP Service `echo` in `namespace`."""
    labels = {"app": "echo"}
    container = {
        "name": "echo",
        "image": ECHO_IMAGE,
        "imagePullPolicy": "Never",
        "args": [f"-text={text}", "-listen=:8080"],
        "ports": [{"containerPort": 8080}],
        "readinessProbe": {"httpGet": {"path": "/", "port": 8080}, "periodSeconds": 2},
        "securityContext": HARDENED,
    }
    template = {
        "metadata": {"labels": labels},
        "spec": {"securityContext": NON_ROOT, "containers": [container]},
    }
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "echo", "namespace": namespace},
        "spec": {"replicas": replicas, "selector": {"matchLabels": labels}, "template": template},
    }
    spec: Object = {"selector": labels, "ports": [{"port": 80, "targetPort": 8080}]}
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "echo", "namespace": namespace},
        "spec": spec,
    }
    return [deployment, service]


@contextlib.contextmanager
def echo_deployed(sandbox: Sandbox, text: str, replicas: int = 1) -> Iterator[None]:
    """`deploy_echo` for the `with` block; the sandbox's namespace deleted after it."""
    try:
        deploy_echo(sandbox, text, replicas)
        yield
    finally:
        delete_namespace(sandbox.namespace)


def deploy_echo(sandbox: Sandbox, text: str, replicas: int) -> None:
    """`echo_app` in the sandbox's namespace (claimed first, restricted), Ready."""
    sandbox.claim()
    apply(restricted_namespace(sandbox.namespace), *echo_app(sandbox.namespace, text, replicas))
    wait_until(
        lambda: deployment_settled(sandbox.namespace, "echo", replicas),
        120,
        f"echo ready in {sandbox.namespace}",
    )


# ---------------------------------------------------------------- the add-ons

CLUSTER_DIR = PROJECT_DIR / "cluster"


def lib_settings(*names: str) -> dict[str, str]:
    """Values of cluster/lib.sh settings (arrays joined by spaces)."""
    script = f"source {CLUSTER_DIR / 'lib.sh'}; " + "; ".join(
        f'echo "${{{name}[*]}}"' for name in names
    )
    out = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True)
    return dict(zip(names, out.stdout.splitlines(), strict=True))


def install_addon(script: str) -> tuple[subprocess.CompletedProcess[str], float]:
    """cluster/<script> run once, and its seconds (a cold machine builds the images first)."""
    started = time.monotonic()
    completed = subprocess.run(
        [str(CLUSTER_DIR / script)], capture_output=True, text=True, timeout=3600
    )
    seconds = time.monotonic() - started
    assert completed.returncode == 0, f"cluster/{script} failed:\n{completed.stderr}"
    return completed, seconds


def addon_state(
    namespace: str, names: list[str], pod_selector: str, more: list[Object] | None = None
) -> dict[str, str]:
    """The resourceVersion of the add-on's objects `names` (kind/name) and `more`, by kind and
    name, and the UID and restarts of its pods."""
    listed = kubectl_json("-n", namespace, "get", *names)["items"]
    state = {
        f"{o['kind']}/{o['metadata']['name']}": o["metadata"]["resourceVersion"]
        for o in [*listed, *(more or [])]
    }
    for pod in pods(namespace, pod_selector):
        restarts = sum(s["restartCount"] for s in pod["status"].get("containerStatuses", []))
        state[f"Pod/{pod['metadata']['name']}"] = f"{pod['metadata']['uid']} {restarts}"
    return state


def assert_second_install_is_a_no_op(
    script: str, said: str, state: Callable[[], dict[str, str]]
) -> dict[str, str]:
    """cluster/<script> on the installed add-on says `said` within 5 s and changes no object;
    the add-on's state."""
    before = state()
    second, seconds = install_addon(script)
    print(f"\nsecond run of cluster/{script}: {seconds:.2f}s\n{second.stderr}")
    assert said in second.stderr, second.stderr
    assert seconds < 5, f"the second run took {seconds:.1f}s"
    assert state() == before
    return before


def running_pod(namespace: str, selector: str) -> Object:
    """The one pod of `selector` that is not on its way out."""
    [pod] = [p for p in pods(namespace, selector) if not p["metadata"].get("deletionTimestamp")]
    return pod


def process_status(executable: bytes, *args: bytes) -> list[dict[str, str]]:
    """/proc/<pid>/status, as a dict, of each process on the node (this machine) that runs
    `executable` with every one of `args`."""
    found = []
    for proc in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            command = (proc / "cmdline").read_bytes().split(b"\0")
            if command[0] == executable and all(arg in command for arg in args):
                lines = (proc / "status").read_text().splitlines()
                found.append(dict(line.split(":\t", 1) for line in lines if ":\t" in line))
    return found


def assert_restricted_pod(pod: Object, uid: int) -> dict[str, Object]:
    """The pod's namespace enforces "restricted", the pod runs as `uid` with seccomp, and each
    container is hardened and never pulls; its containers, by name."""
    namespace = pod["metadata"]["namespace"]
    labels = kubectl_json("get", "namespace", namespace)["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted", labels
    security = pod["spec"]["securityContext"]
    assert security["runAsNonRoot"] is True, security
    assert (security["runAsUser"], security["runAsGroup"]) == (uid, uid), security
    assert security["seccompProfile"] == {"type": "RuntimeDefault"}, security
    containers: dict[str, Object] = {c["name"]: c for c in pod["spec"]["containers"]}
    for container in containers.values():
        assert container["securityContext"] == HARDENED, container["securityContext"]
        assert container["imagePullPolicy"] == "Never", container
    return containers


def assert_confined(process: dict[str, str], uid: int) -> None:
    """What runs: `uid` and its group, no capability, no new privileges, seccomp filtering."""
    assert process["Uid"].split() == [str(uid)] * 4, process["Uid"]
    assert process["Gid"].split() == [str(uid)] * 4, process["Gid"]
    assert int(process["CapEff"], 16) == 0 and int(process["CapPrm"], 16) == 0, process
    assert (process["NoNewPrivs"], process["Seccomp"]) == ("1", "2"), process


def addon_status_line(marker: str) -> str:
    """The line of `cluster/status.sh` that starts with or holds `marker`; it says healthy."""
    status = subprocess.run(
        [str(CLUSTER_DIR / "status.sh")], capture_output=True, text=True, timeout=60
    )
    [line] = [line for line in status.stdout.splitlines() if marker in line]
    assert "healthy" in line and "unhealthy" not in line, line
    return line


def assert_refuses_arguments(script: str, command: str) -> None:
    refused = subprocess.run(
        [str(CLUSTER_DIR / script), "--now"], capture_output=True, text=True, timeout=30
    )
    assert refused.returncode == 2
    assert refused.stderr == f"error: unexpected argument '--now' for {command} (accepted: none)\n"


@dataclass(frozen=True)
class Addon:
    """An add-on installed on demand by cluster/<script>: what its tests share (its fixture, the
    second install a no-op, its line of status.sh, bad arguments refused)."""

    script: str
    """cluster/<script>, e.g. "storage.sh"; the command of cluster.sh is its name without .sh."""
    label: str
    """How the install command's log names it: "<label> add-on already installed and healthy"."""
    status_marker: str
    """What marks its line of cluster/status.sh."""
    namespace: str
    objects: tuple[str, ...]
    """kind/name of its objects besides its namespace (`kubectl -n namespace get` finds them)."""
    pod_selector: str
    more_objects: Callable[[], list[Object]] | None = None
    """Its objects that are listed otherwise (e.g. the CRDs of a group)."""
    requires: tuple[str, ...] = ()
    """The scripts of the add-ons installed before it (their logs are not printed)."""

    def fixture(self) -> Any:
        """A module fixture (named after the attribute it is assigned to): the add-on installed
        (or found installed); the install command's log."""

        @pytest.fixture(scope="module")
        def installed(cluster_node: Object) -> str:
            for script in self.requires:
                install_addon(script)
            completed, seconds = install_addon(self.script)
            print(f"\ncluster/{self.script}: {seconds:.1f}s\n{completed.stderr}")
            return completed.stderr

        return installed

    def state(self) -> dict[str, str]:
        """`addon_state` of its namespace, objects and pods."""
        names = [f"namespace/{self.namespace}", *self.objects]
        more = self.more_objects() if self.more_objects else None
        return addon_state(self.namespace, names, self.pod_selector, more)

    def assert_second_install_is_a_no_op(self) -> dict[str, str]:
        """`assert_second_install_is_a_no_op` for this add-on; its state."""
        said = f"{self.label} add-on already installed and healthy"
        return assert_second_install_is_a_no_op(self.script, said, self.state)

    def assert_status_and_refusals(self) -> str:
        """Its line of status.sh says healthy, and cluster/<script> refuses an argument; the
        line."""
        line = addon_status_line(self.status_marker)
        assert_refuses_arguments(self.script, self.script.removesuffix(".sh"))
        return line


def etcdctl(*args: str) -> bytes:
    """etcdctl as the API server (its etcd client certificate); stdout as bytes."""
    settings = lib_settings("PKI", "ETCD_CLIENT_PORT")
    pki = Path(settings["PKI"])
    executable = shutil.which("etcdctl")
    assert executable, "etcdctl is missing: run cluster/install-packages.sh (Debian's etcd-client)"
    completed = subprocess.run(
        [executable, f"--endpoints=https://127.0.0.1:{settings['ETCD_CLIENT_PORT']}",
         f"--cacert={pki / 'etcd-ca.crt'}", f"--cert={pki / 'apiserver-etcd-client.crt'}",
         f"--key={pki / 'apiserver-etcd-client.key'}", *args],
        capture_output=True,
        timeout=30,
        env={"ETCDCTL_API": "3", "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr.decode()
    return completed.stdout


def stored(key: str) -> bytes:
    return etcdctl("get", key, "--print-value-only")
