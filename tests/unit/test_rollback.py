"""Choosing the update to roll back to, and refusing what cannot be restored (no CLI needed)."""

from datetime import datetime

import pytest
from pulumi import automation as auto

from demo_orq.rollback import (
    RollbackError,
    choose_update,
    describe,
    numbered,
    parse_arguments,
    restorable_config,
)


def update(
    version: int, result: str = "succeeded", kind: str = "update", **config
) -> auto.UpdateSummary:
    return auto.UpdateSummary(
        kind=kind,
        start_time=datetime(2026, 11, 27),
        message=f"update {version}",
        environment={},
        config={f"demo-orq:{k}": {"value": v, "secret": False} for k, v in config.items()},
        result=result,
        version=version,
    )


HISTORY = [update(4, message="v2"), update(3, result="failed"), update(2, replicas="5"), update(1)]


def test_previous_is_the_successful_update_before_the_current_one():
    assert choose_update(HISTORY, None).number == 2


def test_previous_after_a_failed_update_is_the_last_successful_one():
    history = [update(5, result="failed", image="missing"), *HISTORY]
    assert choose_update(history, None).number == 4


def test_a_numbered_update_is_chosen_by_its_number():
    assert choose_update(HISTORY, 1).update is HISTORY[3]


def test_without_backend_versions_updates_are_numbered_by_position():
    # The local file backend reports version 0 for every update; newest comes first.
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


def test_the_recorded_config_is_restored_as_it_was():
    restored = restorable_config(numbered([update(2, replicas="5")])[0])
    assert {key: (v.value, v.secret) for key, v in restored.items()} == {
        "demo-orq:replicas": ("5", False)
    }


def test_a_secret_that_cannot_be_read_back_is_refused():
    hidden = update(2)
    hidden.config["demo-orq:token"] = auto.ConfigValue("[secret]", secret=True)
    with pytest.raises(
        RollbackError, match=r"update 2 has secret config.*demo-orq:token.*PULUMI_CONFIG_PASSPHRASE"
    ):
        restorable_config(numbered([hidden])[0])


def test_update_numbers_start_at_one(capsys):
    with pytest.raises(SystemExit):
        parse_arguments(["--to", "0"])
    assert "update numbers start at 1, got 0" in capsys.readouterr().err
