"""The operating figures of a deployed stack, in one table, as JSON and as a timeline picture.

    demo-orq report                              # stack dev, a 30 s probe at 20 req/s
    demo-orq report --stack dev --probe-seconds 60 --rate 50 --out DIR
    demo-orq report --stack dev -- pulumi up --yes --skip-preview -m v2
                      # measures while the command runs (a rollout), then 3 s more
    demo-orq report --since 10m                  # or --from T --to T, or --last-update:
                      # the users' requests of a past window, from the cluster's Prometheus

It measures (demo_orq.report_measure, the figures in demo_orq.report_figures):
- availability, error rate and latency p50/p95/p99 of a probe window: a steady load on the
  stack's Service through the API server of its kubeconfig and context (any cluster), bounded
  in time (--probe-seconds) and rate (--rate); the hop to the API server is measured beside it
  and taken off the latencies;
- CPU and memory of each pod against its requests and limits (the metrics.k8s.io API), its
  restarts and OOMKilled terminations;
- from the stack history: updates, deploy time (median, last), rollback and failed-update rates;
- MTTR from the recovery events recorded for the stack (`demo-orq events`), else "not measured";
With a past window (demo_orq.report_window) there is no probe: the requests are the users',
through the gateway, per backend Service, and the pods' CPU, throttling, memory and OOM events
are cAdvisor's, all from the cluster's Prometheus (cluster/prometheus.sh).

It marks availability, error rate and p99 within or outside the stack's SLO
(`sloAvailabilityPercent`, `sloP99Ms`). It writes report.json and report-timeline.png (requests
per second, errors, p99 and ready pods per version over the probe window) into --out
(default: .demo-orq/reports/<stack>/ in the project folder).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from .cli import command_parser
from .report_figures import Report
from .report_measure import Options, PastWindow, make_report
from .report_table import table
from .report_window import duration_seconds
from .stacks import add_service_argument
from .timeline import Timeline, draw

PROBE_SECONDS = (5, 600)
RATE = (1, 200)


def bounded(name: str, low: float, high: float) -> Callable[[str], float]:
    def parse(raw: str) -> float:
        try:
            value = float(raw)
        except ValueError:
            value = float("nan")
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"{raw!r} (accepted: a number of {name} from {low:g} to {high:g})"
            )
        return value

    return parse


def window_duration(raw: str) -> str:
    try:
        duration_seconds(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{raw!r} (accepted: a duration such as 90s, 10m or 1h30m, at most 7 days)"
        ) from None
    return raw


def moment(raw: str) -> datetime:
    try:
        return datetime.fromisoformat(raw).astimezone()
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{raw!r} (accepted: an ISO 8601 time, e.g. 2026-12-02T14:00 or 2026-12-02 14:00:00Z)"
        ) from None


def split_command(argv: Sequence[str]) -> tuple[list[str], list[str]]:
    arguments = list(argv)
    if "--" not in arguments:
        return arguments, []
    index = arguments.index("--")
    return arguments[:index], arguments[index + 1 :]


def parse_arguments(argv: Sequence[str]) -> Options:
    parser = command_parser(
        "report",
        epilog="With `-- COMMAND...`, the probe lasts while COMMAND runs (e.g. a rollout).",
    )
    parser.add_argument(
        "--probe-seconds",
        type=bounded("seconds", *PROBE_SECONDS),
        default=30.0,
        help=f"probe window, {PROBE_SECONDS[0]}-{PROBE_SECONDS[1]} s (default: 30)",
    )
    parser.add_argument(
        "--rate",
        type=bounded("requests per second", *RATE),
        default=20.0,
        help=f"probe requests per second, {RATE[0]}-{RATE[1]} (default: 20)",
    )
    past = parser.add_mutually_exclusive_group()
    past.add_argument(
        "--since",
        type=window_duration,
        help="a past window instead of a probe: the last DURATION (90s, 10m, 1h30m) of the "
        "users' requests, from Prometheus",
    )
    past.add_argument(
        "--from",
        dest="start",
        type=moment,
        help="a past window from this time (ISO 8601, e.g. 2026-12-02T14:00); with --to",
    )
    past.add_argument(
        "--last-update",
        action="store_true",
        help="the past window of the stack's last update, from its history",
    )
    parser.add_argument("--to", dest="end", type=moment, help="the end of --from's window")
    parser.add_argument("--out", type=Path, help="folder for the JSON and the PNG")
    add_service_argument(parser, "where the probe goes")
    own, command = split_command(argv)
    arguments = parser.parse_args(own)
    if (arguments.start is None) != (arguments.end is None):
        parser.error("--from and --to go together")
    if arguments.start is not None and arguments.start >= arguments.end:
        parser.error(f"--to {arguments.end.isoformat()} must come after --from")
    if command and (arguments.since or arguments.start or arguments.last_update):
        parser.error("a past window (--since, --from, --last-update) takes no command")
    out = arguments.out or arguments.work_dir / ".demo-orq" / "reports" / arguments.stack
    return Options(
        arguments.stack,
        arguments.work_dir,
        arguments.probe_seconds,
        arguments.rate,
        out,
        command,
        arguments.service,
        tuple(arguments.header),
        PastWindow(arguments.since, arguments.start, arguments.end, arguments.last_update),
    )


def write(report: Report, timeline: Timeline, out: Path) -> tuple[Path, Path]:
    """report.json (the figures and the timeline) and report-timeline.png in `out`."""
    picture = draw(timeline, out / "report-timeline.png", report.slo.p99_ms)
    json_path = out / "report.json"
    document = {**report.to_dict(), "timeline": timeline.to_dict(), "picture": str(picture)}
    json_path.write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n", "utf-8")
    return json_path, picture


def main(argv: Sequence[str]) -> int:
    options = parse_arguments(argv)
    report, timeline = make_report(options)
    json_path, picture = write(report, timeline, options.out)
    print(table(report))
    print(f"events: {report.mttr.events_file}")
    print(f"figures: {json_path}")
    print(f"picture: {picture}")
    return report.command_exit_code or 0
