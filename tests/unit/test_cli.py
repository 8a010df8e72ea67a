"""`demo-orq <verb>` (demo_orq.cli): one entry point for every command, one form of arguments,
one way to end on an error. Nothing here reaches a stack or a cluster."""

from __future__ import annotations

import importlib
import pkgutil
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from pulumi import automation as auto
from pulumi.automation._cmd import CommandResult

import demo_orq
from components.traffic import GatewayUrl, loopback_for
from demo_orq import cli
from demo_orq.errors import FailedError
from demo_orq.facts import PROJECT_DIR
from demo_orq.kube import KubectlError
from demo_orq.project import project_folder
from demo_orq.stacks import StackError, reach

PULUMI_FAILURE = (
    "Updating (dev):\n"
    "error: update failed\n"
    "    error: deployment hello-api is not ready: 0 of 3 pods\n"
    "Resources: 1 unchanged\n"
)


def command_modules() -> set[str]:
    """The modules of demo_orq that are commands: the ones with a `main`, the entry point aside."""
    names = [module.name for module in pkgutil.iter_modules(demo_orq.__path__)]
    found = {name for name in names if hasattr(importlib.import_module(f"demo_orq.{name}"), "main")}
    return found - {"cli", "__main__"}


def fails_with(error: Exception):
    def main(argv):
        raise error

    return main


def test_every_command_module_is_a_verb():
    assert command_modules() == set(cli.VERBS)


def test_the_help_lists_every_verb_with_what_it_does(capsys):
    assert cli.main(["--help"]) == 0

    printed = capsys.readouterr().out
    for verb, summary in cli.VERBS.items():
        assert f"\n  {verb} " in printed and summary in printed, verb


def test_without_a_verb_the_help_is_shown_and_the_exit_is_2(capsys):
    assert cli.main([]) == 2
    assert "verbs:" in capsys.readouterr().out


def test_an_unknown_verb_is_named_on_one_line_with_the_accepted_ones(capsys):
    assert cli.main(["nope"]) == 2

    [line] = capsys.readouterr().err.splitlines()
    assert line == f"demo-orq: unknown command 'nope' (accepted: {', '.join(cli.VERBS)})"


@pytest.mark.parametrize(
    "error, exit_code, line",
    [
        (StackError("no stack 'nope' in /x (stacks: dev)"), 2,
         "get refused: no stack 'nope' in /x (stacks: dev)"),
        (auto.CommandError(CommandResult("", PULUMI_FAILURE, 255)), 1, "get failed: update failed"),
        (KubectlError("kubectl get pods failed:\n\nerror: the server is gone\n"), 1,
         "get failed: kubectl get pods failed: error: the server is gone"),
        (FailedError("pulumi up: boom; put back"), 1, "get failed: pulumi up: boom; put back"),
    ],
)  # fmt: skip
def test_each_verb_ends_the_same_way_on_an_error(monkeypatch, capsys, error, exit_code, line):
    monkeypatch.setattr("demo_orq.get.main", fails_with(error))

    assert cli.main(["get"]) == exit_code
    assert capsys.readouterr().err == line + "\n"


def test_a_verb_ends_with_its_own_exit_code(monkeypatch):
    monkeypatch.setattr("demo_orq.watch.main", lambda argv: 7 if argv == ["--", "x"] else 0)

    assert cli.main(["watch", "--", "x"]) == 7


def test_a_bad_argument_ends_the_argparse_way_naming_the_verb(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["report", "--rate", "0"])

    assert exit_.value.code == 2
    error = capsys.readouterr().err.splitlines()
    assert error[0].startswith("usage: demo-orq report ")
    assert error[-1] == (
        "demo-orq report: error: argument --rate: '0' (accepted: a number of requests per "
        "second from 1 to 200)"
    )


def test_a_command_that_cannot_start_is_told_on_one_line(capsys):
    assert cli.run_command("watch", ["/nonexistent/command"]) == cli.CANNOT_RUN_EXIT
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("watch: cannot run '/nonexistent/command': ")


def test_the_project_folder_is_the_one_around_the_current_folder(tmp_path: Path):
    copy = tmp_path / "copy"
    (copy / "docs").mkdir(parents=True)
    shutil.copy2(PROJECT_DIR / "Pulumi.yaml", copy / "Pulumi.yaml")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "Pulumi.yaml").write_text("name: another-project\n", encoding="utf-8")

    assert project_folder(PROJECT_DIR / "docs") == PROJECT_DIR
    assert project_folder(copy / "docs") == copy.resolve()
    assert project_folder(tmp_path / "other") == PROJECT_DIR


def test_rollback_starts_without_the_sdk_the_components_or_yaml(project_root):
    # What `demo-orq rollback --help` and `--list` import: the command's start-up is all of
    # their time (the automation API alone took 0.3 s, the components 0.25 s).
    code = (
        "import sys; from demo_orq import cli, rollback; "
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    imported = subprocess.run(
        [sys.executable, "-c", code], cwd=project_root, capture_output=True, text=True, check=True
    ).stdout.split()
    assert {"pulumi", "components", "yaml", "grpc", "google", "matplotlib"}.isdisjoint(imported)
    assert "demo_orq" in imported


def test_pyproject_installs_the_command_and_the_two_packages(project_root):
    pyproject = tomllib.loads((project_root / "pyproject.toml").read_text(encoding="utf-8"))

    assert pyproject["project"]["name"] == "demo-orq"
    assert pyproject["project"]["scripts"] == {"demo-orq": "demo_orq.cli:main"}
    assert pyproject["tool"]["setuptools"]["packages"] == ["components", "demo_orq"]


def test_python_m_demo_orq_is_the_same_command(project_root):
    shown = subprocess.run(
        [sys.executable, "-m", "demo_orq", "--help"],
        cwd=project_root,
        capture_output=True,
        text=True,
        check=True,
    )

    assert shown.stdout == cli.usage() + "\n"


@pytest.mark.parametrize("bad", ["X-Canary", ":always", "X Canary:always"])
def test_a_bad_header_is_refused_on_one_line(capsys, bad):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["get", "--service", "gateway", "--header", bad])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert f"argument --header: {bad!r}: NAME:VALUE, e.g. X-Canary:always" in error


def test_a_header_needs_the_gateway():
    with pytest.raises(StackError, match="--header is sent through the gateway only"):
        reach(auto.Stack.__new__(auto.Stack), "app", [("X-Canary", "always")])


def test_the_gateway_target_says_where_it_goes_and_with_which_headers():
    target = GatewayUrl("https://hello.demo-orq.localhost:30443/api", "", (("X-Canary", "never"),))
    assert target.description == (
        "through the gateway at https://hello.demo-orq.localhost:30443/api with X-Canary: never"
    )
    assert loopback_for("hello.demo-orq.localhost") == "127.0.0.1"
    assert loopback_for("example.test") == "example.test"
