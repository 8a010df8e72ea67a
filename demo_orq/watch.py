"""Runs a command while a steady load goes to the app, then tells what the users saw: the
answers and their split, the failed requests and the downtime window, and when the answers
became the final version. The demo's evidence for a switch, a rollback or a Recreate rollout:

    demo-orq watch --stack dev -- pulumi up --yes --skip-preview

The load goes to the stack's Service through the API server of the stack's kubeconfig and
context (it works on any cluster); `--url` sends it to a URL of this machine instead (a node
port of the local cluster, a port-forward).
"""

from __future__ import annotations

import argparse
import ipaddress
import time
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from components.traffic import SteadyLoad, Target, TrafficReport, direct_url

from .cli import command_parser, run_command
from .cluster_settings import POD_CIDR, SERVICE_CIDR
from .stacks import add_service_argument, reach, select_stack

RATE = 50
SECONDS_AFTER = 3.0
WATCHED_NETWORKS = tuple(
    ipaddress.ip_network(network) for network in ("127.0.0.0/8", POD_CIDR, SERVICE_CIDR)
)
"""Where the load may go: loopback, and the local cluster's node, pod and Service addresses
(the node IP is the pods' gateway)."""


@dataclass(frozen=True)
class Watched:
    report: TrafficReport
    started: float
    ended: float
    exit_code: int

    def downtime(self) -> float:
        """From the first failed request to the last one plus one interval: 0 when none failed."""
        failed = self.report.failures
        return failed[-1].started - failed[0].started + 1 / RATE if failed else 0.0

    def final_since(self) -> tuple[str | None, float]:
        """The last answer, and since when (seconds after the command started) it is the only
        one."""
        bodies = [a for a in self.report.answers if a.body is not None]
        if not bodies:
            return None, 0.0
        final = bodies[-1].body
        since = bodies[0].started
        for answer in bodies:
            if answer.body != final:
                since = answer.started
        return final, max(0.0, since - self.started)

    def summary(self) -> str:
        # The failures are told after the split (their count, the downtime), not listed in it.
        shares = self.report.split(with_failures=False)
        final, since = self.final_since()
        final_text = final.strip() if final else "none"
        return (
            f"{len(self.report.answers)} requests while it ran "
            f"({self.ended - self.started:.1f} s) and {SECONDS_AFTER:.0f} s after: answers "
            f"{shares or 'none'}; {len(self.report.failures)} failed, downtime "
            f"{self.downtime():.1f} s; only {final_text!r} from {since:.1f} s after the start"
        )


def watched_url(raw: str) -> str:
    """`raw` when it is an http URL of loopback or of the local cluster, else a clear error."""
    parts = urlsplit(raw)
    try:
        address = ipaddress.ip_address(parts.hostname or "")
    except ValueError:
        address = None
    if (
        parts.scheme != "http"
        or address is None
        or not any(address in network for network in WATCHED_NETWORKS)
    ):
        raise argparse.ArgumentTypeError(
            f"{raw!r}: an http URL of 127.0.0.0/8 or of the local cluster ({POD_CIDR}, "
            f"{SERVICE_CIDR}), e.g. http://127.0.0.1:30080/"
        )
    return raw


def watch(app: Target, command: Sequence[str]) -> Watched:
    with SteadyLoad(app, rate=RATE, workers=4) as load:
        started = time.monotonic()
        exit_code = run_command("watch", command)
        ended = time.monotonic()
        time.sleep(SECONDS_AFTER)
    return Watched(load.report, started, ended, exit_code)


def parse_arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = command_parser(
        "watch", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_service_argument(parser, "the Service to watch")
    parser.add_argument(
        "--url", type=watched_url, help="watch this URL of this machine instead of the stack"
    )
    parser.add_argument("command", nargs="+", help="the command to run (after --)")
    return parser.parse_args(argv)


def main(argv: Sequence[str]) -> int:
    arguments = parse_arguments(argv)
    app = (
        direct_url(arguments.url, only_loopback=False)
        if arguments.url
        else reach(
            select_stack(arguments.stack, arguments.work_dir),
            arguments.service,
            arguments.header,
        )
    )
    watched = watch(app, arguments.command)
    print(f"watched {app.description}: {watched.summary()}")
    return watched.exit_code
