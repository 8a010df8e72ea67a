"""Reading a stack's history: from the files of a local file backend (no CLI run), else from one
`pulumi stack history` run (here a stand-in `pulumi`). No Pulumi CLI, no cluster."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from demo_orq.rollback import describe, numbered
from demo_orq.stack_history import HistoryError, StackRef, file_backend, read_history
from tests.unit.file_backend import (
    FIRST_STAMP,
    SECRET_MESSAGE,
    SECRET_TOKEN,
    make_backend,
    update_info,
)

CLI_HISTORY = [
    {
        "version": 0,
        "kind": "update",
        "message": "from the CLI",
        "result": "succeeded",
        "config": {
            "demo-orq:message": {"value": "hola secreto", "secret": True},
            "demo-orq:replicas": {"value": "3", "secret": False},
            "demo-orq:appConfig": {
                "value": '{"APP_MODE":"prod"}',
                "objectValue": {"APP_MODE": "prod"},
                "secret": False,
            },
            "demo-orq:appSecrets": {
                "value": '{"API_TOKEN":"tok"}',
                "objectValue": {"API_TOKEN": "tok"},
                "secret": True,
            },
        },
    }
]


def with_cli_history(tmp_path: Path, backend_url: str | None = None) -> StackRef:
    """A stack whose history the stand-in `pulumi` serves (CLI_HISTORY)."""
    backend = make_backend(tmp_path, update_info("from the files"))
    served = tmp_path / "history.json"
    served.write_text(json.dumps(CLI_HISTORY), encoding="utf-8")
    backend.set(FAKE_PULUMI_HISTORY=str(served))
    if backend_url is not None:
        backend.set(PULUMI_BACKEND_URL=backend_url)
    return backend.stack


def test_updates_come_newest_first_in_the_order_of_their_nanoseconds(tmp_path: Path) -> None:
    backend = make_backend(tmp_path, update_info("first"), update_info("second"))
    # An older stamp with fewer digits: a sort by name would put it last.
    backend.add(update_info("oldest"), 999_999_999)
    backend.add(update_info("newest", replicas="5"), FIRST_STAMP * 10)

    history = read_history(backend.stack)

    assert [u.message for u in history] == ["newest", "second", "first", "oldest"]
    assert [(e.number, e.update.message) for e in numbered(history)] == [
        (4, "newest"), (3, "second"), (2, "first"), (1, "oldest")
    ]  # fmt: skip
    assert backend.runs() == [], "the CLI was run"


def test_failed_updates_and_refreshes_keep_their_kind_and_result(tmp_path: Path) -> None:
    backend = make_backend(
        tmp_path,
        update_info("v1"),
        update_info("", kind="refresh"),
        update_info("bad image", result="failed", image="nope:1"),
    )

    history = read_history(backend.stack)

    assert [(u.kind, u.result) for u in history] == [
        ("update", "failed"), ("refresh", "succeeded"), ("update", "succeeded")
    ]  # fmt: skip
    assert history[0].config == {"demo-orq:image": "nope:1"}


def test_secrets_stay_encrypted_as_recorded_and_objects_stay_objects(tmp_path: Path) -> None:
    config = {"message": SECRET_MESSAGE, "replicas": "3", "appConfig": {"APP_MODE": "prod"},
              "appSecrets": {"API_TOKEN": SECRET_TOKEN}, "blueConfig": {}}  # fmt: skip
    backend = make_backend(tmp_path, update_info("v1", **config))

    [update] = read_history(backend.stack)

    assert update.config == {f"demo-orq:{key}": value for key, value in config.items()}
    assert update.secrets == {}
    line = describe(numbered([update])[0])
    assert line.endswith(
        '[appConfig={"APP_MODE":"prod"}, appSecrets=[secret], message=[secret], replicas=3]'
    )
    assert "v1:" not in line


def test_a_stack_with_no_update_has_an_empty_history(tmp_path: Path) -> None:
    assert read_history(make_backend(tmp_path).stack) == []


def test_an_unknown_stack_is_refused_naming_the_stacks_there_are(tmp_path: Path) -> None:
    backend = make_backend(tmp_path, update_info("v1"))
    (backend.state / "stacks" / "demo-orq" / "other.json.gz").write_bytes(b"")
    (backend.state / "stacks" / "demo-orq" / "t.json.bak").write_bytes(b"")
    missing = StackRef("nope", backend.stack.work_dir, backend.env)

    with pytest.raises(HistoryError, match=r"^no stack 'nope' in .* \(stacks: other, t\); "):
        read_history(missing)


@pytest.mark.parametrize(
    "url",
    ["", "https://api.pulumi.com", "s3://bucket", "file://relative/state", "file://{state}?x=1"],
)
def test_another_backend_is_read_through_the_cli(tmp_path: Path, url: str) -> None:
    stack = with_cli_history(tmp_path, url.format(state=tmp_path / "state"))

    [update] = read_history(stack)

    assert update.message == "from the CLI"
    assert update.config == {"demo-orq:replicas": "3", "demo-orq:appConfig": {"APP_MODE": "prod"}}
    assert update.secrets == {"demo-orq:message": "hola secreto",
                              "demo-orq:appSecrets": {"API_TOKEN": "tok"}}  # fmt: skip
    assert describe(numbered([update])[0]).endswith(
        '[appConfig={"APP_MODE":"prod"}, appSecrets=[secret], message=[secret], replicas=3]'
    )


@pytest.mark.parametrize(
    "change",
    ["legacy layout", "no meta.yaml", "compressed history", "unknown file", "not an update"],
)
def test_a_layout_not_known_is_read_through_the_cli(tmp_path: Path, change: str) -> None:
    stack = with_cli_history(tmp_path)
    state = tmp_path / "state" / ".pulumi"
    history = state / "history" / "demo-orq" / "t"
    if change == "legacy layout":
        (state / "meta.yaml").write_text("version: 0\n", encoding="utf-8")
    elif change == "no meta.yaml":
        (state / "meta.yaml").unlink()
    elif change == "compressed history":
        (history / f"t-{FIRST_STAMP + 5}.history.json.gz").write_bytes(b"\x1f\x8b")
    elif change == "unknown file":
        (history / "t-latest.history.json").write_text("{}", encoding="utf-8")
    else:
        (history / f"t-{FIRST_STAMP + 5}.history.json").write_text("[1]", encoding="utf-8")

    assert [u.message for u in read_history(stack)] == ["from the CLI"]


def test_the_cli_is_run_once_with_the_stack_and_secrets_only_when_asked(tmp_path: Path) -> None:
    backend = make_backend(tmp_path)
    served = tmp_path / "history.json"
    served.write_text("[]", encoding="utf-8")
    backend.set(PULUMI_BACKEND_URL="https://api.pulumi.com", FAKE_PULUMI_HISTORY=str(served))

    read_history(backend.stack)
    read_history(backend.stack, show_secrets=False)

    assert [run["args"] for run in backend.runs()] == [
        ["--non-interactive", "stack", "history", "--json", "--stack", "t", "--show-secrets"],
        ["--non-interactive", "stack", "history", "--json", "--stack", "t"],
    ]


def test_a_failed_cli_read_is_refused_with_its_error_line(tmp_path: Path) -> None:
    backend = make_backend(tmp_path)
    served = tmp_path / "history.json"
    served.write_text("Reading history\nerror: passphrase must be set\n", encoding="utf-8")
    backend.set(PULUMI_BACKEND_URL="", FAKE_PULUMI_HISTORY=str(served),
                FAKE_PULUMI_HISTORY_EXIT="255")  # fmt: skip

    with pytest.raises(HistoryError) as refused:
        read_history(backend.stack)

    assert str(refused.value) == "cannot read the history of stack 't': passphrase must be set"


def test_the_file_backend_is_the_folder_of_a_plain_file_url(tmp_path: Path) -> None:
    assert file_backend({"PULUMI_BACKEND_URL": f"file://{tmp_path}"}) == tmp_path
    assert file_backend({"PULUMI_BACKEND_URL": "file://~/state"}) == Path.home() / "state"
    assert file_backend({}) is None
