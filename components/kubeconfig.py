"""A kubeconfig read as kubectl reads it: the files ($KUBECONFIG, ~/.kube/config), a context,
its cluster (address, TLS) and its user's credentials: client certificates, bearer tokens (inline
or a file), exec plugins (client.authentication.k8s.io, as EKS, GKE and AKS use) and basic
auth. Standard library, plus PyYAML (a dependency of pulumi)."""

from __future__ import annotations

import base64
import http.client
import json
import os
import ssl
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

EXEC_TIMEOUT_SECONDS = 60


class KubeAccessError(Exception):
    """The kubeconfig, its context or the API server cannot be used: one line that says why."""


Config = dict[str, Any]


def kubeconfig_files(path: str | None) -> list[Path]:
    """The files a kubeconfig is read from, as kubectl: `path`, else $KUBECONFIG (a list, the
    first file wins for each name), else ~/.kube/config."""
    if path:
        return [Path(path).expanduser()]
    listed = [Path(p) for p in os.environ.get("KUBECONFIG", "").split(os.pathsep) if p]
    return listed or [Path.home() / ".kube" / "config"]


def read_kubeconfig(files: list[Path]) -> tuple[Config, dict[str, Path]]:
    """The merged kubeconfig, and for each cluster and user name the file it came from (relative
    paths in it are relative to that file's folder)."""
    merged: Config = {"clusters": {}, "users": {}, "contexts": {}, "current-context": ""}
    origin: dict[str, Path] = {}
    for file in files:
        if not file.is_file():
            if len(files) == 1:
                raise KubeAccessError(f"kubeconfig {file}: no such file")
            continue
        try:
            document = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as error:
            raise KubeAccessError(f"kubeconfig {file}: unreadable ({one_line(error)})") from None
        if not isinstance(document, dict):
            raise KubeAccessError(f"kubeconfig {file}: not a kubeconfig (a mapping is expected)")
        merged["current-context"] = merged["current-context"] or document.get("current-context")
        for section, inner in (("clusters", "cluster"), ("users", "user"), ("contexts", "context")):
            for entry in document.get(section) or []:
                name = entry.get("name")
                if name and name not in merged[section]:
                    merged[section][name] = entry.get(inner) or {}
                    origin[f"{section}/{name}"] = file.parent
    return merged, origin


def one_line(error: BaseException | str) -> str:
    return " ".join(str(error).split())


@dataclass
class Credentials:
    """What proves who the client is: headers, and a client certificate (PEM bytes)."""

    headers: dict[str, str]
    certificate: bytes | None = None
    key: bytes | None = None
    expires: float | None = None
    """time.time() after which an exec plugin must be asked again."""


def file_or_data(entry: Config, name: str, base: Path) -> bytes | None:
    """`<name>-data` (base64) or the file `<name>` (relative to `base`) of a kubeconfig entry."""
    data = entry.get(f"{name}-data")
    if data:
        return base64.b64decode(data)
    path = entry.get(name)
    if path:
        return (base / Path(path).expanduser()).read_bytes()
    return None


def exec_credentials(spec: Config, server: str, base: Path) -> Credentials:
    """Runs a client-go exec credential plugin and reads its ExecCredential."""
    api_version = spec.get("apiVersion", "client.authentication.k8s.io/v1")
    command = str(spec.get("command", ""))
    if not command:
        raise KubeAccessError("kubeconfig user: exec has no command")
    if "/" in command and not Path(command).is_absolute():
        command = str(base / command)
    info = {
        "apiVersion": api_version,
        "kind": "ExecCredential",
        "spec": {"interactive": False, "cluster": {"server": server}},
    }
    env = {**os.environ, "KUBERNETES_EXEC_INFO": json.dumps(info)}
    env.update({item["name"]: item["value"] for item in spec.get("env") or []})
    try:
        done = subprocess.run(
            [command, *[str(arg) for arg in spec.get("args") or []]],
            env=env,
            capture_output=True,
            text=True,
            timeout=EXEC_TIMEOUT_SECONDS,
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise KubeAccessError(f"kubeconfig exec plugin {command}: {one_line(error)}") from None
    if done.returncode != 0:
        why = one_line(done.stderr or done.stdout)[:300]
        raise KubeAccessError(f"kubeconfig exec plugin {command} failed: {why}")
    try:
        status = json.loads(done.stdout)["status"]
    except (ValueError, KeyError, TypeError):
        raise KubeAccessError(f"kubeconfig exec plugin {command}: no ExecCredential") from None
    expires = None
    if status.get("expirationTimestamp"):
        expires = datetime.fromisoformat(status["expirationTimestamp"].replace("Z", "+00:00"))
    return Credentials(
        {"Authorization": f"Bearer {status['token']}"} if status.get("token") else {},
        status.get("clientCertificateData", "").encode() or None,
        status.get("clientKeyData", "").encode() or None,
        expires.timestamp() if expires else None,
    )


def static_credentials(user: Config, base: Path) -> Credentials:
    headers = {}
    token = user.get("token")
    if not token and user.get("tokenFile"):
        token = (base / Path(user["tokenFile"]).expanduser()).read_text().strip()
    if not token and (user.get("auth-provider") or {}).get("config", {}).get("id-token"):
        token = user["auth-provider"]["config"]["id-token"]  # OIDC, as kubectl sends it
    elif user.get("auth-provider") and not token:
        name = user["auth-provider"].get("name", "?")
        raise KubeAccessError(
            f"kubeconfig user: the auth-provider {name!r} is not supported (kubectl removed it; "
            "use its exec plugin, e.g. gke-gcloud-auth-plugin or kubelogin)"
        )
    if token:
        headers["Authorization"] = f"Bearer {token}"
    elif user.get("username"):
        pair = f"{user['username']}:{user.get('password', '')}".encode()
        headers["Authorization"] = f"Basic {base64.b64encode(pair).decode()}"
    return Credentials(
        headers,
        file_or_data(user, "client-certificate", base),
        file_or_data(user, "client-key", base),
    )


def tls_context(cluster: Config, base: Path, credentials: Credentials) -> ssl.SSLContext:
    if cluster.get("insecure-skip-tls-verify"):
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    else:
        authority = file_or_data(cluster, "certificate-authority", base)
        context = ssl.create_default_context(cadata=authority.decode() if authority else None)
    if credentials.certificate and credentials.key:
        # ssl loads a client certificate from files only: a private folder, gone at once.
        with tempfile.TemporaryDirectory(prefix="demo-orq-kube-") as folder:
            certificate, key = Path(folder, "client.crt"), Path(folder, "client.key")
            key.touch(mode=0o600)
            key.write_bytes(credentials.key)
            certificate.write_bytes(credentials.certificate)
            context.load_cert_chain(certificate, key)
    return context


class TlsConnection(http.client.HTTPSConnection):
    """HTTPS to `host` that checks the certificate for `server_name` (the kubeconfig's
    `tls-server-name`, else the host)."""

    def __init__(
        self, host: str, port: int, timeout: float, context: ssl.SSLContext, server_name: str
    ) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self.tls, self.server_name = context, server_name

    def connect(self) -> None:
        http.client.HTTPConnection.connect(self)
        self.sock = self.tls.wrap_socket(self.sock, server_hostname=self.server_name)
