"""The three ways to run the demo, driven the same way: Pulumi (a throwaway stack of the program),
kubectl (the demo's manifest, as the demo is run by hand) and Helm (the same manifest as a chart,
bench/chart). Each deploys into its own sandbox (namespace and node port), never into `demo`.

Each tool knows how to get to a version (message, replicas) and the operations of the demo:
deploy, upgrade and scale (`apply` after `prepare`), a no-change check, a rollback to the previous
version and an uninstall. `prepare` writes files or config and is not timed.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any, ClassVar, Protocol

import yaml

from demo_orq import facts
from demo_orq.kube import kubectl, namespace_exists, wait_until
from tests.sandbox import (
    SANDBOXES,
    ProjectCopy,
    Sandbox,
    copy_project,
    demo_orq_command,
    sandbox_config,
)

REPLICAS, SCALED = facts.REPLICAS, facts.SCALED_REPLICAS
V1, V2 = facts.V1_MESSAGE, facts.V2_MESSAGE
CHART = Path(__file__).resolve().parent / "chart"
TIMEOUT_SECONDS = 300


class Tool(Protocol):
    name: str
    sandbox: Sandbox
    commands: ClassVar[dict[str, str]]
    """What each operation runs, as a user would type it (shown in the table's notes)."""

    def namespaces(self) -> list[str]:
        """Every namespace it creates (the benchmark refuses to start if one exists)."""

    def prepare(self, message: str, replicas: int) -> None: ...
    def apply(self) -> None:
        """Deploy or update to the prepared version, and wait until it is ready."""

    def scale(self) -> None:
        """Change to the prepared replica count, the tool's usual way."""

    def check_no_change(self) -> None: ...
    def rollback(self) -> None:
        """Back to the version before the last change, and wait until it is ready."""

    def uninstall(self) -> None:
        """Remove everything, and wait until it is gone."""

    def clean_up(self) -> None:
        """Removes whatever is left (after a failure too); not timed."""

    def close(self) -> None: ...


def delete_namespace(namespace: str) -> None:
    """Starts deleting the namespace, and with it all inside, if it exists."""
    kubectl("delete", "namespace", namespace, "--ignore-not-found", "--wait=false")


def wait_namespace_gone(namespace: str, timeout: float = 300) -> None:
    wait_until(
        lambda: not namespace_exists(namespace), timeout, f"namespace {namespace} to be gone"
    )


def demo_objects(sandbox: Sandbox, message: str, replicas: int) -> list[dict[str, Any]]:
    """The demo's manifest in `sandbox`, with `message` and `replicas`."""
    documents: list[dict[str, Any]] = list(yaml.safe_load_all(sandbox.manifest(message)))
    for document in documents:
        if document["kind"] == "Deployment":
            document["spec"]["replicas"] = replicas
    return documents


def run(command: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> str:
    """Runs a tool's command; fails with its output."""
    completed = subprocess.run(
        command,
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=TIMEOUT_SECONDS + 60,
    )
    if completed.returncode != 0:
        raise AssertionError(
            f"{' '.join(command)} failed ({completed.returncode}):\n"
            f"{completed.stdout}\n{completed.stderr}"
        )
    return completed.stdout


class KubectlDemo:
    """The demo by hand: `kubectl apply -f demo.yaml` + `kubectl rollout status`, `kubectl
    scale`, `kubectl diff`, `kubectl rollout undo`, `kubectl delete -f demo.yaml`."""

    name = "kubectl"
    sandbox = SANDBOXES["bench-kubectl"]
    commands: ClassVar[dict[str, str]] = {
        "apply": "kubectl apply -f + rollout status",
        "scale": "kubectl scale + rollout status",
        "no-change": "kubectl diff -f",
        "rollback": "kubectl rollout undo + rollout status",
        "uninstall": "kubectl delete -f (waits)",
    }

    def __init__(self) -> None:
        self._directory = tempfile.TemporaryDirectory(prefix="bench-kubectl-")
        self.replicas = REPLICAS
        self.manifest = self.manifest_for(V1, REPLICAS)

    def namespaces(self) -> list[str]:
        return [self.sandbox.namespace]

    def manifest_for(self, message: str, replicas: int) -> Path:
        path = Path(self._directory.name) / f"demo-{abs(hash((message, replicas)))}.yaml"
        documents = demo_objects(self.sandbox, message, replicas)
        path.write_text(yaml.safe_dump_all(documents, allow_unicode=True), encoding="utf-8")
        return path

    def rollout_status(self) -> None:
        kubectl(
            "-n",
            self.sandbox.namespace,
            "rollout",
            "status",
            f"deployment/{facts.DEPLOYMENT}",
            f"--timeout={TIMEOUT_SECONDS}s",
            timeout=TIMEOUT_SECONDS + 20,
        )

    def prepare(self, message: str, replicas: int) -> None:
        self.manifest = self.manifest_for(message, replicas)
        self.replicas = replicas

    def apply(self) -> None:
        kubectl("apply", "-f", str(self.manifest))
        self.rollout_status()

    def scale(self) -> None:
        kubectl(
            "-n",
            self.sandbox.namespace,
            "scale",
            f"deployment/{facts.DEPLOYMENT}",
            f"--replicas={self.replicas}",
        )
        self.rollout_status()

    def check_no_change(self) -> None:
        diff = kubectl("diff", "-f", str(self.manifest), check=False)
        if diff.returncode != 0:
            raise AssertionError(
                f"kubectl diff found changes or failed ({diff.returncode}):\n"
                f"{diff.stdout}{diff.stderr}"
            )

    def rollback(self) -> None:
        kubectl("-n", self.sandbox.namespace, "rollout", "undo", f"deployment/{facts.DEPLOYMENT}")
        self.rollout_status()

    def uninstall(self) -> None:
        kubectl("delete", "-f", str(self.manifest), timeout=TIMEOUT_SECONDS)

    def clean_up(self) -> None:
        delete_namespace(self.sandbox.namespace)
        wait_namespace_gone(self.sandbox.namespace)

    def close(self) -> None:
        self._directory.cleanup()


class HelmDemo:
    """The chart bench/chart (the demo's manifest, values for namespace, node port, message and
    replicas): `helm upgrade --install --wait`, `helm rollback --wait`, `helm uninstall --wait`.

    The chart makes the namespace itself, so Helm keeps its release records in a namespace of
    their own, which `--create-namespace` makes on the first install (not part of the release,
    so uninstall leaves it: the benchmark deletes it, untimed). Helm's own settings live in a
    throwaway directory (no user repositories or plugins)."""

    name = "helm"
    sandbox = SANDBOXES["bench-helm"]
    release = "hello"
    commands: ClassVar[dict[str, str]] = {
        "apply": "helm upgrade --install --wait",
        "scale": "helm upgrade --install --wait",
        "no-change": "helm upgrade --dry-run=server",
        "rollback": "helm rollback --wait",
        "uninstall": "helm uninstall --wait",
    }

    def __init__(self) -> None:
        self._directory = tempfile.TemporaryDirectory(prefix="bench-helm-")
        home = Path(self._directory.name)
        self.env = {
            **os.environ,
            "HELM_CONFIG_HOME": str(home / "config"),
            "HELM_CACHE_HOME": str(home / "cache"),
            "HELM_DATA_HOME": str(home / "data"),
            "HELM_DRIVER": "secret",
        }
        self.values = self.values_for(V1, REPLICAS)
        self.check_chart_is_the_manifest()

    @property
    def release_namespace(self) -> str:
        return f"{self.sandbox.namespace}-releases"

    def namespaces(self) -> list[str]:
        return [self.sandbox.namespace, self.release_namespace]

    def values_for(self, message: str, replicas: int) -> Path:
        path = Path(self._directory.name) / f"values-{abs(hash((message, replicas)))}.yaml"
        values = {
            "namespace": self.sandbox.namespace,
            "nodePort": self.sandbox.node_port,
            "message": message,
            "replicas": replicas,
        }
        path.write_text(json.dumps(values, ensure_ascii=False), encoding="utf-8")
        return path

    def helm(self, *args: str) -> str:
        return run(["helm", *args, "--namespace", self.release_namespace], env=self.env)

    def check_chart_is_the_manifest(self) -> None:
        """The chart must render exactly the demo's objects, or the comparison is not fair."""
        template = self.helm("template", self.release, str(CHART), "-f", str(self.values))
        rendered = list(yaml.safe_load_all(template))
        rendered = [document for document in rendered if document]
        wanted = demo_objects(self.sandbox, V1, REPLICAS)

        def by_kind(documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return sorted(documents, key=lambda document: str(document["kind"]))

        if by_kind(rendered) != by_kind(wanted):
            raise SystemExit(
                f"bench/chart does not render the demo's manifest:\n{yaml.safe_dump(rendered)}\n"
                f"wanted:\n{yaml.safe_dump(wanted)}"
            )

    def upgrade(self, *extra: str) -> str:
        return self.helm(
            "upgrade",
            "--install",
            self.release,
            str(CHART),
            "-f",
            str(self.values),
            "--create-namespace",
            *extra,
        )

    def prepare(self, message: str, replicas: int) -> None:
        self.values = self.values_for(message, replicas)

    def apply(self) -> None:
        self.upgrade("--wait", f"--timeout={TIMEOUT_SECONDS}s")

    def scale(self) -> None:
        self.apply()

    def check_no_change(self) -> None:
        """A server dry-run of the upgrade (there is no helm-diff plugin): it renders the chart
        and checks it against the cluster's API; the rendered manifest must be the release's."""
        planned = json.loads(self.upgrade("--dry-run=server", "--output=json"))["manifest"]
        deployed = self.helm("get", "manifest", self.release)
        if planned.strip() != deployed.strip():
            raise AssertionError(f"helm dry-run would change the release:\n{planned}")

    def rollback(self) -> None:
        self.helm("rollback", self.release, "--wait", f"--timeout={TIMEOUT_SECONDS}s")

    def uninstall(self) -> None:
        self.helm("uninstall", self.release, "--wait", f"--timeout={TIMEOUT_SECONDS}s")

    def clean_up(self) -> None:
        for namespace in self.namespaces():
            delete_namespace(namespace)
        for namespace in self.namespaces():
            wait_namespace_gone(namespace)

    def close(self) -> None:
        self._directory.cleanup()


PINNED_CONFIG = {
    "message": V1,
    "replicas": str(REPLICAS),
    "strategy": "RollingUpdate",
    "maxSurge": "1",
    "maxUnavailable": "1",
    "image": facts.IMAGE,
    "deploymentName": facts.DEPLOYMENT,
    "serviceName": facts.SERVICE,
    "rolloutTimeout": str(TIMEOUT_SECONDS),
}
"""Every setting that shapes what the benchmark deploys, set on its own stack: nothing comes
from the dev stack or from defaults that may change."""


class PulumiDemo:
    """The program on a throwaway stack of its own backend: `pulumi up` after a config change, as
    scripts/demo.sh runs it (--skip-preview, as the automation API also does); the project's
    own rollback command; `pulumi preview --expect-no-changes`; `pulumi destroy`."""

    name = "pulumi"
    sandbox = SANDBOXES["bench-pulumi"]
    stack = "bench"
    commands: ClassVar[dict[str, str]] = {
        "apply": "pulumi up --skip-preview",
        "scale": "pulumi up --skip-preview",
        "no-change": "pulumi preview --expect-no-changes",
        "rollback": "demo-orq rollback",
        "uninstall": "pulumi destroy --skip-preview",
    }

    def __init__(self) -> None:
        self._directory = tempfile.TemporaryDirectory(prefix="bench-pulumi-")
        self.project: ProjectCopy = copy_project(Path(self._directory.name) / "project")
        self.project.new_stack(
            self.stack,
            {
                **sandbox_config(self.sandbox),
                **{f"{facts.PROJECT}:{key}": value for key, value in PINNED_CONFIG.items()},
            },
        )
        self.version = (V1, REPLICAS)

    def namespaces(self) -> list[str]:
        return [self.sandbox.namespace]

    def config_set(self, key: str, value: str) -> None:
        self.project.pulumi(
            "config", "set", "--stack", self.stack, f"{facts.PROJECT}:{key}", "--", value
        )

    def prepare(self, message: str, replicas: int) -> None:
        # The rollback command may have rewritten the config: set both, always.
        self.config_set("message", message)
        self.config_set("replicas", str(replicas))

    def apply(self) -> None:
        self.project.pulumi(
            "up", "--yes", "--skip-preview", "--stack", self.stack, timeout=TIMEOUT_SECONDS + 60
        )

    def scale(self) -> None:
        self.apply()

    def check_no_change(self) -> None:
        self.project.pulumi("preview", "--expect-no-changes", "--stack", self.stack)

    def rollback(self) -> None:
        command = [demo_orq_command(), "rollback", "--stack", self.stack]
        run(
            [*command, "--work-dir", str(self.project.directory)],
            env=self.project.env,
            cwd=self.project.directory,
        )

    def uninstall(self) -> None:
        self.project.pulumi(
            "destroy", "--yes", "--skip-preview", "--stack", self.stack,
            timeout=TIMEOUT_SECONDS + 60,
        )  # fmt: skip

    def clean_up(self) -> None:
        self.project.pulumi(
            "destroy", "--yes", "--skip-preview", "--stack", self.stack, check=False
        )
        delete_namespace(self.sandbox.namespace)
        wait_namespace_gone(self.sandbox.namespace)

    def close(self) -> None:
        try:
            self.project.pulumi("stack", "rm", "--yes", "--force", self.stack, check=False)
        finally:
            self._directory.cleanup()


def make_tools() -> list[Tool]:
    return [PulumiDemo(), KubectlDemo(), HelmDemo()]
