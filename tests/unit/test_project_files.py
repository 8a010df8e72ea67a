"""The Pulumi project and stack files, and the pinned requirements, say what they should."""

from importlib.metadata import version

import yaml

from demo_config import PROJECT


def test_the_project_is_demo_orq_in_python_with_the_venv(project_root):
    project = yaml.safe_load((project_root / "Pulumi.yaml").read_text(encoding="utf-8"))

    assert project["name"] == PROJECT
    assert project["runtime"] == {
        "name": "python",
        "options": {"toolchain": "pip", "virtualenv": "venv"},
    }


def test_the_stacks_only_choose_their_cluster(stack_config):
    assert stack_config("dev") == {
        "kubeconfig": "~/.kube/demo-orq.kubeconfig",
        "context": "demo-orq",
    }
    assert stack_config("kind") == {"kubeconfig": "~/.kube/config", "context": "kind-demo-orq"}


def test_requirements_pin_exactly_what_is_installed(project_root):
    lines = (project_root / "requirements.txt").read_text(encoding="utf-8").split()
    pins = dict(line.split("==") for line in lines)

    assert set(pins) == {"grpcio", "protobuf", "pulumi", "pulumi-kubernetes", "pulumi-policy", "pytest", "PyYAML"}
    assert {name: version(name) for name in pins} == pins
