"""Shared fixtures: Pulumi mocks that record what a program registers, the demo's manifest and
the project's stack files. Nothing here needs a cluster or the Pulumi CLI."""

from __future__ import annotations

import runpy
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml
from pulumi.runtime import MockCallArgs, MockResourceArgs, Mocks
from pulumi.runtime.mocks import MockMonitor

from demo_orq import facts
from demo_orq.facts import DEMO_MANIFEST, PROJECT_DIR


class RecordingMocks(Mocks):
    """Answers every resource with its inputs as its outputs, and keeps every registration."""

    def __init__(self) -> None:
        self.registered: list[MockResourceArgs] = []
        self.requests: dict[tuple[str, str], Any] = {}
        """The raw registration requests by (type token, logical name); see RecordingMonitor."""

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict]:
        self.registered.append(args)
        return (f"{args.name}-id" if args.custom else None, args.inputs)

    def call(self, args: MockCallArgs) -> tuple[dict, None]:
        raise AssertionError(f"unexpected call of {args.token}: the program makes none")


class RecordingMonitor(MockMonitor):
    """Also keeps each registration request, for the resource options that the Mocks are not
    shown: custom timeouts, dependencies."""

    def RegisterResource(self, request):
        self.mocks.requests[request.type, request.name] = request
        return super().RegisterResource(request)


@dataclass(frozen=True)
class Rendered:
    """What one program registered, and what it returned with every Output resolved."""

    resources: list[MockResourceArgs]
    result: Any

    def inputs(self) -> dict[tuple[str, str], dict[str, Any]]:
        """The inputs of every resource, by (type token, logical name): its URN's parts."""
        return {(resource.typ, resource.name): resource.inputs for resource in self.resources}

    def kubernetes_objects(self) -> list[MockResourceArgs]:
        return [resource for resource in self.resources if "kind" in resource.inputs]

    def objects(self, kind: str) -> list[dict[str, Any]]:
        """The inputs of every Kubernetes object of that kind."""
        return [r.inputs for r in self.kubernetes_objects() if r.inputs["kind"] == kind]

    def object(self, kind: str, name: str) -> dict[str, Any]:
        """The inputs of the Kubernetes object of that kind and Pulumi logical name."""
        objects = self.kubernetes_objects()
        (found,) = [r.inputs for r in objects if (r.inputs["kind"], r.name) == (kind, name)]
        return found


@pytest.fixture
def mocks() -> RecordingMocks:
    recording = RecordingMocks()
    pulumi.runtime.set_mocks(
        recording, project=facts.PROJECT, stack="test", monitor=RecordingMonitor(recording)
    )
    return recording


@pytest.fixture
def render(mocks: RecordingMocks) -> Callable[[Callable[[], Any]], Rendered]:
    """Runs a program under the mocks, with @pulumi.runtime.test, and tells what it rendered."""

    def _render(program: Callable[[], Any]) -> Rendered:
        first = len(mocks.registered)
        results: list[Any] = []

        @pulumi.runtime.test
        def run() -> pulumi.Output:
            return pulumi.Output.from_input(program()).apply(results.append)

        run()
        return Rendered(resources=mocks.registered[first:], result=results[0])

    return _render


@pytest.fixture
def run_program(
    render: Callable[[Callable[[], Any]], Rendered], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Callable[[Mapping[str, str]], Rendered]]:
    """Runs __main__.py as the Pulumi engine does, with `config` as its `demo-orq:*` stack
    config; the result is the stack's exports, in the order the program made them."""
    monkeypatch.delenv("PULUMI_CONFIG", raising=False)

    def _run_program(config: Mapping[str, str], secret_keys: Sequence[str] = ()) -> Rendered:
        pulumi.runtime.set_all_config(
            {f"{facts.PROJECT}:{key}": value for key, value in config.items()},
            [f"{facts.PROJECT}:{key}" for key in secret_keys],
        )
        exports: dict[str, Any] = {}
        monkeypatch.setattr(pulumi, "export", exports.__setitem__)

        def program() -> dict[str, Any]:
            runpy.run_path(str(PROJECT_DIR), run_name="__main__")
            return exports

        return render(program)

    yield _run_program
    pulumi.runtime.set_all_config({}, [])


@pytest.fixture(scope="session")
def project_root() -> Path:
    return PROJECT_DIR


@pytest.fixture(scope="session")
def demo_objects() -> dict[str, dict[str, Any]]:
    """The objects of the demo's manifest (manifests/demo.yaml), by kind."""
    documents = yaml.safe_load_all(DEMO_MANIFEST.read_text(encoding="utf-8"))
    return {document["kind"]: document for document in documents}


@pytest.fixture(scope="session")
def stack_config() -> Callable[[str], dict[str, str]]:
    """The `demo-orq:*` config of a stack file (Pulumi.<stack>.yaml), keyed without the prefix."""

    def _stack_config(stack: str) -> dict[str, str]:
        stack_file = PROJECT_DIR / f"Pulumi.{stack}.yaml"
        document = yaml.safe_load(stack_file.read_text(encoding="utf-8"))
        prefix = f"{facts.PROJECT}:"
        return {key.removeprefix(prefix): str(value) for key, value in document["config"].items()}

    return _stack_config
