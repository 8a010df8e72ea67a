"""The storage add-on (cluster/storage.sh, docs/storage.md) on the local cluster.

- The install command is idempotent: run again on a healthy add-on it returns in seconds and
  changes no object; status.sh shows the add-on; bad arguments get exit status 2.
- The StorageClass local-path is the cluster's one default: WaitForFirstConsumer, Delete.
- The provisioner runs as non-root with a hardened container (checked on the running process
  too) and would pass the "restricted" profile; its namespace alone is "privileged", for the
  helper pods' hostPath; its ServiceAccount cannot read secrets, configmaps or others' pods.
- End to end, in a restricted namespace of the test's own: a claim that names no class and a pod
  of uid 10001 that writes to it: the pod runs within RUNNING_LIMIT seconds, the data is in the
  claim's directory of the state dir; the pod deleted, a new pod reads the data back (a node
  restart keeps it too: tests/faults/test_node_restart.py, alone, as it stops everything);
  the claim deleted, its volume and its directory go (the teardown helper pod, as
  root with DAC_OVERRIDE only, removes what uid 10001 wrote in a directory of its own).

Its own namespace, orq-storage-addon (refused if it exists, deleted at the end); the add-on's
names come from cluster/settings.env and cluster/lib.sh.
"""

from __future__ import annotations

import json
import stat
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from demo_orq.cluster_settings import SETTINGS
from demo_orq.kube import Object, kubectl, kubectl_json, namespace_exists, pods, wait_until
from tests.cluster.helpers import (
    CLUSTER_DIR,
    HARDENED,
    NON_ROOT,
    Addon,
    apply,
    assert_confined,
    assert_restricted_pod,
    delete_namespace,
    process_status,
    restricted_namespace,
    running_pod,
)
from tests.sandbox import SANDBOXES

pytestmark = pytest.mark.cluster

ADDON_NAMESPACE = SETTINGS["STORAGE_NAMESPACE"]
STORAGE_CLASS = SETTINGS["STORAGE_CLASS"]
PROVISIONER = "app.kubernetes.io/name=local-path-provisioner"
SERVICE_ACCOUNT = f"system:serviceaccount:{ADDON_NAMESPACE}:local-path-provisioner-service-account"


def lib_values(*names: str) -> list[str]:
    """Values that cluster/lib.sh computes (the state dir may be overridden: DEMO_ORQ_STATE)."""
    script = f'source "{CLUSTER_DIR / "lib.sh"}"; for n; do echo "${{!n}}"; done'
    printed = subprocess.run(["bash", "-c", script, "bash", *names], capture_output=True,
                             text=True, check=True)  # fmt: skip
    return printed.stdout.splitlines()


_storage_dir, BUSYBOX_IMAGE, LOCAL_PATH_IMAGE = lib_values(
    "STORAGE_DIR", "BUSYBOX_IMAGE", "LOCAL_PATH_IMAGE"
)
STORAGE_DIR = Path(_storage_dir)

SANDBOX = SANDBOXES["storage-addon"]
NAMESPACE = SANDBOX.namespace
CLAIM = "data"
UID = 10001
RUNNING_LIMIT = 30
"""Seconds from the claim and its first pod to the pod Running: the scheduler picks the node, the
provisioner runs the setup helper pod (it checks it once a second) and creates the volume, the
claim is bound, the pod scheduled and started."""


ADDON = Addon(
    "storage.sh",
    "storage",
    "local-path (storage add-on)",
    ADDON_NAMESPACE,
    # The add-on's objects (the StorageClass included); its pod is the provisioner's.
    (
        "serviceaccount/local-path-provisioner-service-account",
        "role/local-path-provisioner-role",
        "rolebinding/local-path-provisioner-bind",
        "clusterrole/local-path-provisioner-role",
        "clusterrolebinding/local-path-provisioner-bind",
        "configmap/local-path-config",
        "deployment/local-path-provisioner",
        f"storageclass/{STORAGE_CLASS}",
    ),
    PROVISIONER,
)
storage_addon = ADDON.fixture()


def test_the_install_command_is_idempotent(storage_addon: str) -> None:
    before = ADDON.assert_second_install_is_a_no_op()
    assert sum(1 for key in before if key.startswith("Pod/")) == 1, before


def test_status_shows_the_add_on_and_bad_arguments_are_refused(storage_addon: str) -> None:
    line = ADDON.assert_status_and_refusals()
    assert f"default StorageClass {STORAGE_CLASS}" in line and str(STORAGE_DIR) in line, line


