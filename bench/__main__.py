"""The benchmark command: runs the cases, prints the tables and writes them as JSON and Markdown.

bench/run.sh [--runs N] [--cases tools,overhead] [--operations upgrade,...] [--out FILE]

Cases: tools (Pulumi, kubectl and Helm side by side, overhead above the cluster's own time),
overhead (where Pulumi's start-up goes), scaling (a stack of 1, 10, 30 apps, minutes),
evaluation (the many-apps program under mocks). Default: tools,overhead.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from bench.compare import (
    OPERATIONS,
    Comparison,
    format_comparison,
    format_rows,
    markdown_comparison,
    ratio_rows,
    run_comparison,
)
from bench.machine import describe, format_machine
from bench.overhead import run_overhead
from bench.scaling import run_evaluation, run_scaling
from bench.timing import Figures, format_table

ALL_CASES = ("tools", "overhead", "scaling", "evaluation")
DEFAULT_CASES = ("tools", "overhead")
RESULTS = Path(__file__).resolve().parent / "results"


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5, help="runs per figure (default 5)")
    parser.add_argument(
        "--cases",
        default=",".join(DEFAULT_CASES),
        help=f"comma-separated subset of {','.join(ALL_CASES)} (default: "
        f"{','.join(DEFAULT_CASES)})",
    )
    operations = [operation.key for operation in OPERATIONS]
    parser.add_argument(
        "--operations",
        default=",".join(operations),
        help=f"tools case: subset of {','.join(operations)} (deploy and uninstall always run)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="JSON file to write, a .md beside it (default bench/results/<timestamp>.json)",
    )
    arguments = parser.parse_args(argv)
    arguments.cases = {case.strip() for case in arguments.cases.split(",") if case.strip()}
    arguments.operations = {op.strip() for op in arguments.operations.split(",") if op.strip()}
    if arguments.cases - set(ALL_CASES):
        parser.error(
            f"argument --cases: unknown {sorted(arguments.cases - set(ALL_CASES))} "
            f"(accepted: {', '.join(ALL_CASES)})"
        )
    if arguments.operations - set(operations):
        parser.error(
            f"argument --operations: unknown {sorted(arguments.operations - set(operations))} "
            f"(accepted: {', '.join(operations)})"
        )
    if arguments.runs < 1:
        parser.error(f"argument --runs: must be at least 1, got {arguments.runs}")
    arguments.out = (
        arguments.out or RESULTS / f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    )
    return arguments


def main(argv: list[str] | None = None) -> None:
    arguments = parse_arguments(argv)
    machine = describe()
    print(format_machine(machine), flush=True)
    figures = Figures()
    comparison: Comparison | None = None
    started = time.monotonic()
    try:
        if "tools" in arguments.cases:
            comparison = run_comparison(arguments.runs, arguments.operations)
        if "overhead" in arguments.cases:
            run_overhead(arguments.runs, figures)
        if "evaluation" in arguments.cases:
            run_evaluation(arguments.runs, figures)
        if "scaling" in arguments.cases:
            run_scaling(arguments.runs, figures)
    finally:
        # Whatever was measured is shown, also when a case failed half-way.
        total = time.monotonic() - started
        machine["load average at end"] = load_average()
        report(arguments, machine, comparison, figures, total)


def load_average() -> str:
    return " ".join(f"{load:.2f}" for load in os.getloadavg())


def report(
    arguments: argparse.Namespace,
    machine: dict[str, str],
    comparison: Comparison | None,
    figures: Figures,
    total: float,
) -> None:
    sections = []
    if comparison is not None:
        done = arguments.runs - len(comparison.failed_runs)
        failed = "".join(f"\nleft out: {run.splitlines()[0]}" for run in comparison.failed_runs)
        ratios = format_rows(ratio_rows(comparison, "pulumi"))
        sections.append(
            f"{format_comparison(comparison)}\n\n{ratios}\n\n"
            f"median [min..max] over {done} runs; xN: the median as a multiple of the "
            "fastest tool's; cluster = first pod change -> the last pod Ready (uninstall: "
            "namespace gone; switch back: the Service's new selector -> its EndpointSlices list "
            "the new color's pods alone, all Ready), from API watch events stamped on arrival; "
            "before / after: the tool's time before the cluster's first change and after its "
            "last (negative: it returned before the cluster was done); overhead = before + "
            "after (after >= 0); 1st probe: runs whose new pods were all Ready at their first "
            "readiness probe; pulumi/best: to the smaller median of the others, measure by "
            f"measure, named, with its runs that returned early{failed}"
        )
    if any(True for _ in figures):
        sections.append(f"{format_table(figures)}\n\nmedian [min..max] over the runs")
    print("\n\n" + "\n\n".join(sections))
    print(f"\nload average at end {machine['load average at end']}; total benchmark time "
          f"{total / 60:.1f} min")  # fmt: skip
    arguments.out.parent.mkdir(parents=True, exist_ok=True)
    arguments.out.write_text(
        json.dumps(
            {
                "machine": machine,
                "runs": arguments.runs,
                "cases": sorted(arguments.cases),
                "total_seconds": total,
                "comparison": comparison.as_dict() if comparison else None,
                "figures": [figure.as_dict() for figure in figures],
            },
            indent=2,
            ensure_ascii=False,
        )
        + "\n",
        encoding="utf-8",
    )
    if comparison is not None:
        arguments.out.with_suffix(".md").write_text(
            markdown_comparison(comparison) + "\n", encoding="utf-8"
        )
    print(f"written to {arguments.out}")


if __name__ == "__main__":
    main()
