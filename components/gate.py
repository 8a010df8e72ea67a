"""The analysis gate: a Pulumi dynamic resource that, during `pulumi up` (never in a preview),
sends requests to a candidate version and fails the update with its figures when the success
rate or the p99 latency misses its threshold. It is part of the resource graph: what depends on
it (BlueGreen's Services) changes only after it has passed. The controller-free counterpart of
Argo Rollouts' analysis and Flagger's canary analysis.

BlueGreen: before the live Service switches color, the candidate (the color about to go live)
is probed through the preview Service, which still selects it; a switch back to a version that
was live before (a rollback) is not probed again, so rollback stays instant. A new version in
the idle color is probed too. Canary: the canary Service is probed after the canary pods are
Ready at a new weight or version.

With `source: prometheus` (Canary through a gateway) the gate sends nothing: the route gives the
canary its weight first, and the gate judges the real requests that the gateway sent it over
`seconds`, as the cluster's Prometheus counted them (Flagger's analysis); too few is a failure.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ResourceProvider, UpdateResult

from .names import Color
from .shared_args import ClusterAccess
from .strategies import GateArgs, Version

# What, among the inputs, makes the gate run again when it changes (the figures it outputs and
# the versions it has seen live do not).
WATCHED = ("kind", "service", "live_color", "versions", "idle_replicas", "weight", "candidate",
           "seconds", "min_success_percent", "max_p99_ms", "requests_per_second", "source",
           "min_requests")  # fmt: skip


def settings(gate: GateArgs, access: ClusterAccess) -> dict[str, int | float | str]:
    """The gate's settings and the cluster it reaches, as inputs of the dynamic resource."""
    return {
        "kubeconfig": access.kubeconfig or "",
        "context": access.context or "",
        "seconds": gate.seconds,
        "min_success_percent": gate.min_success_percent,
        "max_p99_ms": gate.max_p99_ms,
        "requests_per_second": gate.requests_per_second,
        "source": gate.source,
        "min_requests": gate.min_requests,
    }


def version_said(version: Version, config: dict[str, str]) -> str:
    """A version as the gate tells versions apart: message, image and plain settings (none for a
    version with none, as before they existed)."""
    said = " ".join(version)
    return f"{said} {json.dumps(config, sort_keys=True)}" if config else said


VERSION_KEYS = ("versions", "candidate")
"""The inputs that name versions (messages): secret when the message is."""


@dataclass(frozen=True)
class Verdict:
    """What one run of the gate found."""

    result: str
    """`passed`, `failed` or `skipped: <why>`."""
    requests: int = 0
    success_percent: float = 100.0
    p99_ms: float = 0.0
    """The app's own p99: the hop to the API server taken off."""
    seconds: float = 0.0
    through_p99_ms: float = 0.0
    """The p99 as measured, through the API server."""
    hop_ms: float = 0.0
    """The median of the hop to the API server and back, taken off each latency."""
    measured: str = ""
    """How the requests went, in words."""
    source: str = "probe"

    def outputs(self) -> dict[str, Any]:
        result = self.result
        if self.requests and self.source == "prometheus":
            result += (f": {self.requests} real requests, {self.success_percent:.1f}% succeeded, "
                       f"p99 {self.p99_ms:.1f} ms, over {self.seconds:.0f} s "
                       f"({self.measured})")  # fmt: skip
        elif self.requests:
            result += (f": {self.requests} requests, {self.success_percent:.1f}% succeeded, "
                       f"p99 {self.p99_ms:.1f} ms in the app ({self.through_p99_ms:.1f} ms "
                       f"through the API server, hop {self.hop_ms:.1f} ms), "
                       f"{self.seconds:.1f} s")  # fmt: skip
        return {
            "result": result,
            "requests": self.requests,
            "success_percent": round(self.success_percent, 2),
            "p99_ms": round(self.p99_ms, 1),
            "through_p99_ms": round(self.through_p99_ms, 1),
            "hop_ms": round(self.hop_ms, 1),
            "measured": self.measured,
            "probe_seconds": round(self.seconds, 1),
        }


WARM_UP_SECONDS = 30
"""At most this long for the candidate's Service to answer once before the gate measures: the
pods are Ready, but the Service's endpoints follow a moment later."""


