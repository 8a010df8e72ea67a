"""What `demo-orq watch` tells of the users' requests (demo_orq.watch), from synthetic answers."""

from __future__ import annotations

import pytest

from components.traffic import Answer, TrafficReport
from demo_orq.watch import RATE, Watched

V1, V2 = "v1\n", "v2\n"
ANSWERS = [
    Answer(10.0, 0.01, V1),
    Answer(10.5, 0.01, None, "HTTP 503: b''"),
    Answer(10.6, 0.01, None, "HTTP 503: b''"),
    Answer(11.0, 0.01, V2),
    Answer(11.5, 0.01, V1),
    Answer(12.0, 0.01, V2),
    Answer(12.5, 0.01, V2),
    Answer(13.0, 0.01, V2),
]


def test_the_answers_split_the_same_way_for_the_canary_and_the_watch():
    report = TrafficReport(ANSWERS)

    assert report.split() == "50% 'v2', 25% 'v1', 25% \"failed: HTTP 503: b''\""
    assert report.split(with_failures=False) == "50% 'v2', 25% 'v1'"


def test_the_summary_tells_the_split_the_failures_and_the_final_answer():
    watched = Watched(TrafficReport(ANSWERS), started=10.0, ended=12.2, exit_code=0)

    assert watched.downtime() == pytest.approx(0.1 + 1 / RATE)
    assert watched.summary() == (
        "8 requests while it ran (2.2 s) and 3 s after: answers 50% 'v2', 25% 'v1'; 2 failed, "
        "downtime 0.1 s; only 'v2' from 1.5 s after the start"
    )
