"""A stack's recovery events (demo_orq.events): recorded per stack, checked, listed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from demo_orq import events


def test_events_are_recorded_per_stack(tmp_path: Path):
    events.record("s1", "heal", 4.0, work_dir=tmp_path)
    events.record("s1", "failed-rollout", 50.0, "rolled back", work_dir=tmp_path)
    events.record("other", "heal", 99.0, work_dir=tmp_path)
    recorded = events.read("s1", tmp_path)
    assert events.events_file("s1", tmp_path) == tmp_path / ".demo-orq" / "events" / "s1.jsonl"
    assert [(e.kind, e.seconds, e.detail) for e in recorded] == [
        ("heal", 4.0, ""),
        ("failed-rollout", 50.0, "rolled back"),
    ]


@pytest.mark.parametrize(
    "kind, seconds, expected",
    [("nap", 1.0, "kind 'nap' (accepted: heal, failed-rollout, node-restart)"),
     ("heal", -1.0, "seconds -1.0 (accepted: a number from 0 to 86400)")],
)  # fmt: skip
def test_a_bad_event_is_refused(tmp_path: Path, kind, seconds, expected):
    with pytest.raises(ValueError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        events.record("s1", kind, seconds, work_dir=tmp_path)
    assert events.read("s1", tmp_path) == []


def test_the_events_command_records_and_lists(tmp_path: Path, capsys):
    argv = ["--stack", "s1", "--work-dir", str(tmp_path)]
    assert events.main(["record", *argv, "--kind", "heal", "--seconds", "4.2"]) == 0
    assert events.main(["list", *argv]) == 0
    listed = capsys.readouterr().out.splitlines()[-1]
    assert json.loads(listed)["seconds"] == 4.2
