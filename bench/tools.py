"""The two ways to run the demo, driven the same way: Pulumi (a throwaway stack of the program)
and kubectl (the demo's manifest, as the demo is run by hand). Each deploys into its own sandbox
(namespace and node port), never into the user's `demo`."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Protocol

from demo_orq import facts
from demo_orq.kube import kubectl, namespace_exists, wait_until
from demo_orq.sandbox import SANDBOXES, ProjectCopy, Sandbox, copy_project, sandbox_config

REPLICAS = facts.REPLICAS
V1, V2 = facts.V1_MESSAGE, facts.V2_MESSAGE


class Tool(Protocol):
    name: str
    sandbox: Sandbox
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


def delete_namespace(namespace: str) -> None:
    """Starts deleting the namespace, and with it all inside, if it exists."""
    kubectl("delete", "namespace", namespace, "--ignore-not-found", "--wait=false")


def wait_namespace_gone(namespace: str, timeout: float = 300) -> None:
    wait_until(
        lambda: not namespace_exists(namespace), timeout, f"namespace {namespace} to be gone"
    )


class KubectlDemo:
    """`kubectl apply -f demo.yaml` + `kubectl rollout status`, as the demo is run by hand."""

    name = "kubectl"
    deploy_command = "kubectl apply + rollout status"
    rollout_command = "kubectl apply + rollout status"
    no_change_command = "kubectl diff"
    sandbox = SANDBOXES["bench-kubectl"]

    def __init__(self) -> None:
        self._directory = tempfile.TemporaryDirectory(prefix="bench-kubectl-")
        self.manifest = self.manifest_for(V1)

    def manifest_for(self, message: str) -> Path:
        """The demo's manifest in the benchmark's sandbox, with only the message changed."""
        path = Path(self._directory.name) / f"demo-{len(message)}-{abs(hash(message))}.yaml"
        path.write_text(self.sandbox.manifest(message), encoding="utf-8")
        return path

    def rollout_status(self) -> None:
        kubectl(
            "-n",
            self.sandbox.namespace,
            "rollout",
            "status",
            f"deployment/{facts.DEPLOYMENT}",
            "--timeout=300s",
            timeout=320,
        )

    def deploy(self) -> None:
        self.manifest = self.manifest_for(V1)
        kubectl("apply", "-f", str(self.manifest))
        self.rollout_status()

    def prepare(self, message: str) -> None:
        self.manifest = self.manifest_for(message)

    def roll_out(self) -> None:
        kubectl("apply", "-f", str(self.manifest))
        self.rollout_status()

    def check_no_change(self) -> None:
        diff = kubectl("diff", "-f", str(self.manifest), check=False)
        if diff.returncode != 0:
            raise AssertionError(
                f"kubectl diff found changes or failed ({diff.returncode}):\n"
                f"{diff.stdout}{diff.stderr}"
            )

    def tear_down(self) -> None:
        delete_namespace(self.sandbox.namespace)
        wait_namespace_gone(self.sandbox.namespace)

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
    sandbox = SANDBOXES["bench-pulumi"]

    def __init__(self) -> None:
        self._directory = tempfile.TemporaryDirectory(prefix="bench-pulumi-")
        self.project: ProjectCopy = copy_project(Path(self._directory.name) / "project")
        self.project.new_stack(self.stack, sandbox_config(self.sandbox))

    def up(self) -> None:
        self.project.pulumi("up", "--yes", "--skip-preview", "--stack", self.stack)

    def deploy(self) -> None:
        self.prepare(V1)
        self.up()

    def prepare(self, message: str) -> None:
        self.project.pulumi(
            "config", "set", "--stack", self.stack, f"{facts.PROJECT}:message", "--", message
        )

    def roll_out(self) -> None:
        self.up()

    def check_no_change(self) -> None:
        self.project.pulumi("preview", "--expect-no-changes", "--stack", self.stack)

    def tear_down(self) -> None:
        self.project.pulumi("destroy", "--yes", "--skip-preview", "--stack", self.stack)
        wait_namespace_gone(self.sandbox.namespace)

    def close(self) -> None:
        try:
            self.tear_down()
            self.project.pulumi("stack", "rm", "--yes", self.stack)
        except BaseException:
            # The stack's state goes with the directory: leave no object of it behind either.
            delete_namespace(self.sandbox.namespace)
            raise
        finally:
            self._directory.cleanup()
