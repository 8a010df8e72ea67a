"""The benchmark command: runs the cases, prints the table and writes it as JSON.

bench/run.sh [--runs N] [--cases 1,2,...] [--out bench/results/<timestamp>.json]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from bench.demo_cases import DEMO_CASES, run_demo_cases
from bench.machine import describe, format_machine
from bench.overhead import run_overhead
from bench.scaling import run_evaluation, run_scaling
from bench.timing import Figures, format_table

ALL_CASES = ("1", "2", "3", "4", "5", "6", "7", "8", "overhead")
RESULTS = Path(__file__).resolve().parent / "results"


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3, help="runs per figure (default 3)")
    parser.add_argument(
        "--cases",
        default=",".join(ALL_CASES),
        help=f"comma-separated subset of {','.join(ALL_CASES)} (default: all); "
        "any of 1,2,3,4,7,8 deploys the demo, which also times 1, 2 and 4",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="JSON file to write (default bench/results/<timestamp>.json)",
    )
    arguments = parser.parse_args(argv)
    arguments.cases = {case.strip() for case in arguments.cases.split(",") if case.strip()}
    unknown = arguments.cases - set(ALL_CASES)
    if unknown or arguments.runs < 1:
        parser.error(f"unknown cases {sorted(unknown)}" if unknown else "--runs must be at least 1")
    arguments.out = (
        arguments.out or RESULTS / f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    )
    return arguments


def main(argv: list[str] | None = None) -> None:
    arguments = parse_arguments(argv)
    machine = describe()
    print(format_machine(machine), flush=True)
    figures = Figures()
    started = time.monotonic()
    try:
        if "overhead" in arguments.cases:
            run_overhead(arguments.runs, figures)
        if "6" in arguments.cases:
            run_evaluation(arguments.runs, figures)
        if arguments.cases & DEMO_CASES:
            run_demo_cases(arguments.runs, arguments.cases, figures)
        if "5" in arguments.cases:
            run_scaling(arguments.runs, figures)
    finally:
        # Whatever was measured is shown, also when a case failed half-way.
        total = time.monotonic() - started
        print(
            f"\n{format_table(figures)}\n\nmedian [min..max] over the runs; total benchmark time "
            f"{total / 60:.1f} min"
        )
        arguments.out.parent.mkdir(parents=True, exist_ok=True)
        arguments.out.write_text(
            json.dumps(
                {
                    "machine": machine,
                    "runs": arguments.runs,
                    "cases": sorted(arguments.cases),
                    "total_seconds": total,
                    "figures": [figure.as_dict() for figure in figures],
                },
                indent=2,
                ensure_ascii=False,
            )
            + "\n",
            encoding="utf-8",
        )
        print(f"written to {arguments.out}")


if __name__ == "__main__":
    main()
