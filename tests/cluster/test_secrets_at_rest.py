"""Secrets are encrypted at rest in etcd, and the API server writes an audit log:

- a Secret's bytes in etcd (read with etcdctl and the API server's etcd client certificate)
  start with `k8s:enc:<provider>:v1:<key>:` and hold none of its value, while a ConfigMap with
  the same value is there in plaintext (the read is the real one); every Secret in etcd is
  encrypted, those stored before the cluster encrypted included;
- reading the Secret through the API is in the audit log: a `get` by the kubeconfig's user, at
  Metadata, and the value is nowhere in the log;
- the encryption config (which holds the key) and the audit log are root's alone (0600);
- the API server runs with the flags.

Needs root (like the cluster) and etcdctl (Debian's etcd-client, installed by
cluster/install-packages.sh); its own namespace is orq-secrets-at-rest.
"""

from __future__ import annotations

import base64
import json
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from demo_orq.kube import Object, kubectl, kubectl_json, wait_until
from tests.cluster.helpers import apply, delete_namespace, etcdctl, lib_settings, stored
from tests.sandbox import SANDBOXES

pytestmark = pytest.mark.cluster

SANDBOX = SANDBOXES["secrets-at-rest"]
SETTINGS = lib_settings("STATE_DIR", "PKI", "CONF", "LOGS", "ETCD_CLIENT_PORT")
PKI = Path(SETTINGS["PKI"])
ENCRYPTION_CONFIG = PKI / "encryption-config.yaml"
AUDIT_POLICY = Path(SETTINGS["CONF"]) / "audit-policy.yaml"
AUDIT_LOG = Path(SETTINGS["LOGS"]) / "kube-apiserver-audit.log"
VALUE = secrets.token_hex(16)
"""This run's secret value: random, so that finding it anywhere means it leaked there."""


def leaks(data: bytes) -> list[str]:
    """The forms of VALUE found in `data`: as it is, and base64 (a Secret's `data`)."""
    forms = {"plaintext": VALUE.encode(), "base64": base64.b64encode(VALUE.encode())}
    return [name for name, form in forms.items() if form in data]


def encryption() -> tuple[str, str]:
    """The provider and the key that encrypt new writes: the config's first."""
    config = yaml.safe_load(ENCRYPTION_CONFIG.read_text(encoding="utf-8"))
    [resource] = config["resources"]
    assert resource["resources"] == ["secrets"]
    first, *_, last = resource["providers"]
    assert last == {"identity": {}}, "identity must be last: older plaintext stays readable"
    [(provider, settings)] = first.items()
    return provider, settings["keys"][0]["name"]


@pytest.fixture(scope="module")
def namespace(cluster_node: Object) -> Iterator[str]:
    """The sandbox's namespace with a Secret `at-rest` and a ConfigMap `at-rest`, both VALUE."""
    SANDBOX.claim()
    ns = SANDBOX.namespace
    kubectl("create", "namespace", ns)
    try:
        metadata = {"name": "at-rest", "namespace": ns}
        secret = {"apiVersion": "v1", "kind": "Secret", "metadata": metadata}
        config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata}
        apply({**secret, "stringData": {"value": VALUE}}, {**config_map, "data": {"value": VALUE}})
        yield ns
    finally:
        delete_namespace(ns)


def test_a_secret_is_encrypted_in_etcd_and_a_configmap_is_not(namespace: str) -> None:
    provider, key = encryption()
    secret = stored(f"/registry/secrets/{namespace}/at-rest")
    print(f"\nthe Secret in etcd starts with {secret[:32]!r} ({len(secret)} bytes)")
    assert secret.startswith(f"k8s:enc:{provider}:v1:{key}:".encode()), secret[:40]
    assert leaks(secret) == []
    # The same value in a ConfigMap (not encrypted) is there as it is: the read is the real one.
    assert "plaintext" in leaks(stored(f"/registry/configmaps/{namespace}/at-rest"))


