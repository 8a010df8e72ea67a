"""Choosing the update to roll back to, refusing what cannot be restored, and the rollback's own
runs: the stack file written from the history, one `pulumi up`, the file put back when it fails.
A stand-in `pulumi` (tests/unit/file_backend.py) logs what it is run with; no CLI, no cluster."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from demo_orq import cli
from demo_orq.rollback import (
    RollbackError,
    RollbackFailedError,
    choose_update,
    describe,
    is_secret,
    numbered,
    parse_arguments,
    relay,
    require_readable_secrets,
    rollback,
)
from demo_orq.stack_history import Update
from tests.unit.file_backend import SECRET_MESSAGE, SECRET_TOKEN, Backend, make_backend, update_info


def update(version: int, result: str = "succeeded", kind: str = "update", **config: str) -> Update:
    return Update(kind, result, f"update {version}", version,
                  {f"demo-orq:{k}": v for k, v in config.items()})  # fmt: skip


HISTORY = [update(4, message="v2"), update(3, result="failed"), update(2, replicas="5"), update(1)]


def test_previous_is_the_successful_update_before_the_current_one():
    assert choose_update(HISTORY, None).number == 2


def test_previous_after_a_failed_update_is_the_last_successful_one():
    history = [update(5, result="failed", image="missing"), *HISTORY]
    assert choose_update(history, None).number == 4


def test_a_numbered_update_is_chosen_by_its_number():
    assert choose_update(HISTORY, 1).update is HISTORY[3]


def test_without_backend_versions_updates_are_numbered_by_position():
    # The local file backend records version 0 for every update; newest comes first.
    history = [update(0, message="v2"), update(0, replicas="5"), update(0)]
    assert [(e.number, e.update) for e in numbered(history)] == [
        (3, history[0]),
        (2, history[1]),
        (1, history[2]),
    ]
    assert choose_update(history, 2).update is history[1]


def test_the_list_shows_number_result_message_and_the_telling_config():
    line = describe(numbered(HISTORY)[0])
    assert line.split() == ["4", "update", "succeeded", "update", "4", "[message=v2]"]


@pytest.mark.parametrize(
    "version, expected",
    [
        (9, "update 9 is not in the stack history (successful updates: 4, 2, 1)"),
        (3, "update 3 is a 'update' that failed"),
    ],
)
def test_an_unusable_update_number_is_refused(version, expected):
    with pytest.raises(RollbackError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        choose_update(HISTORY, version)


def test_previous_needs_two_successful_updates():
    with pytest.raises(RollbackError, match="no earlier successful update"):
        choose_update([update(1)], None)


def test_a_secret_the_cli_could_not_read_back_is_refused():
    hidden = Update("update", "succeeded", "", 2, {}, {"demo-orq:token": "[secret]"})
    with pytest.raises(
        RollbackError, match=r"update 2 has secret config.*demo-orq:token.*PULUMI_CONFIG_PASSPHRASE"
    ):
        require_readable_secrets(numbered([hidden])[0])


@pytest.mark.parametrize(
    "value, secret",
    [
        (SECRET_MESSAGE, True),
        ({"API_TOKEN": SECRET_TOKEN, "MODE": "x"}, True),
        ([{"a": SECRET_TOKEN}], True),
        ({"secure": "v1:x", "other": "y"}, False),
        ({"APP_MODE": "prod"}, False),
        (["secure"], False),
        ("secure", False),
    ],
)
def test_a_value_is_secret_when_it_holds_a_ciphertext(value, secret):
    assert is_secret(value) is secret


def test_update_numbers_start_at_one(capsys):
    with pytest.raises(SystemExit):
        parse_arguments(["--to", "0"])
    assert "update numbers start at 1, got 0" in capsys.readouterr().err


V1_CONFIG = {"message": SECRET_MESSAGE, "replicas": "3", "appConfig": {"APP_MODE": "prod"},
             "appSecrets": {"API_TOKEN": SECRET_TOKEN}}  # fmt: skip


@pytest.fixture
def backend(tmp_path: Path) -> Backend:
    """v1 (secrets and objects), then v2, deployed."""
    return make_backend(
        tmp_path, update_info("v1", **V1_CONFIG), update_info("v2", message="v2", replicas="5")
    )


def stack_file_config(backend: Backend) -> dict:
    return yaml.safe_load(backend.stack.stack_file.read_text(encoding="utf-8"))["config"]


def test_a_rollback_writes_the_recorded_config_and_runs_pulumi_up_once(backend: Backend):
    backend.set(FAKE_PULUMI_OUTPUT="Updating (t):|Resources: 1 updated")
    shown: list[str] = []

    target = rollback(backend.stack, None, on_output=shown.append)

    assert target.number == 1
    [run] = backend.runs()
    assert run["args"] == ["--non-interactive", "up", "--yes", "--skip-preview",
                           "--message", "rollback to update 1", "--stack", "t"]  # fmt: skip
    seen = yaml.safe_load(run["stack_file"])
    assert seen["config"] == {f"demo-orq:{key}": value for key, value in V1_CONFIG.items()}
    assert (
        seen["encryptionsalt"]
        == yaml.safe_load(backend.stack.stack_file.read_text())["encryptionsalt"]
    )
    assert shown == ["Updating (t):", "Resources: 1 updated"]


def test_a_failed_up_puts_the_stack_file_back_and_says_why_on_one_line(backend: Backend):
    before = backend.stack.stack_file.read_bytes()
    backend.set(FAKE_PULUMI_UP_EXIT="255",
                FAKE_PULUMI_OUTPUT="Diagnostics:|    error: the image never became ready|"
                                   "    error: update failed")  # fmt: skip

    with pytest.raises(RollbackFailedError) as failed:
        rollback(backend.stack, 1, on_output=lambda line: None)

    assert backend.stack.stack_file.read_bytes() == before
    assert str(failed.value).startswith(
        "pulumi up: the image never became ready; Pulumi.t.yaml put back as it was"
    )
    assert [run["args"][1] for run in backend.runs()] == ["up"]


def test_without_the_passphrase_nothing_runs_and_nothing_changes(backend: Backend):
    before = backend.stack.stack_file.read_bytes()
    del backend.env["PULUMI_CONFIG_PASSPHRASE"]

    with pytest.raises(RollbackError, match="set PULUMI_CONFIG_PASSPHRASE"):
        rollback(backend.stack, 1)

    assert backend.runs() == []
    assert backend.stack.stack_file.read_bytes() == before


def test_a_refused_update_changes_nothing(backend: Backend):
    before = backend.stack.stack_file.read_bytes()
    with pytest.raises(RollbackError, match="update 7 is not in the stack history"):
        rollback(backend.stack, 7)
    assert (backend.runs(), backend.stack.stack_file.read_bytes()) == ([], before)


def test_a_history_read_by_the_cli_has_its_secrets_set_by_one_config_run(tmp_path: Path):
    backend = make_backend(tmp_path)
    config = {
        "demo-orq:replicas": {"value": "3", "secret": False},
        "demo-orq:appConfig": {"value": "", "objectValue": {"APP_MODE": "prod"}, "secret": False},
        "demo-orq:message": {"value": "hola secreto", "secret": True},
        "demo-orq:weird.key": {"value": "x=1", "secret": True},
        "demo-orq:appSecrets": {"value": "", "objectValue": {"API_TOKEN": "tok", "N": 5},
                                "secret": True},
    }  # fmt: skip
    entries = [
        {"version": 9, "kind": "update", "result": "succeeded", "message": "v2"},
        {"version": 8, "kind": "update", "result": "succeeded", "config": config},
    ]
    served = tmp_path / "history.json"
    served.write_text(json.dumps(entries), encoding="utf-8")
    backend.set(PULUMI_BACKEND_URL="https://api.pulumi.com", FAKE_PULUMI_HISTORY=str(served))

    assert rollback(backend.stack, None, on_output=lambda line: None).number == 8

    history, set_all, up = backend.runs()
    assert history["args"][1:3] == ["stack", "history"]
    assert set_all["args"] == [
        "--non-interactive", "config", "set-all", "--stack", "t", "--path",
        "--secret", "demo-orq:message=hola secreto",
        "--secret", 'demo-orq:["weird.key"]=x=1',
        "--secret", "demo-orq:appSecrets.API_TOKEN=tok",
        "--secret", "demo-orq:appSecrets.N=5",
    ]  # fmt: skip
    assert yaml.safe_load(set_all["stack_file"])["config"] == {
        "demo-orq:replicas": "3",
        "demo-orq:appConfig": {"APP_MODE": "prod"},
    }
    assert up["args"][1] == "up"


def test_the_output_is_read_to_its_end_through_an_interrupt():
    shown: list[str] = []

    def show(line: str) -> None:
        shown.append(line)
        if line == "cancelling":
            raise KeyboardInterrupt  # Ctrl-C: pulumi got it too and is still cancelling

    try:
        seen = relay(iter(["a\n", "cancelling\n", "cancelled\n"]), show)
    except KeyboardInterrupt:
        pytest.fail("the interrupt ended the reading: pulumi would lose its output pipe")
    assert seen == ["a", "cancelling", "cancelled"]
    assert shown == ["a", "cancelling", "cancelled"]


def test_the_list_needs_no_passphrase_and_shows_no_secret(backend: Backend, monkeypatch, capsys):
    del backend.env["PULUMI_CONFIG_PASSPHRASE"]
    monkeypatch.setattr("demo_orq.rollback.StackRef", lambda name, work_dir: backend.stack)

    assert cli.main(["rollback", "--list", "--work-dir", str(backend.stack.work_dir)]) == 0

    listed = capsys.readouterr().out.splitlines()
    assert [line.split()[:4] for line in listed] == [
        ["2", "update", "succeeded", "v2"], ["1", "update", "succeeded", "v1"]
    ]  # fmt: skip
    assert "message=[secret]" in listed[1] and "appSecrets=[secret]" in listed[1]
    assert SECRET_MESSAGE["secure"] not in "".join(listed) and backend.runs() == []


def test_the_command_ends_a_failed_rollback_with_one_line(backend: Backend, monkeypatch, capsys):
    backend.set(FAKE_PULUMI_UP_EXIT="1", FAKE_PULUMI_OUTPUT="error: boom")
    monkeypatch.setattr("demo_orq.rollback.StackRef", lambda name, work_dir: backend.stack)

    assert cli.main(["rollback", "--to", "1", "--work-dir", str(backend.stack.work_dir)]) == 1

    err = capsys.readouterr().err.splitlines()
    assert err == ["rollback failed: pulumi up: boom; Pulumi.t.yaml put back as it was "
                   "(a failed rollout leaves the old version serving)"]  # fmt: skip
