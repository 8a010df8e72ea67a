"""Analysis from real traffic on the real cluster: the users' requests through the gateway
(Traefik), counted by the cluster's Prometheus (cluster/prometheus.sh), judge a canary step with
`gateSource: prometheus` (a version that fails 5% of its requests is refused, a good one
promoted); the report of the last minutes counts what the users counted, per backend; the
stack's SLO alert rules are loaded by Prometheus. 50 requests per second through the gateway,
every request counted, none retried.

In order, on one throwaway stack in its own sandbox and host name.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

from components.kubeapi import ApiServer
from components.prometheus import Prometheus
from components.traffic import GatewayUrl, SteadyLoad
from demo_orq import canary as stepped_canary
from demo_orq import facts
from demo_orq.cluster_settings import FAULTY_ECHO_IMAGE, GATEWAY_HTTPS_NODE_PORT
from demo_orq.kube import kubectl_json, wait_until
from demo_orq.report_figures import RecommendationFigures
from demo_orq.report_measure import Deployed, measure_recommendations
from demo_orq.stacks import reach, set_config, stack_config, switch_strategy
from tests.cluster.helpers import install_addon
from tests.sandbox import (
    SANDBOXES,
    ProjectCopy,
    copy_project,
    demo_orq_command,
    node_port_config,
    sandbox_stack,
)

pytestmark = pytest.mark.e2e

SANDBOX = SANDBOXES["prometheus"]
NAMESPACE = SANDBOX.namespace
HOSTNAME = f"hello.{NAMESPACE}.demo-orq.localhost"
STACK = "prometheus"
REPLICAS = 3
V1, V2 = facts.V1_MESSAGE, facts.V2_MESSAGE
RATE = 50
GATE_SECONDS = 15


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> ProjectCopy:
    for script in ("gateway.sh", "prometheus.sh", "vpa.sh"):
        install_addon(script)
    return copy_project(tmp_path_factory.mktemp("prometheus") / "project")


@pytest.fixture(scope="module")
def stack(project: ProjectCopy) -> Iterator[auto.Stack]:
    config = {"replicas": str(REPLICAS), "gateway": "true", "hostname": HOSTNAME,
              "gatewayPort": str(GATEWAY_HTTPS_NODE_PORT), "sloAlerts": "true",
              "vpa": "true"}  # fmt: skip
    with sandbox_stack(project, STACK, SANDBOX, **config) as stack:
        yield stack


def users(stack: auto.Stack) -> GatewayUrl:
    target = reach(stack, "gateway")
    assert isinstance(target, GatewayUrl)
    return target


def prometheus() -> Prometheus:
    return Prometheus(ApiServer())


def test_the_prometheus_gate_refuses_a_canary_that_fails_5_percent_and_promotes_a_good_one(
    stack: auto.Stack,
) -> None:
    stack.up(message="v1", on_output=print)
    switch_strategy(stack, "Canary", **node_port_config(SANDBOX, "Canary"), canaryWeight="0",
                    gateSeconds=str(GATE_SECONDS), gateSource="prometheus")  # fmt: skip
    stack.up(message="to Canary, weight 0", on_output=print)
    said: list[str] = []

    faulty = stepped_canary.Plan((25,), None, FAULTY_ECHO_IMAGE, 0, 2)
    with SteadyLoad(users(stack), rate=RATE, only_loopback=False) as load:
        aborted = stepped_canary.run(stack, faulty, say=said.append)
    print("\n".join(said), f"\nfaulty canary: exit {aborted}; {load.report.summary()}", sep="\n")
    assert aborted == 1
    refusal = next(line for line in said if line.startswith("canary failed:"))
    assert "succeeded (min 99%)" in refusal, refusal
    assert "real requests" in refusal and "through the gateway" in refusal, refusal
    served_errors = [a for a in load.report.failures if (a.error or "").startswith("HTTP 500")]
    assert len(served_errors) == len(load.report.failures), load.report.failures[:3]

    said.clear()
    set_config(stack, canaryImage="")
    good = stepped_canary.Plan((25,), V2, None, 0, 2)
    with SteadyLoad(users(stack), rate=RATE, only_loopback=False) as load:
        promoted = stepped_canary.run(stack, good, say=said.append)
        time.sleep(2)
    print("\n".join(said), f"\ngood canary: exit {promoted}; {load.report.summary()}", sep="\n")
    assert promoted == 0
    assert load.report.failures == []
    gate = next(line for line in said if line.startswith("weight 25%"))
    assert "gate: passed:" in gate and "real requests, 100.0% succeeded" in gate, gate


def report(project: ProjectCopy, out: Path, *args: str) -> dict[str, Any]:
    done = subprocess.run(
        [demo_orq_command(), "report", "--stack", STACK, "--work-dir", str(project.directory),
         "--out", str(out), *args],
        cwd=project.directory, env=project.env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    print(done.stdout, done.stderr)
    assert done.returncode == 0, done.stderr
    document: dict[str, Any] = json.loads((out / "report.json").read_text(encoding="utf-8"))
    return document


def test_the_report_of_the_last_minutes_counts_what_the_users_counted_per_version(
    stack: auto.Stack, project: ProjectCopy, tmp_path: Path
) -> None:
    switch_strategy(stack, "BlueGreen", **node_port_config(SANDBOX, "BlueGreen"), liveColor="blue",
                    blueMessage=V1, gateSeconds="0", gateSource="probe")  # fmt: skip
    stack.up(message="to BlueGreen, v1 in blue", on_output=print)
    with SteadyLoad(users(stack), rate=RATE, only_loopback=False) as load:
        time.sleep(5)
        # v2 goes to green with an image that fails 5% of its requests: errors to count.
        set_config(stack, greenMessage=V2, greenImage=FAULTY_ECHO_IMAGE)
        stack.up(message="v2 into green", on_output=print)
        set_config(stack, liveColor="green")
        stack.up(message="switch to green", on_output=print)
        time.sleep(15)
    time.sleep(7)  # the last requests scraped
    counted = load.report
    print(f"\nthe users counted: {counted.summary()}")
    assert all((a.error or "").startswith("HTTP 500") for a in counted.failures), counted.failures[
        :3
    ]

    document = report(project, tmp_path, "--since", "10m")

    rows = {row["service"]: row for row in document["real_traffic"]}
    blue, green = rows["hello-svc-blue"], rows["hello-svc-green"]
    assert blue["requests"] + green["requests"] == pytest.approx(len(counted.answers), rel=0.01)
    assert green["errors"] == pytest.approx(len(counted.failures), rel=0.01, abs=1)
    assert blue["errors"] == 0
    assert blue["p99_ms"] is not None and green["p99_ms"] is not None
    assert document["probe"] is None and document["window"].startswith("the last 10m")
    assert Path(document["picture"]).stat().st_size > 10_000


def test_the_stacks_slo_alert_rules_are_loaded_by_prometheus(stack: auto.Stack) -> None:
    group = f"demo-orq-slo-{NAMESPACE}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        answer = prometheus().answer("query", "vector(1)")  # reachable
        assert answer["status"] == "success"
        rules = rules_groups()
        if group in rules:
            break
        time.sleep(2)
    else:
        raise AssertionError(f"no rule group {group} in Prometheus after 60 s: {rules_groups()}")
    alerts = [rule for rule in rules[group] if rule["type"] == "alerting"]
    assert {rule["labels"]["severity"] for rule in alerts} == {"page", "ticket"}
    assert all(rule["health"] in ("ok", "unknown") for rule in rules[group]), rules[group]


def test_the_vpa_recommends_requests_for_the_app_under_load(stack: auto.Stack) -> None:
    """Recommendation mode: a target per serving Deployment within minutes, no pod changed."""
    names_before = sorted(pod["metadata"]["name"] for pod in app_pods())
    deployed = Deployed(NAMESPACE, facts.DEPLOYMENT, stack_config(stack))
    started = time.monotonic()
    with SteadyLoad(users(stack), rate=RATE, only_loopback=False):
        recommended = wait_until(
            lambda: live_color_recommendation(deployed), 240, "a VPA recommendation for green"
        )
    seconds = time.monotonic() - started
    print(f"\nVPA after {seconds:.0f} s of load: {recommended}")
    (green,) = recommended
    assert green.cpu_target_millicores and green.memory_target_mib
    assert (green.cpu_request_millicores, green.memory_request_mib) == (50.0, 64.0)
    assert sorted(pod["metadata"]["name"] for pod in app_pods()) == names_before


def live_color_recommendation(deployed: Deployed) -> list[RecommendationFigures]:
    recommendations = measure_recommendations(deployed) or []
    return [each for each in recommendations if each.deployment.endswith("-green")]


def app_pods() -> list[dict[str, Any]]:
    listed = kubectl_json("-n", NAMESPACE, "get", "pods", "-l", f"app={facts.DEPLOYMENT}")
    return [pod for pod in listed["items"] if not pod["metadata"].get("deletionTimestamp")]


def rules_groups() -> dict[str, list[dict[str, Any]]]:
    """Prometheus' loaded rule groups, by name."""
    api = ApiServer()
    status, body = api.request(
        "/api/v1/namespaces/monitoring/services/prometheus:http/proxy/api/v1/rules"
    )
    assert status == 200, body[:200]
    groups = json.loads(body)["data"]["groups"]
    return {group["name"]: group["rules"] for group in groups}
