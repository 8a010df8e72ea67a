"""The two ways to run the demo, driven the same way: Pulumi (a throwaway stack of the program)
and kubectl (the seed manifest, as the demo is run by hand)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Protocol

from tests.support.kube import kubectl, wait_until
from tests.support.project import LOCAL_CLUSTER_CONFIG, ProjectCopy, copy_project

NAMESPACE, DEPLOYMENT, REPLICAS = "demo", "hello-api", 3
SEED_MANIFEST = Path(__file__).resolve().parents[2] / "shared" / "seed" / "demo.yaml"
V1 = "Hola desde Kubernetes 👋"
V2 = "Hola desde K8s v2 🚀"
URL = "http://127.0.0.1:30080/"


class Tool(Protocol):
    name: str
    deploy_command: str
    rollout_command: str
    no_change_command: str

    def deploy(self) -> None: ...
    def prepare(self, message: str) -> None:
        """What precedes a rollout to `message` and is not timed (writing config or a file)."""
    def roll_out(self) -> None: ...
    def check_no_change(self) -> None: ...
    def tear_down(self) -> None:
        """Removes all it deployed; safe to call when nothing is deployed."""
    def close(self) -> None: ...


def namespace_exists(namespace: str = NAMESPACE) -> bool:
    return kubectl("get", "namespace", namespace, check=False).returncode == 0


def delete_namespace(namespace: str = NAMESPACE) -> None:
    """Starts deleting the namespace, and with it all inside, if it exists."""
    kubectl("delete", "namespace", namespace, "--ignore-not-found", "--wait=false")


def wait_namespace_gone(namespace: str = NAMESPACE, timeout: float = 300) -> None:
    wait_until(lambda: not namespace_exists(namespace), timeout, f"namespace {namespace} to be gone")


def rollout_status() -> None:
    kubectl("-n", NAMESPACE, "rollout", "status", f"deployment/{DEPLOYMENT}", "--timeout=300s", timeout=320)


class KubectlDemo:
    """`kubectl apply -f demo.yaml` + `kubectl rollout status`, as the demo is run by hand."""

    name = "kubectl"
    deploy_command = "kubectl apply + rollout status"
    rollout_command = "kubectl apply + rollout status"
    no_change_command = "kubectl diff"

    def __init__(self) -> None:
        self._directory = tempfile.TemporaryDirectory(prefix="bench-kubectl-")
        self.manifest = SEED_MANIFEST

    def manifest_for(self, message: str) -> Path:
        """The seed manifest with only the message changed (the seed itself for v1)."""
        if message == V1:
            return SEED_MANIFEST
        changed = SEED_MANIFEST.read_text(encoding="utf-8").replace(f"-text={V1}", f"-text={message}")
        path = Path(self._directory.name) / "demo-changed.yaml"
        path.write_text(changed, encoding="utf-8")
        return path

    def deploy(self) -> None:
        self.manifest = SEED_MANIFEST
        kubectl("apply", "-f", str(self.manifest))
        rollout_status()

    def prepare(self, message: str) -> None:
        self.manifest = self.manifest_for(message)

    def roll_out(self) -> None:
        kubectl("apply", "-f", str(self.manifest))
        rollout_status()

    def check_no_change(self) -> None:
        diff = kubectl("diff", "-f", str(self.manifest), check=False)
        if diff.returncode != 0:
            raise AssertionError(f"kubectl diff found changes or failed ({diff.returncode}):\n"
                                 f"{diff.stdout}{diff.stderr}")

    def tear_down(self) -> None:
        delete_namespace()
        wait_namespace_gone()

    def close(self) -> None:
        self._directory.cleanup()


class PulumiDemo:
    """The program on a throwaway stack of its own backend: `pulumi up` after a config change, as
    scripts/demo.sh runs it (--skip-preview, as the automation API also does)."""

    name = "pulumi"
    deploy_command = "pulumi up"
    rollout_command = "pulumi up"
    no_change_command = "pulumi preview"
    stack = "bench"

    def __init__(self) -> None:
        self._directory = tempfile.TemporaryDirectory(prefix="bench-pulumi-")
        self.project: ProjectCopy = copy_project(Path(self._directory.name) / "project")
        self.project.new_stack(self.stack, LOCAL_CLUSTER_CONFIG)

    def up(self) -> None:
        self.project.pulumi("up", "--yes", "--skip-preview", "--stack", self.stack)

    def deploy(self) -> None:
        self.prepare(V1)
        self.up()

    def prepare(self, message: str) -> None:
        if message == V1:
            # Without the key the program deploys its default message, the demo's v1.
            self.project.pulumi("config", "rm", "--stack", self.stack, "demo-orq:message", check=False)
        else:
            self.project.pulumi("config", "set", "--stack", self.stack, "demo-orq:message", "--", message)

    def roll_out(self) -> None:
        self.up()

    def check_no_change(self) -> None:
        self.project.pulumi("preview", "--expect-no-changes", "--stack", self.stack)

    def tear_down(self) -> None:
        self.project.pulumi("destroy", "--yes", "--skip-preview", "--stack", self.stack)
        wait_namespace_gone()

    def close(self) -> None:
        try:
            self.tear_down()
            self.project.pulumi("stack", "rm", "--yes", self.stack)
        except BaseException:
            # The stack's state goes with the directory: leave no object of it behind either.
            delete_namespace()
            raise
        finally:
            self._directory.cleanup()
