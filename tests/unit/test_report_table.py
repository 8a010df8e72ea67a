"""The report's table (demo_orq.report_table): every figure, the SLO marks, the MTTR."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from demo_orq import events
from demo_orq.report_table import table
from tests.unit.reports import a_report

FIGURES = ("availability", "error rate", "latency p50", "latency p95", "latency p99",
           "pod hello-api-1 CPU", "pod hello-api-1 memory", "pod hello-api-1 restarts",
           "updates", "deploy time", "rollback rate", "failed-update rate", "MTTR")  # fmt: skip


def test_the_table_has_every_figure_and_marks_the_slo(tmp_path: Path):
    printed = table(a_report(tmp_path))
    for figure in FIGURES:
        assert f"\n{figure} " in printed, figure
    assert "100.000% (100/100 answered 200)" in printed
    assert "within SLO (>= 99%)" in printed
    assert "within SLO (<= 100 ms)" in printed
    assert "1.0m (request 50m, limit 200m, 0% of limit)" in printed
    assert "5.0Mi (request 64Mi, limit 128Mi, 4% of limit)" in printed
    assert "not measured (no recovery event recorded)" in printed


def test_the_table_shows_the_mttr_when_events_were_recorded(tmp_path: Path):
    recorded = [events.Event("heal", 3.0, 0.0), events.Event("heal", 5.0, 0.0)]
    assert "4.0 s over 2 events (heal 4.0 s)" in table(a_report(tmp_path, recorded))


def test_how_the_probe_was_measured_is_said_once_below_the_table(tmp_path: Path):
    report = a_report(tmp_path)
    report = replace(report, probe=replace(report.probe, measured="through the API server X"))

    printed = table(report).splitlines()

    assert printed[-1] == "The probe's requests went through the API server X."
    assert not any("through the API server" in line for line in printed[:-1])
