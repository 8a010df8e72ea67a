"""The requests through the gateway as the cluster's Prometheus has them (Traefik's counters and
duration histograms, one series per backend Service by its `service` label): the PromQL that the
analysis gate asks, and the app's burn-rate alert rules on its availability objective (the Google
SRE workbook's multi-window, multi-burn-rate alerts). Plain Python: no cluster needed.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from . import defaults

PROVIDER = "kubernetesgateway"
REQUESTS = "traefik_service_requests_total"
DURATION_BUCKETS = "traefik_service_request_duration_seconds_bucket"
SERVER_ERRORS = 'code=~"5.."'

BURN_RATE_WINDOWS = (("page", 14.4, "1h", "5m"), ("ticket", 6.0, "6h", "30m"))
"""(severity, burn rate, long window, short window): an alert fires while the error ratio is
above burn rate x error budget over both windows. 14.4x spends 2% of a 30-day budget in an hour;
6x, 5% in 6 hours."""


def traefik_service(namespace: str, service: str, port: int = defaults.SERVICE_PORT) -> str:
    """Traefik's `service` label for a Service that an HTTPRoute sends requests to: its Gateway
    API provider names the backend `<namespace>-<name>-http-<port>`, the provider after `@`."""
    return f"{namespace}-{service}-http-{port}@{PROVIDER}"


@dataclass(frozen=True)
class TrafficQueries:
    """The PromQL of a backend's requests, server errors (5xx) and p99 over a window (Flagger's
    request-success-rate and request-duration, as counts)."""

    backend: str
    seconds: int

    @property
    def _selector(self) -> str:
        return f'service="{self.backend}"'

    @property
    def requests(self) -> str:
        return f"sum(increase({REQUESTS}{{{self._selector}}}[{self.seconds}s]))"

    @property
    def errors(self) -> str:
        return f"sum(increase({REQUESTS}{{{self._selector},{SERVER_ERRORS}}}[{self.seconds}s]))"

    @property
    def p99_seconds(self) -> str:
        buckets = f"{DURATION_BUCKETS}{{{self._selector}}}"
        return f"histogram_quantile(0.99, sum by (le) (rate({buckets}[{self.seconds}s])))"


def backends_selector(namespace: str, backends: Sequence[str]) -> str:
    """The label matcher of the series of these Services of `namespace`."""
    return 'service=~"{}"'.format("|".join(traefik_service(namespace, b) for b in backends))


def error_ratio_record(window: str) -> str:
    return f"app:request_errors:ratio_rate{window}"


def burn_rate_rules(namespace: str, backends: Sequence[str], availability_percent: float) -> str:
    """A Prometheus rules file (JSON, which is YAML) for the app of `namespace` whose requests
    reach the Services `backends` through the gateway: its error ratio over each window, recorded
    with the label `namespace`, and the two burn-rate alerts on `availability_percent`."""
    selector = backends_selector(namespace, backends)
    windows = sorted({w for _, _, long, short in BURN_RATE_WINDOWS for w in (long, short)})
    records = [
        {
            "record": error_ratio_record(window),
            "expr": f"sum(rate({REQUESTS}{{{selector},{SERVER_ERRORS}}}[{window}])) / "
            f"sum(rate({REQUESTS}{{{selector}}}[{window}]))",
            "labels": {"namespace": namespace},
        }
        for window in windows
    ]
    budget = 1 - availability_percent / 100
    alerts = [alert(namespace, budget, availability_percent, *each) for each in BURN_RATE_WINDOWS]
    group = {"name": f"demo-orq-slo-{namespace}", "rules": [*records, *alerts]}
    return json.dumps({"groups": [group]}, indent=2) + "\n"


def alert(
    namespace: str,
    budget: float,
    availability_percent: float,
    severity: str,
    burn_rate: float,
    long: str,
    short: str,
) -> dict[str, Any]:
    threshold = f"{burn_rate * budget:.6g}"
    selector = f'{{namespace="{namespace}"}}'
    return {
        "alert": "ErrorBudgetBurn",
        "expr": f"{error_ratio_record(long)}{selector} > {threshold} and "
        f"{error_ratio_record(short)}{selector} > {threshold}",
        "labels": {"severity": severity, "namespace": namespace},
        "annotations": {
            "summary": f"{namespace}: the error budget of {availability_percent:g}% burns "
            f"{burn_rate:g}x too fast ({long} and {short} above {threshold} of the requests)",
        },
    }