def probe(props: dict[str, Any], what: str) -> Verdict:
    """Sends the gate's requests to the Service `props["service"]` through the API server of
    the stack's kubeconfig and context, and judges them; raises when they fail."""
    # The provider process imports these on demand.
    from .kubeapi import KubeAccessError, Probe, reach_service
    from .traffic import wait_for_answer

    try:
        target = reach_service(props.get("kubeconfig") or None, props.get("context") or None,
                               props["namespace"], props["service"])  # fmt: skip
    except KubeAccessError as error:
        raise GateFailedError(f"analysis gate for {what}: {error}") from None
    wait_for_answer(target, WARM_UP_SECONDS)
    started = time.monotonic()
    rate = int(props["requests_per_second"])
    with Probe(target, rate=rate, workers=min(8, rate)) as measured:
        time.sleep(float(props["seconds"]))
    report = measured.report
    requests = len(report.answers)
    succeeded = requests - len(report.failures)
    success = 100.0 * succeeded / requests if requests else 0.0
    p99 = measured.app_percentiles_ms()["p99"]
    through_p99 = report.latency_percentiles_ms()["p99"]
    hop_median, _ = measured.hop_ms()
    verdict = Verdict("passed", requests, success, p99 if p99 == p99 else 0.0,
                      time.monotonic() - started, through_p99 if through_p99 == through_p99
                      else 0.0, hop_median, measured.how())  # fmt: skip
    misses = []
    if success < float(props["min_success_percent"]):
        misses.append(f"{success:.1f}% succeeded (min {float(props['min_success_percent']):g}%)")
    if p99 != p99 or p99 > float(props["max_p99_ms"]):
        misses.append(f"p99 {p99:.0f} ms (max {float(props['max_p99_ms']):g} ms)")
    if misses:
        errors = sorted({answer.error or "" for answer in report.failures})[:3]
        raise GateFailedError(
            f"analysis gate failed for {what}: {', '.join(misses)}; {requests} requests "
            f"in {verdict.seconds:.1f} s, {measured.how()}"
            + (f"; errors: {'; '.join(errors)}" if errors else "")
        )
    return verdict


def judge_real_traffic(props: dict[str, Any], what: str) -> Verdict:
    """Waits `seconds` while the gateway sends the canary its share of the users' requests, then
    judges them from Prometheus' counters; raises when they miss a threshold or are too few."""
    from .defaults import SERVICE_PORT
    from .kubeapi import ApiServer, KubeAccessError
    from .metrics import TrafficQueries, traefik_service
    from .prometheus import SCRAPE_SECONDS, Prometheus

    seconds = int(props["seconds"])
    backend = traefik_service(props["namespace"], props["service"], SERVICE_PORT)
    queries = TrafficQueries(backend, seconds)
    prometheus = Prometheus(ApiServer(props.get("kubeconfig") or None,
                                      props.get("context") or None))  # fmt: skip
    try:
        prometheus.query("vector(1)")  # there, before the wait
        time.sleep(seconds + SCRAPE_SECONDS + 1)  # the window's last requests scraped
        traffic = prometheus.traffic(queries)
    except KubeAccessError as error:
        raise GateFailedError(f"analysis gate for {what}: {error}") from None
    measured = f"Prometheus: {queries.requests}"
    requests = round(traffic.requests)
    verdict = Verdict("passed", requests, traffic.success_percent,
                      0.0 if math.isnan(traffic.p99_ms) else traffic.p99_ms, seconds,
                      measured=measured, source="prometheus")  # fmt: skip
    misses = []
    if traffic.requests < int(props["min_requests"]):
        misses.append(
            f"{requests} requests reached it (min {props['min_requests']}): too little traffic "
            "to judge"
        )
    elif traffic.success_percent < float(props["min_success_percent"]):
        misses.append(f"{traffic.success_percent:.1f}% succeeded "
                      f"(min {float(props['min_success_percent']):g}%)")  # fmt: skip
    if requests and traffic.p99_ms > float(props["max_p99_ms"]):
        misses.append(f"p99 {traffic.p99_ms:.0f} ms (max {float(props['max_p99_ms']):g} ms)")
    if misses:
        raise GateFailedError(
            f"analysis gate failed for {what}: {', '.join(misses)}; {requests} real requests "
            f"({round(traffic.errors)} failed) over {seconds} s through the gateway to "
            f"{backend}, from {prometheus.description}; the route still sends it "
            f"{int(props['weight'])}%: `demo-orq canary` aborts by itself, by hand set "
            "canaryWeight 0 and run pulumi up"
        )
    return verdict


