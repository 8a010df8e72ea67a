"""The rollback's restore of a recorded configuration, checked by the real Pulumi CLI (no cluster):
read from the file backend's history (secrets written back encrypted, as recorded) or through
`pulumi stack history` (a backend URL the reader does not know: the decrypted secrets are set
again by `pulumi config`), the stack's configuration is then exactly the recorded one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from demo_orq import facts
from demo_orq.rollback import restore_config
from demo_orq.stack_file import read_stack_file
from demo_orq.stack_history import StackRef, pulumi_command, read_history
from tests.sandbox import SANDBOXES, ProjectCopy, copy_project, sandbox_config

STACK = "restore"
KEY = f"{facts.PROJECT}:"


def config(project: ProjectCopy) -> dict[str, Any]:
    shown = project.pulumi("config", "--show-secrets", "--json", "--stack", STACK).stdout
    return dict(json.loads(shown))


@pytest.fixture
def project(tmp_path: Path) -> ProjectCopy:
    """A stack with a secret, an object and a secret object in its config, recorded by a refresh
    (it needs no cluster: nothing is deployed), then changed."""
    copy = copy_project(tmp_path / "project")
    copy.new_stack(STACK, sandbox_config(SANDBOXES["faults"]))
    copy.pulumi("config", "set", "--stack", STACK, "--secret", f"{KEY}message", "hola secreto")
    copy.pulumi("config", "set", "--stack", STACK, "--path", f"{KEY}appConfig.APP_MODE", "prod")
    copy.pulumi("config", "set", "--stack", STACK, "--path", f"{KEY}appConfig.N", "5")
    copy.pulumi("config", "set", "--stack", STACK, "--secret", "--path",
                f"{KEY}appSecrets.API_TOKEN", "tok-9f2")  # fmt: skip
    copy.pulumi("refresh", "--yes", "--skip-preview", "--stack", STACK, "--message", "recorded")
    return copy


@pytest.mark.parametrize("reader", ["files", "cli"])
def test_the_recorded_configuration_comes_back_exactly(project: ProjectCopy, reader: str) -> None:
    recorded = config(project)
    project.pulumi("config", "set", "--stack", STACK, f"{KEY}message", "changed")
    project.pulumi("config", "set", "--stack", STACK, f"{KEY}replicas", "5")
    project.pulumi("config", "set", "--stack", STACK, "--path", f"{KEY}appConfig.APP_MODE", "dbg")
    project.pulumi("config", "rm", "--stack", STACK, f"{KEY}appSecrets")
    assert config(project) != recorded
    env = dict(project.env)
    if reader == "cli":
        env["PULUMI_BACKEND_URL"] += "?no_tmp_dir=true"  # Pulumi's option; the reader's unknown
    stack = StackRef(STACK, project.directory, env)

    [update] = read_history(stack)
    if reader == "files":
        assert set(update.config[f"{KEY}message"]) == {"secure"} and update.secrets == {}
    else:
        assert update.secrets[f"{KEY}message"] == "hola secreto"
    restore_config(pulumi_command(env), stack, read_stack_file(stack.stack_file), update)

    assert config(project) == recorded
    assert "hola secreto" not in stack.stack_file.read_text(encoding="utf-8")
    assert "tok-9f2" not in stack.stack_file.read_text(encoding="utf-8")
