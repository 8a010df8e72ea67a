"""The three ways to run the demo, driven the same way: Pulumi (a throwaway stack of the program),
kubectl (the demo's manifest, as the demo is run by hand) and Helm (the same manifest as a chart,
bench/chart). Each deploys into its own sandbox (namespace and node port), never into `demo`.

Each tool knows how to get to a version (message, replicas) and the operations of the demo:
deploy, upgrade and scale (`apply` after `prepare`), a no-change check, a rollback to the previous
version and an uninstall. `prepare` writes files or config and is not timed.

And BlueGreen's switch back, in a second sandbox of each tool: two Deployments (blue v1, green v2,
both Ready) and the Service, which selected blue, then green (`set_up_blue_green`, not timed), and
is switched back to blue (`switch_back`, timed); `remove_blue_green` removes it all, not timed.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any, ClassVar, Protocol

import yaml

from components.names import COLORS
from demo_orq import facts
from demo_orq.kube import delete_namespace_now, kubectl, namespace_exists, wait_until
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
SWITCHED_FROM, SWITCHED_TO = "green", "blue"
"""The switch back: blue was live, then green; the operation makes blue live again."""
COLOR_MESSAGES = {"blue": V1, "green": V2}


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

    blue_green: Sandbox
    """Where the BlueGreen switch back runs."""

    def set_up_blue_green(self) -> None:
        """Both colors deployed and Ready, the Service switched from blue to green, and the
        switch back prepared (config, values); not timed."""

    def switch_back(self) -> None:
        """The Service back to blue, the tool's way."""

    def remove_blue_green(self) -> None:
        """Removes the BlueGreen sandbox, and waits until it is gone; not timed."""

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


def blue_green_selector(color: str) -> dict[str, str]:
    """The pods of one color: the Service's selector when that color is live."""
    return {"app": facts.DEPLOYMENT, "color": color}


def blue_green_objects(sandbox: Sandbox, live: str) -> list[dict[str, Any]]:
    """The demo's manifest in `sandbox` as BlueGreen, as the program makes it: its Deployment
    once per color (`hello-api-blue` answering v1, `-green` v2; pods labelled app and color),
    the Service selecting the `live` color's pods."""
    documents: list[dict[str, Any]] = []
    for document in demo_objects(sandbox, V1, REPLICAS):
        if document["kind"] == "Service":
            document["spec"]["selector"] = blue_green_selector(live)
        if document["kind"] != "Deployment":
            documents.append(document)
            continue
        for color in COLORS:
            deployment = copy.deepcopy(document)
            deployment["metadata"]["name"] = f"{facts.DEPLOYMENT}-{color}"
            deployment["spec"]["selector"]["matchLabels"] = blue_green_selector(color)
            deployment["spec"]["template"]["metadata"]["labels"] = blue_green_selector(color)
            container = deployment["spec"]["template"]["spec"]["containers"][0]
            container["args"][0] = f"-text={COLOR_MESSAGES[color]}"
            documents.append(deployment)
    return documents


