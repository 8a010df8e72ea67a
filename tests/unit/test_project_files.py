"""The project's own files agree with each other and with the program: Pulumi.yaml's config
schema, the settings table, the configuration reference, the stack files and the pinned
packages; and the repository stands on its own."""

from __future__ import annotations

import re
import subprocess
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
import yaml

from components import BlueGreen, Canary, ClusterAccess, FrontendArgs, HelloAppArgs
from demo_orq import facts
from demo_orq.config import load
from demo_orq.settings import KEYS
from tests.sandbox import SANDBOXES

CONTEXT = {"context": "demo-orq"}


def project_file(project_root: Path) -> dict[str, Any]:
    return yaml.safe_load((project_root / "Pulumi.yaml").read_text(encoding="utf-8"))


def reference_config_keys(project_root: Path) -> list[str]:
    reference = (project_root / "docs" / "configuration.md").read_text(encoding="utf-8")
    table = reference.split("| Key (`demo-orq:`)", 1)[1].split("\n\n", 1)[0]
    first_cells = re.findall(r"^\| (`.+?) \|", table, flags=re.MULTILINE)
    return [key for cell in first_cells for key in re.findall(r"`(\w+)`", cell)]


def test_the_project_is_demo_orq_in_python_with_the_venv(project_root):
    project = project_file(project_root)

    assert project["name"] == facts.PROJECT
    assert project["runtime"] == {
        "name": "python",
        "options": {"toolchain": "pip", "virtualenv": "venv"},
    }


def test_pulumi_yaml_the_program_and_the_reference_list_the_same_keys_in_order(project_root):
    declared = list(project_file(project_root)["config"])

    assert declared == list(KEYS)
    assert reference_config_keys(project_root) == list(KEYS)


def test_every_declared_key_has_a_type_and_a_description_and_only_context_is_required(
    project_root,
):
    schema = project_file(project_root)["config"]

    for key, declared in schema.items():
        assert declared["type"] in ("string", "integer", "boolean", "object"), key
        assert len(declared["description"]) > 10, key
    assert [key for key, declared in schema.items() if "default" not in declared] == ["context"]


def test_the_declared_defaults_are_the_components_defaults(project_root):
    # Pulumi hands a default to the program as Go prints it: false, 3, "".
    defaults = {
        key: str(declared["default"]).lower()
        if isinstance(declared["default"], bool)
        else str(declared["default"])
        for key, declared in project_file(project_root)["config"].items()
        if "default" in declared
    }

    config = load({**CONTEXT, **defaults})

    assert config.app == HelloAppArgs(cluster_access=ClusterAccess(context=CONTEXT["context"]))
    assert config.kubeconfig is None


def test_the_dev_stack_shows_the_demo_settings_at_v1_next_to_the_cluster(stack_config):
    assert stack_config("dev") == {
        "kubeconfig": "~/.kube/demo-orq.kubeconfig",
        "context": "demo-orq",
        "message": facts.V1_MESSAGE,
        "replicas": str(facts.REPLICAS),
        "strategy": "RollingUpdate",
    }
    assert stack_config("kind") == {"kubeconfig": "~/.kube/config", "context": "kind-demo-orq"}


def test_the_dev_stack_carries_the_salt_of_the_documented_passphrase(project_root):
    stack_file = yaml.safe_load((project_root / "Pulumi.dev.yaml").read_text(encoding="utf-8"))

    assert stack_file["encryptionsalt"].startswith("v1:")


def test_requirements_pin_exactly_what_is_installed(project_root):
    for name in ("requirements.txt", "policy/requirements.txt", "requirements-dev.txt"):
        lines = (project_root / name).read_text(encoding="utf-8").splitlines()
        pins = dict(line.split("==") for line in lines if line and not line.startswith("#"))
        assert pins, name
        assert {package: version(package) for package in pins} == pins, name


def test_nothing_in_the_repository_reads_outside_of_it(project_root):
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=project_root, capture_output=True, text=True, check=True
    ).stdout.split()
    outside = re.compile(r"\.\./" + "shared|shared/" + "seed")  # split: this file is tracked too
    readers = [
        name
        for name in tracked
        if (project_root / name).is_file()
        and outside.search((project_root / name).read_text(encoding="utf-8", errors="replace"))
    ]

    assert readers == []


def test_the_demo_manifest_is_the_projects_own_file():
    assert facts.DEMO_MANIFEST.is_relative_to(facts.PROJECT_DIR)
    assert facts.DEMO_MANIFEST.is_file()


def test_every_sandbox_has_its_own_namespace_and_node_port_apart_from_the_demos():
    namespaces = [sandbox.namespace for sandbox in SANDBOXES.values()]
    node_ports = [port for sandbox in SANDBOXES.values() for port in sandbox.node_ports()]
    defaults = HelloAppArgs()
    users_ports = {*defaults.node_ports().values(), BlueGreen().preview_node_port,
                   Canary().node_port, FrontendArgs().node_port}  # fmt: skip

    assert len(set(namespaces)) == len(namespaces)
    assert len(set(node_ports)) == len(node_ports)
    assert facts.NAMESPACE not in namespaces
    assert users_ports.isdisjoint(node_ports)


@pytest.mark.parametrize("strategy", ["RollingUpdate", "Recreate", "BlueGreen", "Canary"])
def test_the_kind_cluster_maps_every_node_port_the_kind_stack_opens(
    project_root, stack_config, strategy
):
    mappings = yaml.safe_load((project_root / "cluster" / "kind.yaml").read_text())["nodes"][0][
        "extraPortMappings"
    ]
    mapped = {
        (m["containerPort"], m["hostPort"]) for m in mappings if m["listenAddress"] == "127.0.0.1"
    }

    config = load({**stack_config("kind"), "strategy": strategy, "frontend": "true"})

    opened = set(config.app.node_ports().values())
    assert opened, "every strategy opens the app's node port"
    assert {(port, port) for port in opened} <= mapped


def test_the_programs_requirements_hold_no_test_or_picture_tools(project_root):
    pins = (project_root / "requirements.txt").read_text(encoding="utf-8")
    for tool in ("pytest", "matplotlib", "numpy", "ruff", "mypy", "pulumi-policy"):
        assert f"{tool}==" not in pins, tool
