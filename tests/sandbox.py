"""Sandboxes for tests and benchmarks: their own namespaces, node ports and Pulumi stacks, apart
from what a user deployed (the demo's namespace `demo`, node port 30080, the stack `dev`), and
throwaway copies of the project with their own local backend."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml
from pulumi import automation as auto

from demo_orq import facts
from demo_orq.kube import delete_namespace_now, namespace_exists
from demo_orq.settings import DEFAULT_STRATEGY, KEYS, STRATEGY_KEY
from demo_orq.stack_history import StackRef

PROGRAM_FILES = ("Pulumi.yaml", "__main__.py", "components", "demo_orq", "requirements.txt")


@dataclass(frozen=True)
class Sandbox:
    """Where one suite deploys: a namespace and a node port that nothing else uses."""

    namespace: str
    node_port: int
    preview_node_port: int | None = None
    """BlueGreen's preview Service, for the suites that deploy that strategy."""
    canary_node_port: int | None = None
    """Canary's Service of the canary pods, for the suites that deploy that strategy."""
    frontend_node_port: int | None = None
    """The frontend's Service, for the suites that deploy it."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.node_port}/"

    def node_ports(self) -> list[int]:
        ports = (self.node_port, self.preview_node_port, self.canary_node_port,
                 self.frontend_node_port)  # fmt: skip
        return [port for port in ports if port is not None]

    def manifest(self, message: str = facts.V1_MESSAGE) -> str:
        """The demo's kubectl manifest moved into this sandbox, with `message` as its text."""
        documents = list(yaml.safe_load_all(facts.DEMO_MANIFEST.read_text(encoding="utf-8")))
        for document in documents:
            if document["kind"] == "Namespace":
                document["metadata"]["name"] = self.namespace
            else:
                document["metadata"]["namespace"] = self.namespace
            if document["kind"] == "Service":
                document["spec"]["ports"][0]["nodePort"] = self.node_port
            if document["kind"] == "Deployment":
                container = document["spec"]["template"]["spec"]["containers"][0]
                container["args"][0] = f"-text={message}"
        return yaml.safe_dump_all(documents, allow_unicode=True, sort_keys=False)

    def claim(self) -> None:
        """Refuses to start when the namespace exists: it is not ours to change or delete."""
        if namespace_exists(self.namespace):
            raise AssertionError(
                f"namespace {self.namespace} already exists: it is not this run's, so it is left "
                f"alone. Delete it (kubectl delete namespace {self.namespace}) if it is a leftover."
            )


