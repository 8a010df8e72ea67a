"""The benchmark's own helpers work (bench/timing.py); no timing is asserted."""

import json
import math

from bench.timing import Figure, Figures, format_figure, format_table, stopwatch


def test_a_figure_has_the_median_and_the_spread_of_its_runs():
    figure = Figure("1 cold deploy", "pulumi up", values=[3.0, 1.0, 2.0, 10.0])

    assert figure.median == 2.5
    assert figure.spread == (1.0, 10.0)
    assert format_figure(figure) == "2.50 [1.00..10.0]"


def test_a_figure_without_runs_shows_a_dash_and_one_run_shows_its_value():
    assert math.isnan(Figure("c", "m").median)
    assert format_figure(Figure("c", "m")) == "- [-..-]"
    assert format_figure(Figure("c", "m", values=[123.4])) == "123"


def test_figures_are_listed_by_case_number_then_in_the_order_of_first_use():
    figures = Figures()
    figures.add("10 start-up overhead", "python -c pass", 0.1)
    figures.get("5 scaling", "pulumi up, N=30")
    figures.add("5 scaling", "pulumi up, N=1", 1.0)
    figures.add("5 scaling", "pulumi up, N=30", 9.0, note="runs=1")

    assert [(f.what, f.values, f.note) for f in figures] == [
        ("pulumi up, N=30", [9.0], "runs=1"),
        ("pulumi up, N=1", [1.0], ""),
        ("python -c pass", [0.1], ""),
    ]


def test_the_table_has_a_header_and_one_row_per_figure_and_the_json_is_plain():
    figures = Figures()
    figures.add("1 cold deploy", "pulumi up", 12.0)
    figures.add("7 traffic", "pulumi, during: failed requests", 0, unit="count", note="150 req/s")

    lines = format_table(figures).splitlines()
    assert lines[0].split() == ["case", "measure", "unit", "runs", "median", "[min..max]", "note"]
    assert len(lines) == 4 and lines[3].endswith("150 req/s")
    row = json.loads(json.dumps([f.as_dict() for f in figures]))[0]
    assert (row["median"], row["min"], row["max"], row["runs"]) == (12.0, 12.0, 12.0, 1)


def test_the_stopwatch_measures_also_when_the_block_fails():
    try:
        with stopwatch() as elapsed:
            raise RuntimeError
    except RuntimeError:
        pass
    assert len(elapsed) == 1 and elapsed[0] >= 0