def test_local_path_is_the_one_default_storage_class(storage_addon: str) -> None:
    classes = kubectl_json("get", "storageclasses")["items"]
    defaults = [
        c["metadata"]["name"]
        for c in classes
        if c["metadata"].get("annotations", {}).get("storageclass.kubernetes.io/is-default-class")
        == "true"
    ]
    assert defaults == [STORAGE_CLASS], defaults
    [local_path] = [c for c in classes if c["metadata"]["name"] == STORAGE_CLASS]
    assert local_path["provisioner"] == "rancher.io/local-path"
    assert local_path["volumeBindingMode"] == "WaitForFirstConsumer"
    assert local_path["reclaimPolicy"] == "Delete"
    config = kubectl_json("-n", ADDON_NAMESPACE, "get", "configmap", "local-path-config")
    paths = json.loads(config["data"]["config.json"])["nodePathMap"][0]["paths"]
    assert paths == [str(STORAGE_DIR)], paths


def test_the_provisioner_is_non_root_hardened_and_least_privileged(storage_addon: str) -> None:
    pod = running_pod(ADDON_NAMESPACE, PROVISIONER)
    security = pod["spec"]["securityContext"]
    assert security == {**NON_ROOT, "runAsUser": 65532, "runAsGroup": 65532}, security
    [container] = pod["spec"]["containers"]
    assert container["securityContext"] == HARDENED, container["securityContext"]
    assert (container["image"], container["imagePullPolicy"]) == (LOCAL_PATH_IMAGE, "Never")
    assert "limits" in container["resources"], container["resources"]
    [process] = process_status(b"local-path-provisioner", b"--helper-pod-file")
    assert_confined(process, 65532)

    # Its namespace is privileged (the helper pods' hostPath), yet the provisioner's own pod
    # would pass "restricted": the API server names every pod that would not.
    labels = kubectl_json("get", "namespace", ADDON_NAMESPACE)["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "privileged", labels
    dry_run = kubectl("label", "--dry-run=server", "--overwrite", "namespace", ADDON_NAMESPACE,
                      "pod-security.kubernetes.io/enforce=restricted")  # fmt: skip
    assert pod["metadata"]["name"] not in dry_run.stderr, dry_run.stderr

    # Least RBAC: its own namespace's pods, volumes; nothing secret, no one else's pods.
    def can(*args: str) -> bool:
        answer = kubectl("auth", "can-i", f"--as={SERVICE_ACCOUNT}", *args, check=False)
        return answer.stdout.strip() == "yes"

    assert can("create", "pods", "-n", ADDON_NAMESPACE)
    assert can("create", "persistentvolumes")
    assert not can("get", "pods", "-n", "default")
    assert not can("list", "secrets", "-n", ADDON_NAMESPACE)
    assert not can("get", "configmaps", "-n", ADDON_NAMESPACE)
    assert not can("update", "persistentvolumes")

    usage = kubectl("get", "--raw", f"/apis/metrics.k8s.io/v1beta1/namespaces/{ADDON_NAMESPACE}"
                    f"/pods/{pod['metadata']['name']}", check=False)  # fmt: skip
    if usage.returncode == 0:
        [used] = json.loads(usage.stdout)["containers"]
        print(f"\nthe provisioner's working set {used['usage']['memory']}, CPU "
              f"{used['usage']['cpu']}; resident {process['VmRSS']}")  # fmt: skip


# ---------------------------------------------------------------- end to end


def volume_pod(name: str, script: str) -> Object:
    """A pod of the "restricted" profile (uid and gid 10001, fsGroup 10001) that runs `script`
    in busybox's sh with the claim mounted at /data, then sleeps."""
    container = {
        "name": "shell",
        "image": BUSYBOX_IMAGE,
        "imagePullPolicy": "Never",
        "command": ["/bin/sh", "-c", f"{script} && exec sleep 3600"],
        "volumeMounts": [{"name": "data", "mountPath": "/data"}],
        "resources": {"requests": {"cpu": "5m", "memory": "8Mi"}, "limits": {"memory": "16Mi"}},
        "securityContext": HARDENED,
    }
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": NAMESPACE, "labels": {"app": "storage-check"}},
        "spec": {
            "securityContext": {**NON_ROOT, "runAsGroup": UID, "fsGroup": UID},
            # sleep, as PID 1, ignores SIGTERM.
            "terminationGracePeriodSeconds": 1,
            "containers": [container],
            "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": CLAIM}}],
        },
    }


