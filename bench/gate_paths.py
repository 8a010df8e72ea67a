"""The analysis gate's two ways to the same candidate, side by side: directly at its node port
(the old way, possible only where the operator's machine reaches the nodes) and through the API
server's service proxy (the way the gate goes now, on any cluster), then through a far API
server (a proxy on loopback that holds each request for --far-ms). For each: the requests, the
p50 and p99 as measured, the hop to the API server (median, measured beside on the same
connections) and the p99 the gate judges (the hop taken off).

python -m bench.gate_paths [--seconds 10] [--rate 50] [--rounds 3] [--far-ms 25]

It applies the demo's manifest with kubectl into its own sandbox (namespace orq-bench-gate,
node port 30386) and deletes it at the end.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from components.kubeapi import Probe, ServiceProxy, reach_service
from components.traffic import Target
from demo_orq import facts
from demo_orq.kube import (
    delete_namespace_now,
    deployment_settled,
    kubectl,
    namespace_exists,
    wait_until,
)
from tests.e2e.layouts import far_api_server
from tests.sandbox import SANDBOXES, cluster_location

SANDBOX = SANDBOXES["bench-gate"]


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.gate_paths",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="per probe (default 10)")
    parser.add_argument("--rate", type=int, default=50, help="requests/s (default 50)")
    parser.add_argument("--rounds", type=int, default=3, help="probes per way (default 3)")
    parser.add_argument("--far-ms", type=float, default=25.0, help="far API delay (default 25)")
    arguments = parser.parse_args(argv)
    for name, low, high in (
        ("seconds", 1, 600),
        ("rate", 1, 200),
        ("rounds", 1, 20),
        ("far_ms", 0, 1000),
    ):
        if not low <= getattr(arguments, name) <= high:
            parser.error(
                f"argument --{name.replace('_', '-')}: {getattr(arguments, name)} "
                f"(accepted: {low} to {high})"
            )
    return arguments


def probe(target: Target | str, seconds: float, rate: int) -> dict[str, float]:
    with Probe(target, rate, workers=min(8, rate)) as measured:
        time.sleep(seconds)
    through = measured.report.latency_percentiles_ms()
    hop_median, hop_p99 = measured.hop_ms()
    return {
        "requests": len(measured.report.answers),
        "failed": len(measured.report.failures),
        "p50": through["p50"],
        "p99": through["p99"],
        "hop": hop_median,
        "hop_p99": hop_p99,
        "judged_p99": measured.app_percentiles_ms()["p99"],
    }


def median_of(rounds: list[dict[str, float]]) -> dict[str, float]:
    return {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}


def main(argv: list[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    SANDBOX.claim()
    location = cluster_location()
    kubeconfig = str(Path(location[f"{facts.PROJECT}:kubeconfig"]).expanduser())
    context = location[f"{facts.PROJECT}:context"]
    kubectl("apply", "-f", "-", stdin=SANDBOX.manifest())
    try:
        wait_until(
            lambda: deployment_settled(SANDBOX.namespace, facts.DEPLOYMENT, facts.REPLICAS),
            180,
            "the candidate to be ready",
        )

        def through(path: str) -> Callable[[], ServiceProxy]:
            return lambda: reach_service(path, context, SANDBOX.namespace, facts.SERVICE)

        with tempfile.TemporaryDirectory(prefix="bench-gate-") as folder:
            far_ms = arguments.far_ms
            with far_api_server(Path(kubeconfig), context, Path(folder), far_ms / 1000) as far:
                ways: dict[str, Callable[[], Target | str]] = {
                    "node port (old way)": lambda: SANDBOX.url,
                    "API server": through(kubeconfig),
                    f"API server +{far_ms:g} ms": through(str(far)),
                }
                results = {
                    name: median_of(
                        [
                            probe(target(), arguments.seconds, arguments.rate)
                            for _ in range(arguments.rounds)
                        ]
                    )
                    for name, target in ways.items()
                }
    finally:
        delete_namespace_now(SANDBOX.namespace)
        wait_until(lambda: not namespace_exists(SANDBOX.namespace), 120, "the sandbox to go")
    print(
        f"{arguments.rounds} probes of {arguments.seconds:g} s at {arguments.rate} req/s per "
        "way, medians; ms"
    )
    print(
        f"{'way':<24} {'requests':>8} {'failed':>6} {'p50':>6} {'p99':>6} {'hop':>6} "
        f"{'hop p99':>7} {'judged p99':>10}"
    )
    for name, r in results.items():
        print(
            f"{name:<24} {r['requests']:>8.0f} {r['failed']:>6.0f} {r['p50']:>6.1f} "
            f"{r['p99']:>6.1f} {r['hop']:>6.1f} {r['hop_p99']:>7.1f} {r['judged_p99']:>10.1f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
