"""The real Pulumi toolchain: CLI and Kubernetes plugin at the pinned versions, and a real
`pulumi preview` of the dev stack's program (no mocks). Preview needs no running cluster."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from demo_orq.facts import PROJECT_DIR
from tests.sandbox import ProjectCopy, cluster_location, copy_project, require_pulumi_cli

VERSIONS = dict(
    line.split("=", 1)
    for line in (PROJECT_DIR / "toolchain/versions.env").read_text().splitlines()
    if line and not line.startswith("#")
)
DEMO_RESOURCES = {
    ("demo-orq:app:HelloApp", None),
    ("kubernetes:core/v1:Namespace", "demo"),
    ("kubernetes:apps/v1:Deployment", "hello-api"),
    ("kubernetes:core/v1:Service", "hello-svc"),
}


def version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


@pytest.fixture
def project(tmp_path: Path) -> ProjectCopy:
    copy = copy_project(tmp_path / "project")
    shutil.copy2(PROJECT_DIR / "Pulumi.dev.yaml", copy.directory / "Pulumi.dev.yaml")
    return copy


def planned_resources(preview_json: str) -> set[tuple[str, str | None]]:
    """(type, metadata.name) of every resource a `pulumi preview --json` plans to create."""
    steps = json.loads(preview_json)["steps"]
    planned = set()
    for step in steps:
        assert step["op"] == "create", step
        state = step["newState"]
        name = state.get("inputs", {}).get("metadata", {}).get("name")
        planned.add((state["type"], name))
    return planned


def test_cli_is_at_least_the_pinned_version():
    output = subprocess.run(
        [require_pulumi_cli(), "version"], capture_output=True, text=True, check=True
    ).stdout
    assert version_tuple(output)[0] == 3
    assert version_tuple(output) >= version_tuple(VERSIONS["PULUMI_VERSION"]), output


def test_kubernetes_plugin_is_installed_at_the_sdk_version():
    output = subprocess.run(
        [require_pulumi_cli(), "plugin", "ls", "--json"], capture_output=True, text=True, check=True
    ).stdout
    plugins = {(p["name"], p["kind"], p["version"]) for p in json.loads(output)}
    assert ("kubernetes", "resource", VERSIONS["PULUMI_KUBERNETES_VERSION"]) in plugins, plugins


def test_preview_of_the_dev_stack_plans_the_demo_objects(project: ProjectCopy):
    project.pulumi("stack", "init", "dev")
    preview = project.pulumi("preview", "--stack", "dev", "--json")
    planned = planned_resources(preview.stdout)
    assert planned >= DEMO_RESOURCES, planned
    assert ("pulumi:providers:kubernetes", None) in planned


def test_preview_works_without_a_reachable_cluster(project: ProjectCopy):
    project.new_stack(
        "nocluster",
        {
            "demo-orq:kubeconfig": str(project.directory / "missing.kubeconfig"),
            "demo-orq:context": "demo-orq",
        },
    )
    preview = project.pulumi("preview", "--stack", "nocluster", "--json")
    assert planned_resources(preview.stdout) >= DEMO_RESOURCES


@pytest.mark.parametrize(
    "key, value, expected",
    [
        ("replicas", "-1", "-1"),
        ("strategy", "Rainbow", "Rainbow"),
        ("nodePort", "80", "80"),
    ],
)
def test_preview_with_a_bad_value_fails_with_a_clear_message(
    project: ProjectCopy, key, value, expected
):
    project.new_stack("bad", {**cluster_location(), f"demo-orq:{key}": value})
    preview = project.pulumi("preview", "--stack", "bad", check=False)
    output = preview.stdout + preview.stderr
    assert preview.returncode != 0, output
    assert f"demo-orq:{key}" in output and expected in output, output
    assert "Traceback" not in output, output


def test_bad_settings_and_schedules_are_each_refused_on_one_line(project: ProjectCopy):
    project.new_stack("bad-jobs", {**cluster_location(), "demo-orq:etlSchedule": "at three",
                                   "demo-orq:etlTimeZone": "Mars/Olympus"})  # fmt: skip
    project.pulumi("config", "set", "--stack", "bad-jobs", "--path", "demo-orq:appConfig.1BAD", "x")
    preview = project.pulumi("preview", "--stack", "bad-jobs", check=False)
    output = preview.stdout + preview.stderr
    refused = [line.strip() for line in output.splitlines() if "invalid stack config" in line]

    assert preview.returncode != 0, output
    assert "Traceback" not in output, output
    for key, value in (("appConfig", "1BAD"), ("etlSchedule", "at three"),
                       ("etlTimeZone", "Mars/Olympus")):  # fmt: skip
        assert any(f"demo-orq:{key}" in line and value in line for line in refused), output