SANDBOXES: dict[str, Sandbox] = {
    "kubectl": Sandbox("orq-kubectl", 30280),
    "e2e": Sandbox("orq-e2e", 30180),
    "demo-command": Sandbox(
        "orq-demo-command", 30190, preview_node_port=30191, canary_node_port=30192
    ),
    "bench-pulumi": Sandbox("orq-bench-pulumi", 30380),
    "bench-kubectl": Sandbox("orq-bench-kubectl", 30381),
    "bench-helm": Sandbox("orq-bench-helm", 30382),
    # The benchmark's BlueGreen switch-back, each tool in a place of its own.
    "bench-pulumi-bg": Sandbox("orq-bench-pulumi-bg", 30383, preview_node_port=30384),
    "bench-kubectl-bg": Sandbox("orq-bench-kubectl-bg", 30385),
    "bench-helm-bg": Sandbox("orq-bench-helm-bg", 30387),
    "report": Sandbox("orq-report", 30480),
    "cluster-dns": Sandbox("orq-cluster-dns", 31000),
    "cluster-security": Sandbox("orq-cluster-security", 31020),
    "gateway-addon": Sandbox("orq-gw-addon", 31040),
    "vpa-addon": Sandbox("orq-vpa-addon", 31060),  # ClusterIP only: no node port used
    "prometheus-addon": Sandbox("orq-prom-addon", 31080),  # ClusterIP only: no node port used
    "secrets-at-rest": Sandbox("orq-secrets-at-rest", 31120),  # no Service: no node port used
    "storage-addon": Sandbox("orq-storage-addon", 31100),  # no Service: no node port used
    "network-policies-addon": Sandbox("orq-netpol-addon", 31140),  # ClusterIP only: no node port
    "autoscale": Sandbox("orq-autoscale", 30780),
    "strategies": Sandbox("orq-strategies", 30580, preview_node_port=30581, canary_node_port=30582),
    "strategies-cloud": Sandbox(
        "orq-strategies-cloud", 30590, preview_node_port=30591, canary_node_port=30592
    ),
    "gateway": Sandbox("orq-gateway", 30880, preview_node_port=30881, canary_node_port=30882),
    "prometheus": Sandbox("orq-prometheus", 30980, preview_node_port=30981, canary_node_port=30982),
    "config-jobs": Sandbox(
        "orq-config-jobs", 31180, preview_node_port=31181, canary_node_port=31182
    ),
    "isolation": Sandbox(
        "orq-isolation",
        31200,
        preview_node_port=31201,
        canary_node_port=31202,
        frontend_node_port=31203,
    ),
    # tests/faults and bench/rollouts: one place per module, so that they can run side by side.
    "faults": Sandbox("orq-faults", 30680),
    "faults-node": Sandbox("orq-faults-node", 30681),
    "faults-update": Sandbox("orq-faults-update", 30682),
    "faults-drift": Sandbox("orq-faults-drift", 30683),
    "faults-secret": Sandbox("orq-faults-secret", 30684),
    "faults-netpol": Sandbox("orq-faults-netpol", 30687),  # ClusterIP only: no node port used
    "bench-rollouts": Sandbox("orq-bench-rollouts", 30685),
    "bench-gate": Sandbox("orq-bench-gate", 30386),
}
"""Every suite's own place; a unit test checks they differ from each other and from the demo's."""


def cluster_location() -> dict[str, str]:
    """The `demo-orq:kubeconfig` and `demo-orq:context` of the dev stack (the local cluster),
    and nothing else of it: the dev stack's app settings are the user's, not the tests'."""
    stack_file = facts.PROJECT_DIR / "Pulumi.dev.yaml"
    stack_config = yaml.safe_load(stack_file.read_text(encoding="utf-8"))["config"]
    keys = (f"{facts.PROJECT}:kubeconfig", f"{facts.PROJECT}:context")
    return {key: str(stack_config[key]) for key in keys}


def node_port_config(sandbox: Sandbox, strategy: str) -> dict[str, str]:
    """The sandbox's node ports of the Services that `strategy` makes, by config key (without
    the project prefix): a stack refuses the keys of another strategy than its own."""
    ports = {
        "nodePort": sandbox.node_port,
        "previewNodePort": sandbox.preview_node_port,
        "canaryNodePort": sandbox.canary_node_port,
    }
    return {
        key: str(port)
        for key, port in ports.items()
        if port is not None and KEYS[key].applies_to(strategy)
    }


def sandbox_config(sandbox: Sandbox, strategy: str = DEFAULT_STRATEGY) -> dict[str, str]:
    """A stack config that deploys the demo into `sandbox` on the local cluster, with the
    strategy's node ports (set `strategy` too when it is not the default)."""
    ports = node_port_config(sandbox, strategy)
    return {
        **cluster_location(),
        f"{facts.PROJECT}:namespace": sandbox.namespace,
        **{f"{facts.PROJECT}:{key}": port for key, port in ports.items()},
    }


def require_pulumi_cli() -> str:
    """The pulumi executable on PATH; fails (never skips) with the fix when it is missing."""
    pulumi = shutil.which("pulumi")
    if pulumi is None:
        raise AssertionError(
            "pulumi is not on PATH: run toolchain/ensure.sh, then source toolchain/env.sh"
        )
    return pulumi


def demo_orq_command() -> str:
    """The project's command `demo-orq`, of the virtualenv the tests run in; fails (never skips)
    with the fix when the project is not installed there. It runs this project's code (an
    editable install) on the project of the folder it is run in, a copy's too."""
    command = Path(sys.executable).with_name("demo-orq")
    if not command.is_file():
        raise AssertionError(
            f"{command} is missing: run toolchain/ensure.sh (it installs the project's command)"
        )
    return str(command)