def test_every_secret_in_etcd_is_encrypted(namespace: str) -> None:
    """Those stored before the cluster encrypted were rewritten (cluster/steps/09)."""
    listed = json.loads(etcdctl("get", "--prefix", "/registry/secrets/", "-w", "json"))
    values = {
        base64.b64decode(kv["key"]).decode(): base64.b64decode(kv["value"]) for kv in listed["kvs"]
    }
    assert f"/registry/secrets/{namespace}/at-rest" in values
    plain = [key for key, value in values.items() if not value.startswith(b"k8s:enc:")]
    assert plain == [], f"Secrets stored in plaintext: {plain}"


def test_reading_the_secret_is_in_the_audit_log_without_its_value(namespace: str) -> None:
    user = kubectl("auth", "whoami", "-o", "jsonpath={.status.userInfo.username}").stdout
    assert user, "the kubeconfig's user has no name"
    read = kubectl_json("-n", namespace, "get", "secret", "at-rest")
    assert base64.b64decode(read["data"]["value"]).decode() == VALUE
    wanted = ("get", "secrets", namespace, "at-rest", user, 200)

    def the_get() -> Object | None:
        """The audit log's event of that read (kubectl apply's own get, a 404, came before)."""
        for line in AUDIT_LOG.read_bytes().splitlines():
            if b'"at-rest"' in line:
                event: Object = json.loads(line)
                ref, status = event.get("objectRef", {}), event.get("responseStatus", {})
                found = (event["verb"], ref.get("resource"), ref.get("namespace"), ref.get("name"),
                         event["user"]["username"], status.get("code"))  # fmt: skip
                if found == wanted:
                    return event
        return None

    event = wait_until(the_get, 10, f"the audit log's get of secret {namespace}/at-rest by {user}")
    print(f"\naudit event: {json.dumps(event)[:600]}")
    assert event["level"] == "Metadata"
    assert event["stage"] == "ResponseComplete"
    assert "requestObject" not in event and "responseObject" not in event
    # Nor anywhere else: the Secret's and the ConfigMap's writes, reads and every other line.
    assert leaks(AUDIT_LOG.read_bytes()) == []
    rotated = [
        p for p in AUDIT_LOG.parent.glob("kube-apiserver-audit-*.log") if leaks(p.read_bytes())
    ]
    assert rotated == []


def mode_and_owner(path: Path) -> tuple[str, int]:
    status = path.stat()
    return oct(stat.S_IMODE(status.st_mode)), status.st_uid


@pytest.mark.parametrize("path", [ENCRYPTION_CONFIG, AUDIT_POLICY, AUDIT_LOG], ids=lambda p: p.name)
def test_the_key_and_the_audit_log_are_roots_alone(cluster_node: Object, path: Path) -> None:
    assert mode_and_owner(path) == ("0o600", 0), path


def test_the_api_server_runs_with_encryption_and_audit_flags(cluster_node: Object) -> None:
    pid = (Path(SETTINGS["STATE_DIR"]) / "run" / "kube-apiserver.pid").read_text().strip()
    command_line = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    flags = dict(arg.split("=", 1) for arg in command_line if arg.startswith("--") and "=" in arg)
    assert flags["--encryption-provider-config"] == str(ENCRYPTION_CONFIG)
    assert flags["--audit-policy-file"] == str(AUDIT_POLICY)
    assert flags["--audit-log-path"] == str(AUDIT_LOG)
    assert int(flags["--audit-log-maxsize"]) > 0 and int(flags["--audit-log-maxbackup"]) > 0
    # The policy never logs a body of what holds values: the first rules that can match such a
    # request say None or Metadata, up to one that matches every such request.
    policy = yaml.safe_load(AUDIT_POLICY.read_text(encoding="utf-8"))
    assert "RequestReceived" in policy["omitStages"]
    for resource in ("secrets", "configmaps", "serviceaccounts/token", "tokenreviews"):
        for rule in policy["rules"]:
            named = {r for group in rule.get("resources", []) for r in group.get("resources", [])}
            if "nonResourceURLs" in rule or (named and resource not in named):
                continue
            assert rule["level"] in ("None", "Metadata"), (resource, rule)
            if resource in named and not {"users", "userGroups", "verbs", "namespaces"} & set(rule):
                assert rule["level"] == "Metadata", (resource, rule)
                break
        else:
            raise AssertionError(f"no rule logs every request on {resource} at Metadata")
