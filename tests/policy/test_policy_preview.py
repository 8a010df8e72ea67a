"""The policy pack through the real Pulumi CLI and engine (`pulumi preview --policy-pack`): the
language host starts it, the engine asks it about every resource, and a violation of a mandatory
rule fails the preview. Previews only: nothing is deployed."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from pulumi_policy import EnforcementLevel

from demo_orq.facts import PROJECT_DIR
from policy.rules import POLICIES
from tests.sandbox import ProjectCopy, copy_project

POLICY_PACK = str(PROJECT_DIR / "policy")
VIOLATIONS_PROGRAM = Path(__file__).with_name("violations")
MANDATORY_RULES = {p.name for p in POLICIES if p.enforcement_level == EnforcementLevel.MANDATORY}
# How the CLI lists a violation: `- [mandatory]  <rule>  (<type>: <Pulumi name>)`.
MANDATORY_VIOLATION = re.compile(r"\[mandatory\]\s+(\S+)\s+\(\S+: ([^)]+)\)")
POD_SECURITY_RULES = {rule for rule in MANDATORY_RULES if rule.startswith("pod-security-")}
EXPECTED_VIOLATIONS = {
    *((rule, "privileged") for rule in POD_SECURITY_RULES),
    ("container-requests-and-limits", "no-limits"),
    ("container-liveness-and-readiness-probes", "no-limits"),
    ("image-pinned-by-tag-or-digest", "latest-image"),
    ("namespace-enforces-pod-security-restricted", "unlabelled"),
}
"""(rule, Pulumi name) of each violation that tests/policy/violations/__main__.py commits."""


@pytest.fixture
def violations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ProjectCopy:
    """The program that breaks every mandatory rule, in a throwaway copy with its own backend."""
    # Its provider only renders YAML; a KUBECONFIG in the environment (the cluster's, set for
    # the suite) would be taken as its kubeconfig, which rendering refuses.
    monkeypatch.delenv("KUBECONFIG", raising=False)
    directory = tmp_path / "violations"
    shutil.copytree(VIOLATIONS_PROGRAM, directory, ignore=shutil.ignore_patterns("__pycache__"))
    (directory / "venv").symlink_to(PROJECT_DIR / "venv")
    (directory / ".state").mkdir()
    return ProjectCopy(directory)


@pytest.fixture
def project(tmp_path: Path) -> ProjectCopy:
    copy = copy_project(tmp_path / "project")
    shutil.copy2(PROJECT_DIR / "Pulumi.dev.yaml", copy.directory / "Pulumi.dev.yaml")
    return copy


def test_the_preview_of_a_program_breaking_every_mandatory_rule_fails_naming_each_rule(
    violations: ProjectCopy,
):
    violations.pulumi("stack", "init", "policy")
    preview = violations.pulumi(
        "preview", "--stack", "policy", "--policy-pack", POLICY_PACK, check=False
    )
    output = preview.stdout + preview.stderr
    assert preview.returncode != 0, output
    assert set(MANDATORY_VIOLATION.findall(output)) == EXPECTED_VIOLATIONS, output
    assert {rule for rule, _ in EXPECTED_VIOLATIONS} == MANDATORY_RULES
    assert "Traceback" not in output, output


def test_the_preview_of_the_projects_dev_stack_passes_the_policy_pack(project: ProjectCopy):
    project.pulumi("stack", "init", "dev")
    preview = project.pulumi("preview", "--stack", "dev", "--policy-pack", POLICY_PACK, check=False)
    output = preview.stdout + preview.stderr
    assert (preview.returncode, MANDATORY_VIOLATION.findall(output)) == (0, []), output
    assert "demo-orq-kubernetes" in output, output  # the pack did run


def test_the_dev_stack_is_warned_about_its_open_namespace_and_a_team_can_make_it_a_refusal(
    project: ProjectCopy, tmp_path: Path
):
    project.pulumi("stack", "init", "dev")
    warned = project.pulumi("preview", "--stack", "dev", "--policy-pack", POLICY_PACK, check=False)
    output = warned.stdout + warned.stderr
    assert warned.returncode == 0, output
    assert re.search(r"\[advisory\]\s+namespace-isolated", output), output
    assert "networkPolicy true" in output and "quota true" in output, output

    config = tmp_path / "policy-config.json"
    config.write_text('{"namespace-isolated": "mandatory"}', encoding="utf-8")
    refused = project.pulumi("preview", "--stack", "dev", "--policy-pack", POLICY_PACK,
                             "--policy-pack-config", str(config), check=False)  # fmt: skip
    output = refused.stdout + refused.stderr
    assert refused.returncode != 0, output
    assert re.search(r"\[mandatory\]\s+namespace-isolated", output), output