@dataclass
class ProjectCopy:
    """The program copied into `directory`, with the Pulumi state in `directory/.state`."""

    directory: Path

    @property
    def pulumi_env(self) -> dict[str, str]:
        """The settings that keep the copy's stacks and state apart from the user's."""
        return {
            "PULUMI_BACKEND_URL": f"file://{self.directory / '.state'}",
            "PULUMI_CONFIG_PASSPHRASE": os.environ.get("PULUMI_CONFIG_PASSPHRASE", facts.PROJECT),
            "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
            "PULUMI_SKIP_UPDATE_CHECK": "true",
        }

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, **self.pulumi_env}

    def pulumi(
        self, *args: str, check: bool = True, timeout: float = 600
    ) -> subprocess.CompletedProcess[str]:
        """Runs the real Pulumi CLI in the copy; output is captured as text."""
        completed = subprocess.run(
            [require_pulumi_cli(), "--non-interactive", *args],
            cwd=self.directory,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and completed.returncode != 0:
            raise AssertionError(
                f"pulumi {' '.join(args)} failed ({completed.returncode}):\n"
                f"{completed.stdout}\n{completed.stderr}"
            )
        return completed

    def new_stack(self, name: str, config: dict[str, str]) -> None:
        self.pulumi("stack", "init", name)
        for key, value in config.items():
            self.pulumi("config", "set", "--stack", name, key, "--", value)


def copy_project(destination: Path) -> ProjectCopy:
    """The program (not the stacks, not the state) copied to `destination`, sharing the venv."""
    destination.mkdir(parents=True, exist_ok=True)
    for name in PROGRAM_FILES:
        source = facts.PROJECT_DIR / name
        if source.is_dir():
            shutil.copytree(
                source, destination / name, ignore=shutil.ignore_patterns("__pycache__")
            )
        else:
            shutil.copy2(source, destination / name)
    (destination / "venv").symlink_to(facts.PROJECT_DIR / "venv")
    (destination / ".state").mkdir()
    return ProjectCopy(destination)


def new_sandbox_stack(
    project: ProjectCopy, name: str, sandbox: Sandbox, **config: str
) -> auto.Stack:
    """A new stack `name` of the project copy, deploying into `sandbox` (which it claims first)
    with the node ports of the strategy of `config` (keys without the project prefix), and
    `config` on top."""
    sandbox.claim()
    workspace = auto.LocalWorkspaceOptions(
        work_dir=str(project.directory), env_vars=project.pulumi_env
    )
    stack = auto.create_stack(name, work_dir=str(project.directory), opts=workspace)
    location = sandbox_config(sandbox, config.get(STRATEGY_KEY, DEFAULT_STRATEGY))
    values = {**location, **{f"{facts.PROJECT}:{k}": v for k, v in config.items()}}
    stack.set_all_config({key: auto.ConfigValue(value) for key, value in values.items()})
    return stack


def stack_ref(stack: auto.Stack) -> StackRef:
    """The automation API's stack as the commands' functions take it (demo_orq.rollback): its
    name, its project folder and its workspace's environment (the copy's own backend)."""
    workspace = stack.workspace
    assert isinstance(workspace, auto.LocalWorkspace)
    return StackRef(stack.name, Path(workspace.work_dir), {**os.environ, **workspace.env_vars})


@contextlib.contextmanager
def sandbox_stack(
    project: ProjectCopy, name: str, sandbox: Sandbox, **config: str
) -> Iterator[auto.Stack]:
    """`new_sandbox_stack`, destroyed and removed afterwards, also when a test failed half-way."""
    stack = new_sandbox_stack(project, name, sandbox, **config)
    try:
        yield stack
    finally:
        if (stack.export_stack().deployment or {}).get("resources"):
            delete_namespace_now(sandbox.namespace)
            destroy(stack)
        stack.workspace.remove_stack(stack.name)


def destroy(stack: auto.Stack, attempts: int = 3) -> None:
    """Destroys the stack, retrying while the cluster is briefly unreachable (a restart)."""
    for attempt in range(1, attempts + 1):
        try:
            stack.destroy(on_output=print)
            return
        except auto.CommandError:
            if attempt == attempts:
                raise
            time.sleep(20)