class GateFailedError(Exception):
    """The candidate missed a threshold; the message has the figures."""


def decide(olds: dict[str, Any] | None, news: dict[str, Any]) -> tuple[str | None, str]:
    """(None, why) when this change needs no probe, else (what is probed, "")."""
    if int(news["seconds"]) == 0:
        return None, "the gate is off (gateSeconds 0)"
    if news["kind"] == "canary":
        if int(news["weight"]) == 0:
            return None, "no canary pods (weight 0)"
        return f"the canary {shown(news, news['candidate'])}", ""
    # BlueGreen: the preview Service still selects the color that was idle before this update.
    if olds is None:
        return None, "first deploy: nothing is live yet"
    old_idle = idle_color(olds["live_color"])
    version = news["versions"][old_idle]
    label = f"{old_idle} ({shown(news, version)})"
    if news["live_color"] == olds["live_color"]:
        if int(news["idle_replicas"]) == 0:
            return None, "no idle pods (idleReplicas 0)"
        if version == olds["versions"][old_idle]:
            return None, "the idle color's version did not change"
        return f"the idle color {label}", ""
    if version in olds.get("known_good", []):
        return None, f"{label} was live before: switching back needs no analysis"
    return f"the candidate {label}", ""


def shown(props: dict[str, Any], version: str) -> str:
    """A version as messages may show it: not at all when it holds a secret message."""
    return "a secret version" if props.get("secret_versions") else version


def idle_color(live: str) -> Color:
    return "green" if live == "blue" else "blue"


def run(olds: dict[str, Any] | None, news: dict[str, Any]) -> dict[str, Any]:
    what, why = decide(olds, news)
    if what is None:
        verdict = Verdict(f"skipped: {why}")
    elif news.get("source") == "prometheus":
        verdict = judge_real_traffic(news, what)
    else:
        verdict = probe(news, what)
    known_good = list((olds or {}).get("known_good", []))
    if news["kind"] == "blue-green":
        live_version = news["versions"][news["live_color"]]
        known_good = [v for v in known_good if v != live_version] + [live_version]
    return {**news, **verdict.outputs(), "known_good": known_good[-10:]}


class GateProvider(ResourceProvider):
    serialize_as_secret_always = False  # it captures nothing secret

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(id_="gate", outs=run(None, props))

    def diff(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> DiffResult:
        # A key that the olds lack came with a newer program, not with a change of the app.
        changed = [key for key in WATCHED if key in _olds and _olds[key] != _news.get(key)]
        return DiffResult(changes=bool(changed), replaces=[], delete_before_replace=False)

    def update(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=run(_olds, _news))


class AnalysisGate(pulumi.dynamic.Resource, module="demo-orq", name="AnalysisGate"):
    """The gate, shown by `pulumi up` as `pulumi-python:dynamic/demo-orq:AnalysisGate`."""

    result: pulumi.Output[str]
    requests: pulumi.Output[int]
    success_percent: pulumi.Output[float]
    p99_ms: pulumi.Output[float]

    def __init__(
        self,
        name: str,
        props: dict[str, Any],
        opts: pulumi.ResourceOptions,
        secret_versions: bool = False,
    ) -> None:
        """`secret_versions`: the versions hold a secret message; they are kept encrypted and
        never shown."""
        outputs = {"result": None, "requests": None, "success_percent": None, "p99_ms": None}
        if secret_versions:
            props = {
                **props,
                "secret_versions": True,
                **{key: pulumi.Output.secret(props[key]) for key in VERSION_KEYS if key in props},
            }
            secret_outputs = pulumi.ResourceOptions(additional_secret_outputs=["known_good"])
            opts = pulumi.ResourceOptions.merge(opts, secret_outputs)
        super().__init__(GateProvider(), name, {**props, **outputs}, opts)
