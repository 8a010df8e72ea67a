"""Figures (a measure repeated over runs), their median and spread, and the printed table."""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field


def median(values: list[float]) -> float:
    """The median of the runs; nan without any."""
    return statistics.median(values) if values else float("nan")


@dataclass
class Figure:
    """One measure of one case, with one value per run."""

    case: str
    what: str
    unit: str = "s"
    values: list[float] = field(default_factory=list)
    note: str = ""

    def add(self, value: float) -> None:
        self.values.append(value)

    @property
    def median(self) -> float:
        return median(self.values)

    @property
    def spread(self) -> tuple[float, float]:
        """(min, max) of the runs."""
        return (min(self.values), max(self.values)) if self.values else (float("nan"),) * 2

    def as_dict(self) -> dict:
        low, high = self.spread
        return {
            **asdict(self),
            "median": self.median,
            "min": low,
            "max": high,
            "runs": len(self.values),
        }


class Figures:
    """The figures of a benchmark run, in the order they were first measured."""

    def __init__(self) -> None:
        self._by_key: dict[tuple[str, str], Figure] = {}

    def get(self, case: str, what: str, unit: str = "s", note: str = "") -> Figure:
        key = (case, what)
        if key not in self._by_key:
            self._by_key[key] = Figure(case, what, unit)
        if note:
            self._by_key[key].note = note
        return self._by_key[key]

    def add(self, case: str, what: str, value: float, unit: str = "s", note: str = "") -> None:
        self.get(case, what, unit, note).add(value)

    def __iter__(self) -> Iterator[Figure]:
        """By case number (the cases run in another order), then in the order first used."""
        return iter(sorted(self._by_key.values(), key=lambda figure: case_number(figure.case)))


def case_number(case: str) -> int:
    number = case.split(" ", 1)[0]
    return int(number) if number.isdigit() else 0


@contextmanager
def stopwatch() -> Iterator[list[float]]:
    """`with stopwatch() as elapsed:` ... then elapsed[0] holds the wall seconds."""
    elapsed: list[float] = []
    started = time.monotonic()
    try:
        yield elapsed
    finally:
        elapsed.append(time.monotonic() - started)


def format_number(value: float) -> str:
    if value != value:  # NaN
        return "-"
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def format_figure(figure: Figure) -> str:
    """`median [min..max]`, or the single value of a one-run figure."""
    if len(figure.values) == 1:
        return format_number(figure.values[0])
    low, high = figure.spread
    return f"{format_number(figure.median)} [{format_number(low)}..{format_number(high)}]"


def format_table(figures: Figures) -> str:
    rows = [("case", "measure", "unit", "runs", "median [min..max]", "note")]
    for figure in figures:
        rows.append(
            (
                figure.case,
                figure.what,
                figure.unit,
                str(len(figure.values)),
                format_figure(figure),
                figure.note,
            )
        )
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]) - 1)]
    lines = []
    for index, row in enumerate(rows):
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)] + [row[-1]]
        lines.append("  ".join(cells).rstrip())
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)
