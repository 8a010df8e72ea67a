"""What the fault tests share: the program deployed with the real engine on a throwaway stack in a
sandbox of its own, the machine's lock for disruptive experiments, and requests counted per
fault window."""

from __future__ import annotations

import contextlib
import fcntl
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from pulumi import automation as auto

from components.traffic import Answer, get_once
from demo_orq import facts
from demo_orq.kube import (
    delete_namespace_now,
    deployment_settled,
    kubectl,
    kubectl_json,
    namespace_exists,
    wait_until,
)
from tests.sandbox import ProjectCopy, Sandbox, copy_project, new_sandbox_stack

DISRUPT_LOCK = Path("/tmp/demo-orq-disrupt.lock")
"""Taken (exclusively) around every disruptive step: killing cluster components, restarting the
node. Benchmarks take it for their measured runs, so that no disruption falls inside them."""
SELECTOR = f"app={facts.DEPLOYMENT}"
PROGRAM_KINDS = "deployments,services,serviceaccounts,secrets,configmaps,hpa,pdb"
"""The kinds of namespaced objects the program makes (configmaps: none, so none may appear)."""
KUBERNETES_OWN = {("ServiceAccount", "default"), ("ConfigMap", "kube-root-ca.crt")}
"""What Kubernetes itself puts in every namespace."""
V1, V2 = facts.V1_MESSAGE, facts.V2_MESSAGE


@contextlib.contextmanager
def disruptive() -> Iterator[None]:
    """Holds the machine's lock for disruptive experiments for the `with` block."""
    with DISRUPT_LOCK.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


@dataclass
class App:
    """The program deployed on `stack_name` of a copy of the project, into `sandbox`."""

    project: ProjectCopy
    stack: auto.Stack
    sandbox: Sandbox
    replicas: int

    @property
    def namespace(self) -> str:
        return self.sandbox.namespace

    def pulumi(self, *args: str, check: bool = True, timeout: float = 600) -> Any:
        """The real CLI on this stack (`--stack` added before any `--`); output as text."""
        end = args.index("--") if "--" in args else len(args)
        stacked = (*args[:end], "--stack", self.stack.name, *args[end:])
        return self.project.pulumi(*stacked, check=check, timeout=timeout)

    def preview_shows_no_change(self, *flags: str) -> None:
        preview = self.pulumi("preview", "--expect-no-changes", "--diff", *flags, check=False)
        assert preview.returncode == 0, preview.stdout[-4000:] + preview.stderr[-2000:]

    def settled(self) -> bool:
        return bool(deployment_settled(self.namespace, facts.DEPLOYMENT, self.replicas))

    def wait_settled(self, timeout: float = 180) -> None:
        wait_until(self.settled, timeout, f"{self.replicas} ready pods in {self.namespace}")

    def resources(self) -> list[dict[str, Any]]:
        exported = json.loads(self.pulumi("stack", "export").stdout)
        resources: list[dict[str, Any]] = exported["deployment"].get("resources") or []
        return resources

    def kubernetes_objects(self) -> set[tuple[str, str]]:
        """(Kind, namespace/name or name) of every Kubernetes object in the stack's state."""
        return {
            (r["type"].rsplit(":", 1)[-1], r["id"])
            for r in self.resources()
            if r["type"].startswith("kubernetes:") and r.get("id")
        }

    def objects_in_namespace(self) -> set[tuple[str, str]]:
        """(Kind, namespace/name) of the objects of the kinds the program makes that are in the
        sandbox's namespace, whoever made them (what Kubernetes puts in every namespace, and the
        ReplicaSets and pods of the Deployments, aside), and the namespace itself."""
        listed = kubectl_json("-n", self.namespace, "get", PROGRAM_KINDS)["items"]
        found = {
            (item["kind"], f"{self.namespace}/{item['metadata']['name']}")
            for item in listed
            if (item["kind"], item["metadata"]["name"]) not in KUBERNETES_OWN
        }
        return found | {("Namespace", self.namespace)}

    def missing_objects(self) -> list[tuple[str, str]]:
        """The stack's Kubernetes objects that the cluster does not have."""
        missing = []
        for kind, object_id in sorted(self.kubernetes_objects()):
            namespace, _, name = object_id.rpartition("/")
            where = ("-n", namespace) if namespace else ()
            if kubectl("get", kind, name, *where, check=False).returncode != 0:
                missing.append((kind, object_id))
        return missing


def deploy_app(
    tmp_path_factory: pytest.TempPathFactory,
    sandbox: Sandbox,
    stack_name: str,
    replicas: int = facts.REPLICAS,
    **config: str,
) -> Iterator[App]:
    """A fixture body: deploys v1 (pulumi up) with `config` (keys without the project prefix),
    yields the App, destroys it all afterwards."""
    project = copy_project(tmp_path_factory.mktemp(stack_name) / "project")
    stack = new_sandbox_stack(project, stack_name, sandbox, replicas=str(replicas), **config)
    app = App(project, stack, sandbox, replicas)
    try:
        stack.up(message="v1", on_output=print)
        app.wait_settled()
        yield app
    finally:
        tear_down(app)


def tear_down(app: App) -> None:
    """Destroys the stack, even one left locked or with pending operations by a test, and
    deletes the sandbox's namespace in any case."""
    app.pulumi("cancel", "--yes", check=False)
    delete_namespace_now(app.namespace)
    destroyed = app.pulumi("destroy", "--yes", "--skip-preview", "--refresh", check=False)
    if destroyed.returncode == 0:
        app.pulumi("stack", "rm", "--yes", check=False)
    wait_until(lambda: not namespace_exists(app.namespace), 300, f"{app.namespace} gone")
    assert destroyed.returncode == 0, destroyed.stdout[-3000:] + destroyed.stderr[-2000:]


def answers_between(answers: list[Answer], start: float, end: float) -> list[Answer]:
    """The requests sent from `start` to `end` (time.monotonic())."""
    return [a for a in answers if start <= a.started < end]


def failed(answers: list[Answer]) -> list[Answer]:
    """Requests with no answer, or an answer that is not one of the app's versions."""
    expected = {V1 + "\n", V2 + "\n"}
    return [a for a in answers if a.body not in expected]


def describe_failures(answers: list[Answer], since: float, limit: int = 5) -> str:
    return "; ".join(
        f"t={a.started - since:.2f}s {a.error or repr(a.body)}" for a in failed(answers)[:limit]
    )


def wait_for_answer(url: str, timeout: float, interval: float = 0.05) -> float:
    """Seconds until `url` answers 200 with one of the app's versions (one request at a time)."""
    parts = urlsplit(url)
    assert parts.hostname and parts.port, url
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if get_once(parts.hostname, parts.port, "/", timeout=1).body in (V1 + "\n", V2 + "\n"):
            return time.monotonic() - started
        time.sleep(interval)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f}s")