def running(name: str) -> Object | None:
    pod: Object = kubectl_json("-n", NAMESPACE, "get", "pod", name)
    assert pod["status"].get("phase") not in ("Failed", "Succeeded"), pod["status"]
    return pod if pod["status"].get("phase") == "Running" else None


def logs(name: str) -> str:
    return kubectl("-n", NAMESPACE, "logs", name).stdout


def delete_pod(name: str) -> None:
    kubectl("-n", NAMESPACE, "delete", "pod", name, "--wait=true", timeout=60)


def read_back(name: str, text: str) -> None:
    """A new pod on the claim prints the file: the same text."""
    apply(volume_pod(name, "cat /data/own/file"))
    assert_restricted_pod(wait_until(lambda: running(name), 60, f"{name} running"), UID)
    wait_until(lambda: logs(name) == text + "\n", 20, f"{name} printing the file")


@dataclass
class Claim:
    text: str
    volume: str
    directory: Path


@pytest.fixture(scope="module")
def claim(storage_addon: str) -> Iterator[Claim]:
    """The claim (no class: the default) and a pod that wrote `text` into /data/own/file, deleted
    once it ran; the namespace is deleted at the end and the volume waited for to go."""
    SANDBOX.claim()
    text = f"written by uid {UID} at {time.time():.3f}"
    volume = ""
    try:
        apply(restricted_namespace(NAMESPACE))
        spec = {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": "16Mi"}},
        }
        pvc = {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": CLAIM, "namespace": NAMESPACE},
            "spec": spec,
        }
        script = f"mkdir /data/own && echo '{text}' > /data/own/file && cat /data/own/file"
        created = time.monotonic()
        apply(pvc, volume_pod("writer", script))
        wait_until(lambda: running("writer"), 90, "the writer pod running", 0.2)
        seconds = time.monotonic() - created
        bound = kubectl_json("-n", NAMESPACE, "get", "pvc", CLAIM)
        volume = bound["spec"]["volumeName"]
        print(f"\nclaim and pod created -> pod Running in {seconds:.1f}s (volume {volume})")
        assert seconds <= RUNNING_LIMIT, f"{seconds:.1f}s"
        assert bound["spec"]["storageClassName"] == STORAGE_CLASS, bound["spec"]
        assert bound["status"]["phase"] == "Bound", bound["status"]
        wait_until(lambda: logs("writer") == text + "\n", 20, "the writer's file written")
        pv = kubectl_json("get", "pv", volume)
        directory = Path(pv["spec"]["hostPath"]["path"])
        assert directory == STORAGE_DIR / f"{volume}_{NAMESPACE}_{CLAIM}", directory
        delete_pod("writer")
        yield Claim(text, volume, directory)
    finally:
        if namespace_exists(NAMESPACE):
            delete_namespace(NAMESPACE)
        if volume:
            wait_until(lambda: not kubectl("get", "pv", volume, "--ignore-not-found").stdout,
                       120, f"volume {volume} deleted")  # fmt: skip


def test_a_claims_data_outlives_its_pods(claim: Claim) -> None:
    # On the node: the claim's directory, writable by any uid (a hostPath volume gets no fsGroup
    # ownership), and what uid 10001 wrote there.
    info = claim.directory.stat()
    assert (stat.S_IMODE(info.st_mode), info.st_uid) == (0o777, 0), oct(info.st_mode)
    written = claim.directory / "own" / "file"
    assert written.read_text() == claim.text + "\n"
    assert (written.stat().st_uid, written.stat().st_gid) == (UID, UID)
    assert {p.name for p in STORAGE_DIR.iterdir()} >= {claim.directory.name}

    read_back("reader", claim.text)


def test_deleting_the_claim_deletes_its_volume_and_directory(claim: Claim) -> None:
    for pod in pods(NAMESPACE, "app=storage-check"):
        delete_pod(pod["metadata"]["name"])
    assert claim.directory.is_dir()
    started = time.monotonic()
    kubectl("-n", NAMESPACE, "delete", "pvc", CLAIM, "--wait=true", timeout=60)
    wait_until(lambda: not claim.directory.exists(), 60, f"{claim.directory} removed", 0.2)
    wait_until(lambda: not kubectl("get", "pv", claim.volume, "--ignore-not-found").stdout,
               30, f"volume {claim.volume} deleted")  # fmt: skip
    print(f"\nclaim deleted -> directory and volume gone in {time.monotonic() - started:.1f}s")
    # The helper pods are the provisioner's to delete once they have run.
    wait_until(lambda: not pods(ADDON_NAMESPACE, "app.kubernetes.io/name=local-path-helper"),
               30, "no helper pod left")  # fmt: skip