def sorted_objects(documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """By kind, then name: the order of a manifest's objects does not matter."""
    return sorted(documents, key=lambda document: (document["kind"], document["metadata"]["name"]))


def remove_sandbox(namespaces: list[str]) -> None:
    """Deletes the namespaces (their pods at once, without their graceful stop) and waits until
    they are gone."""
    for namespace in namespaces:
        delete_namespace_now(namespace)
    for namespace in namespaces:
        wait_namespace_gone(namespace)


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
    scale`, `kubectl diff`, `kubectl rollout undo`, `kubectl delete -f demo.yaml`; BlueGreen as
    two Deployments and a Service whose selector `kubectl patch` switches."""

    name = "kubectl"
    sandbox = SANDBOXES["bench-kubectl"]
    blue_green = SANDBOXES["bench-kubectl-bg"]
    commands: ClassVar[dict[str, str]] = {
        "apply": "kubectl apply -f + rollout status",
        "scale": "kubectl scale + rollout status",
        "no-change": "kubectl diff -f",
        "rollback": "kubectl rollout undo + rollout status",
        "uninstall": "kubectl delete -f (waits)",
        "switch-back": 'kubectl patch service -p \'{"spec":{"selector":...}}\'',
    }

    def __init__(self) -> None:
        self._directory = tempfile.TemporaryDirectory(prefix="bench-kubectl-")
        self.replicas = REPLICAS
        self.manifest = self.manifest_for(V1, REPLICAS)

    def namespaces(self) -> list[str]:
        return [self.sandbox.namespace, self.blue_green.namespace]

    def manifest_for(self, message: str, replicas: int) -> Path:
        path = Path(self._directory.name) / f"demo-{abs(hash((message, replicas)))}.yaml"
        documents = demo_objects(self.sandbox, message, replicas)
        path.write_text(yaml.safe_dump_all(documents, allow_unicode=True), encoding="utf-8")
        return path

    def rollout_status(self, namespace: str = "", deployment: str = facts.DEPLOYMENT) -> None:
        kubectl(
            "-n",
            namespace or self.sandbox.namespace,
            "rollout",
            "status",
            f"deployment/{deployment}",
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

    def set_up_blue_green(self) -> None:
        path = Path(self._directory.name) / "blue-green.yaml"
        documents = blue_green_objects(self.blue_green, "blue")
        path.write_text(yaml.safe_dump_all(documents, allow_unicode=True), encoding="utf-8")
        kubectl("apply", "-f", str(path))
        for color in COLORS:
            self.rollout_status(self.blue_green.namespace, f"{facts.DEPLOYMENT}-{color}")
        self.select(SWITCHED_FROM)

    def select(self, color: str) -> None:
        patch = {"spec": {"selector": blue_green_selector(color)}}
        kubectl(
            "-n", self.blue_green.namespace, "patch", "service", facts.SERVICE,
            "-p", json.dumps(patch),
        )  # fmt: skip

    def switch_back(self) -> None:
        self.select(SWITCHED_TO)

    def remove_blue_green(self) -> None:
        remove_sandbox([self.blue_green.namespace])

    def clean_up(self) -> None:
        delete_namespace(self.sandbox.namespace)
        wait_namespace_gone(self.sandbox.namespace)
        self.remove_blue_green()

    def close(self) -> None:
        self._directory.cleanup()


class HelmDemo:
    """The chart bench/chart (the demo's manifest, values for namespace, node port, message and
    replicas): `helm upgrade --install --wait`, `helm rollback --wait`, `helm uninstall --wait`.
    BlueGreen is the chart's value `blueGreen` (the Deployment once per color), the live color
    its value `liveColor`, switched by `helm upgrade --install --wait`.

    The chart makes the namespace itself, so Helm keeps its release records in a namespace of
    their own, which `--create-namespace` makes on the first install (not part of the release,
    so uninstall leaves it: the benchmark deletes it, untimed). Helm's own settings live in a
    throwaway directory (no user repositories or plugins)."""

    name = "helm"
    sandbox = SANDBOXES["bench-helm"]
    blue_green = SANDBOXES["bench-helm-bg"]
    release = "hello"
    commands: ClassVar[dict[str, str]] = {
        "apply": "helm upgrade --install --wait",
        "scale": "helm upgrade --install --wait",
        "no-change": "helm upgrade --dry-run=server",
        "rollback": "helm rollback --wait",
        "uninstall": "helm uninstall --wait",
        "switch-back": "helm upgrade --install --wait (value liveColor)",
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
        self.switch_values = self.blue_green_values(SWITCHED_TO)
        self.check_chart_is_the_manifest()

    @staticmethod
    def releases_of(sandbox: Sandbox) -> str:
        """The namespace of the release records of the release in `sandbox`."""
        return f"{sandbox.namespace}-releases"

    @property
    def release_namespace(self) -> str:
        return self.releases_of(self.sandbox)

    def namespaces(self) -> list[str]:
        return [
            self.sandbox.namespace,
            self.release_namespace,
            self.blue_green.namespace,
            self.releases_of(self.blue_green),
        ]

    def values_file(self, name: str, values: dict[str, object]) -> Path:
        """A chart values file (JSON is YAML) in the contender's directory."""
        path = Path(self._directory.name) / f"values-{name}.yaml"
        path.write_text(json.dumps(values, ensure_ascii=False), encoding="utf-8")
        return path

    def values_for(self, message: str, replicas: int) -> Path:
        values = {
            "namespace": self.sandbox.namespace,
            "nodePort": self.sandbox.node_port,
            "message": message,
            "replicas": replicas,
        }
        return self.values_file(str(abs(hash((message, replicas)))), values)

    def blue_green_values(self, live: str) -> Path:
        values = {
            "namespace": self.blue_green.namespace,
            "nodePort": self.blue_green.node_port,
            "message": V1,
            "replicas": REPLICAS,
            "blueGreen": True,
            "liveColor": live,
            "blueMessage": COLOR_MESSAGES["blue"],
            "greenMessage": COLOR_MESSAGES["green"],
        }
        return self.values_file(f"blue-green-{live}", values)

    def helm(self, *args: str, releases: str = "") -> str:
        namespace = releases or self.release_namespace
        return run(["helm", *args, "--namespace", namespace], env=self.env)

    def check_chart_is_the_manifest(self) -> None:
        """The chart must render exactly the demo's objects (and as BlueGreen, the kubectl
        contender's), or the comparison is not fair."""
        for values, wanted in (
            (self.values, demo_objects(self.sandbox, V1, REPLICAS)),
            (self.blue_green_values("blue"), blue_green_objects(self.blue_green, "blue")),
        ):
            template = self.helm("template", self.release, str(CHART), "-f", str(values))
            rendered = [document for document in yaml.safe_load_all(template) if document]
            if sorted_objects(rendered) != sorted_objects(wanted):
                raise SystemExit(
                    f"bench/chart does not render the demo's manifest:\n"
                    f"{yaml.safe_dump(rendered)}\nwanted:\n{yaml.safe_dump(wanted)}"
                )

    def upgrade(self, *extra: str, values: Path | None = None, releases: str = "") -> str:
        return self.helm(
            "upgrade",
            "--install",
            self.release,
            str(CHART),
            "-f",
            str(values or self.values),
            "--create-namespace",
            *extra,
            releases=releases,
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

    def select(self, values: Path) -> None:
        """The BlueGreen release to `values` (a file of blue_green_values)."""
        self.upgrade(
            "--wait",
            f"--timeout={TIMEOUT_SECONDS}s",
            values=values,
            releases=self.releases_of(self.blue_green),
        )

    def set_up_blue_green(self) -> None:
        self.select(self.blue_green_values("blue"))
        self.select(self.blue_green_values(SWITCHED_FROM))
        self.switch_values = self.blue_green_values(SWITCHED_TO)

    def switch_back(self) -> None:
        self.select(self.switch_values)

    def remove_blue_green(self) -> None:
        remove_sandbox([self.blue_green.namespace, self.releases_of(self.blue_green)])

    def clean_up(self) -> None:
        for namespace in (self.sandbox.namespace, self.release_namespace):
            delete_namespace(namespace)
        for namespace in (self.sandbox.namespace, self.release_namespace):
            wait_namespace_gone(namespace)
        self.remove_blue_green()

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

BLUE_GREEN_CONFIG = {
    **PINNED_CONFIG,
    "strategy": "BlueGreen",
    "liveColor": "blue",
    "blueMessage": COLOR_MESSAGES["blue"],
    "greenMessage": COLOR_MESSAGES["green"],
    "idleReplicas": str(REPLICAS),
    "gateSeconds": "0",
    "smokeTest": "false",
}
"""The BlueGreen stack's: both colors warm, and no analysis gate (kubectl and Helm have none;
with it, `pulumi up` also runs the gate's dynamic provider) nor smoke test, so that a switch
changes the Services' selectors alone."""


class PulumiDemo:
    """The program on a throwaway stack of its own backend: `pulumi up` after a config change, as
    scripts/demo.sh runs it (--skip-preview, as the automation API also does); the project's
    own rollback command; `pulumi preview --expect-no-changes`; `pulumi destroy`."""

    name = "pulumi"
    sandbox = SANDBOXES["bench-pulumi"]
    blue_green = SANDBOXES["bench-pulumi-bg"]
    stack = "bench"
    blue_green_stack = "bench-bg"
    commands: ClassVar[dict[str, str]] = {
        "apply": "pulumi up --skip-preview",
        "scale": "pulumi up --skip-preview",
        "no-change": "pulumi preview --expect-no-changes",
        "rollback": "demo-orq rollback",
        "uninstall": "pulumi destroy --skip-preview",
        "switch-back": "pulumi config set liveColor (untimed) + pulumi up --skip-preview",
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
        self._blue_green_made = False

    def namespaces(self) -> list[str]:
        return [self.sandbox.namespace, self.blue_green.namespace]

    def config_set(self, key: str, value: str, stack: str = "") -> None:
        self.project.pulumi(
            "config", "set", "--stack", stack or self.stack, f"{facts.PROJECT}:{key}", "--", value
        )

    def prepare(self, message: str, replicas: int) -> None:
        # The rollback command may have rewritten the config: set both, always.
        self.config_set("message", message)
        self.config_set("replicas", str(replicas))

    def apply(self, stack: str = "") -> None:
        self.project.pulumi(
            "up", "--yes", "--skip-preview", "--stack", stack or self.stack,
            timeout=TIMEOUT_SECONDS + 60,
        )  # fmt: skip

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

    def set_up_blue_green(self) -> None:
        if not self._blue_green_made:
            config = {
                **sandbox_config(self.blue_green, "BlueGreen"),
                **{f"{facts.PROJECT}:{key}": value for key, value in BLUE_GREEN_CONFIG.items()},
            }
            self.project.new_stack(self.blue_green_stack, config)
            self._blue_green_made = True
        for color in ("blue", SWITCHED_FROM):
            self.config_set("liveColor", color, self.blue_green_stack)
            self.apply(self.blue_green_stack)
        self.config_set("liveColor", SWITCHED_TO, self.blue_green_stack)

    def switch_back(self) -> None:
        self.apply(self.blue_green_stack)

    def remove_blue_green(self, check: bool = True) -> None:
        delete_namespace_now(self.blue_green.namespace)
        if self._blue_green_made:
            self.project.pulumi(
                "destroy", "--yes", "--skip-preview", "--stack", self.blue_green_stack,
                check=check, timeout=TIMEOUT_SECONDS + 60,
            )  # fmt: skip
        wait_namespace_gone(self.blue_green.namespace)

    def clean_up(self) -> None:
        self.project.pulumi(
            "destroy", "--yes", "--skip-preview", "--stack", self.stack, check=False
        )
        delete_namespace(self.sandbox.namespace)
        wait_namespace_gone(self.sandbox.namespace)
        self.remove_blue_green(check=False)

    def close(self) -> None:
        try:
            self.project.pulumi("stack", "rm", "--yes", "--force", self.stack, check=False)
            if self._blue_green_made:
                self.project.pulumi(
                    "stack", "rm", "--yes", "--force", self.blue_green_stack, check=False
                )
        finally:
            self._directory.cleanup()


def make_tools() -> list[Tool]:
    return [PulumiDemo(), KubectlDemo(), HelmDemo()]
