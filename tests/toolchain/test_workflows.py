"""The GitHub workflows (.github/workflows/) for users of the repository: they cannot run here,
so actionlint (built by toolchain/ensure.sh) checks them, and any finding fails."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

PROJECT_DIR = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((PROJECT_DIR / ".github" / "workflows").glob("*.y*ml"))
VERSIONS = dict(
    line.split("=", 1)
    for line in (PROJECT_DIR / "toolchain/versions.env").read_text().splitlines()
    if line and not line.startswith("#")
)
SECRET_SETTINGS = ("PULUMI_ACCESS_TOKEN", "PULUMI_CONFIG_PASSPHRASE", "KUBECONFIG_CONTENT")


def actionlint(*paths: Path) -> subprocess.CompletedProcess[str]:
    executable = shutil.which("actionlint")
    if executable is None:
        raise AssertionError(
            "actionlint is not on PATH: run toolchain/ensure.sh, then source toolchain/env.sh"
        )
    return subprocess.run(
        [executable, "-no-color", *map(str, paths)],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )


def workflow(name: str) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(
        (PROJECT_DIR / ".github/workflows" / name).read_text()
    )
    return document


def test_there_are_workflows_to_check():
    assert [path.name for path in WORKFLOWS] == ["drift.yml", "pulumi.yml"]


def test_actionlint_finds_nothing_in_the_workflows():
    result = actionlint(*WORKFLOWS)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_actionlint_does_find_a_broken_workflow(tmp_path: Path):
    broken = tmp_path / ".github" / "workflows" / "broken.yml"
    broken.parent.mkdir(parents=True)
    broken.write_text(
        "on: push\njobs:\n  x:\n    runs-on: ubuntu-24.04\n"
        "    steps:\n      - uses: pulumi/actions@v6\n        with:\n          stack: dev\n"
    )
    result = actionlint(broken)
    assert result.returncode != 0 and 'input "stack" is not defined' in result.stdout, result.stdout


@pytest.mark.parametrize("name", ["pulumi.yml", "drift.yml"])
def test_the_workflow_installs_the_pulumi_version_of_the_toolchain(name):
    assert workflow(name)["env"]["PULUMI_VERSION"] == VERSIONS["PULUMI_VERSION"]


@pytest.mark.parametrize("name", ["pulumi.yml", "drift.yml"])
def test_credentials_come_from_repository_secrets_only(name):
    steps = [step for job in workflow(name)["jobs"].values() for step in job["steps"]]
    settings = [
        (name, value)
        for step in steps
        for name, value in step.get("env", {}).items()
        if name in SECRET_SETTINGS
    ]
    assert {name for name, _ in settings} == set(SECRET_SETTINGS)
    assert all(
        value == f"${{{{ secrets.{name.removesuffix('_CONTENT')} }}}}" for name, value in settings
    ), settings


def test_deploying_needs_the_protected_environment_and_nothing_writes_but_the_comment():
    document = workflow("pulumi.yml")
    assert document["permissions"] == {}
    assert document["jobs"]["deploy"]["environment"] == "production"
    assert document["jobs"]["deploy"]["permissions"] == {"contents": "read"}
    assert document["jobs"]["preview"]["permissions"] == {
        "contents": "read",
        "pull-requests": "write",
    }


def test_every_job_installs_both_pinned_requirement_files_before_the_unit_tests():
    for name, job in workflow("pulumi.yml")["jobs"].items():
        scripts = [step.get("run", "") for step in job["steps"]]
        install = next(i for i, run in enumerate(scripts) if "pip install" in run)
        tests = next(i for i, run in enumerate(scripts) if "pytest tests/unit" in run)
        assert install < tests, name
        assert (
            "-r requirements.txt -r policy/requirements.txt -r requirements-dev.txt"
            in scripts[install]
        ), name


def test_the_drift_check_runs_every_hour_as_a_read_only_refreshing_preview():
    document = workflow("drift.yml")
    assert document[True]["schedule"] == [{"cron": "17 * * * *"}]  # YAML 1.1 reads `on` as True
    assert document["permissions"] == {}
    job = document["jobs"]["drift"]
    assert job["permissions"] == {"contents": "read"}
    installs = [step["run"] for step in job["steps"] if "pip install" in step.get("run", "")]
    assert installs and installs[0].strip().endswith("pip install -r requirements.txt")
    [check] = [step for step in job["steps"] if step.get("uses", "").startswith("pulumi/actions")]
    assert check["with"]["command"] == "preview"
    assert (check["with"]["refresh"], check["with"]["expect-no-changes"]) == (True, True)
