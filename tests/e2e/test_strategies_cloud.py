"""The strategies on a cluster that the operator reaches only through its API server, far away
(EKS, GKE, AKS), laid out on the local cluster: every node port of the sandbox is dropped for
this machine's own packets, and the stack's kubeconfig reaches the API server through a proxy
that holds each request for 50 ms. The gate, the stepped canary and the checks go through the
API server alone; the users' 100 requests per second go to the Service's cluster IP, as
in-cluster clients' (or a load balancer's) would. Every request is counted, none retried.

In order, on one throwaway stack: BlueGreen v1 -> v2 into green (its gate measures the hop and
judges the app without it) -> switch -> rollback; Canary at 50% with the gate ->
abort; a stepped canary that aborts a slow version by itself (its gate), and one that promotes a
good version.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pulumi import automation as auto

from components.traffic import SteadyLoad, TrafficReport
from demo_orq import canary as stepped_canary
from demo_orq import facts
from demo_orq.cluster_settings import SLOW_ECHO_IMAGE
from demo_orq.kube import kubectl_json, ready_pods
from demo_orq.rollback import rollback
from demo_orq.stacks import set_config, switch_strategy
from tests.e2e.layouts import far_api_server, unreachable_node_ports
from tests.sandbox import (
    SANDBOXES,
    cluster_location,
    copy_project,
    node_port_config,
    sandbox_stack,
    stack_ref,
)

pytestmark = pytest.mark.e2e

SANDBOX = SANDBOXES["strategies-cloud"]
NAMESPACE = SANDBOX.namespace
REPLICAS = 4
V1, V2 = facts.V1_MESSAGE, facts.V2_MESSAGE
RATE = 100
API_DELAY_SECONDS = 0.05
SLOW_IMAGE = SLOW_ECHO_IMAGE  # http-echo that answers in 250 ms


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[auto.Stack]:
    folder = tmp_path_factory.mktemp("strategies-cloud")
    project = copy_project(folder / "project")
    location = cluster_location()
    kubeconfig = Path(location[f"{facts.PROJECT}:kubeconfig"]).expanduser()
    context = location[f"{facts.PROJECT}:context"]
    with (
        unreachable_node_ports(SANDBOX.node_ports()),
        far_api_server(kubeconfig, context, folder, API_DELAY_SECONDS) as far_kubeconfig,
        sandbox_stack(project, "cloud", SANDBOX, replicas=str(REPLICAS), gateSeconds="5",
                      strategy="BlueGreen", kubeconfig=str(far_kubeconfig)) as stack,
    ):  # fmt: skip
        yield stack


def users_url() -> str:
    """The app's Service at its cluster IP: where in-cluster clients reach it."""
    service = kubectl_json("-n", NAMESPACE, "get", "service", facts.SERVICE)
    return f"http://{service['spec']['clusterIP']}:{facts.SERVICE_PORT}/"


def up_under_load(stack: auto.Stack, message: str) -> tuple[TrafficReport, str | None]:
    """`pulumi up` while the users send 100 requests per second; a failed update is returned."""
    error = None
    with SteadyLoad(users_url(), rate=RATE, only_loopback=False) as load:
        time.sleep(1)
        try:
            stack.up(message=message, on_output=print)
        except auto.CommandError as failure:
            error = str(failure)
        time.sleep(3)
    print(f"\n{message}: {load.report.summary()}")
    assert load.report.requests_per_second() >= RATE * 0.9, load.report.summary()
    return load.report, error


def answers(report: TrafficReport) -> set[str]:
    return {body.strip() for body in report.bodies}


def gate_figures(result: str) -> tuple[float, float, float]:
    """(the app's p99, the p99 through the API server, the hop) from the gate's result."""
    found = re.search(r"p99 ([0-9.]+) ms in the app \(([0-9.]+) ms through the API server, "
                      r"hop ([0-9.]+) ms\)", result)  # fmt: skip
    assert found, result
    return float(found[1]), float(found[2]), float(found[3])


def test_the_node_ports_are_out_of_reach_and_blue_green_deploys(stack: auto.Stack) -> None:
    stack.up(message="v1, BlueGreen", on_output=print)

    assert stack.outputs()["liveColor"].value == "blue"
    with SteadyLoad(users_url(), rate=RATE, only_loopback=False) as load:
        time.sleep(2)
    assert load.report.failures == [] and answers(load.report) == {V1}


def test_the_gate_measures_the_far_hop_and_judges_the_app_without_it(stack: auto.Stack) -> None:
    set_config(stack, greenMessage=V2)
    report, error = up_under_load(stack, "v2 into green (idle)")

    assert error is None, error
    assert report.failures == [] and answers(report) == {V1}
    result = stack.outputs()["gateResult"].value
    app_p99, through_p99, hop = gate_figures(result)
    print(f"gate: {result}")
    assert hop >= API_DELAY_SECONDS * 1000, "the hop to the far API server was measured"
    assert app_p99 <= through_p99 - hop / 2, "the hop was taken off the app's latencies"


def test_switching_to_green_and_rolling_back_lose_no_request(stack: auto.Stack) -> None:
    set_config(stack, liveColor="green")
    report, error = up_under_load(stack, "switch to green")
    assert error is None, error
    assert report.failures == []
    assert report.body_sequence() == [V1 + "\n", V2 + "\n"]

    with SteadyLoad(users_url(), rate=RATE, only_loopback=False) as load:
        time.sleep(1)
        rollback(stack_ref(stack), None, on_output=print)
        time.sleep(3)
    print(f"\nrollback: {load.report.summary()}")
    assert load.report.failures == []
    assert stack.outputs()["liveColor"].value == "blue"
    assert load.report.answers[-1].body == V1 + "\n"


def test_a_canary_at_50_percent_behind_the_gate_then_its_abort(stack: auto.Stack) -> None:
    switch_strategy(stack, "Canary", **node_port_config(SANDBOX, "Canary"))
    report, error = up_under_load(stack, "to Canary (weight 0)")
    assert error is None, error
    assert report.failures == []

    set_config(stack, canaryMessage=V2, canaryWeight="50")
    report, error = up_under_load(stack, "canary at 50%")
    assert error is None, error
    assert report.failures == []
    assert stack.outputs()["gateResult"].value.startswith("passed")
    with SteadyLoad(users_url(), rate=RATE, only_loopback=False) as load:
        time.sleep(5)
    share = load.report.bodies[V2 + "\n"] / len(load.report.answers)
    print(f"\ncanary at 50%: v2 share {share:.1%} of {len(load.report.answers)}")
    assert 0.35 <= share <= 0.65

    set_config(stack, canaryWeight="0")
    report, error = up_under_load(stack, "canary aborted")
    assert error is None, error
    assert report.failures == []
    assert report.answers[-1].body == V1 + "\n"
    assert ready_pods(NAMESPACE, "track=canary") == []  # those left are on their way out


def test_a_stepped_canary_aborts_a_slow_version_and_promotes_a_good_one(
    stack: auto.Stack,
) -> None:
    slow = stepped_canary.Plan((25, 50, 100), None, SLOW_IMAGE, 0, 2)
    set_config(stack, gateMaxP99Ms="150")
    with SteadyLoad(users_url(), rate=RATE, only_loopback=False) as load:
        aborted = stepped_canary.run(stack, slow)
    print(f"\nstepped canary of a slow version: exit {aborted}; {load.report.summary()}")
    assert aborted == 1
    assert load.report.failures == []
    assert stack.get_all_config()[f"{facts.PROJECT}:canaryWeight"].value == "0"

    set_config(stack, canaryImage="")
    good = stepped_canary.Plan((100,), V2, None, 0, 2)
    with SteadyLoad(users_url(), rate=RATE, only_loopback=False) as load:
        promoted = stepped_canary.run(stack, good)
        time.sleep(3)
    print(f"\nstepped canary, promoted: exit {promoted}; {load.report.summary()}")
    assert promoted == 0
    assert load.report.failures == []
    assert load.report.answers[-1].body == V2 + "\n"
    assert stack.get_all_config()[f"{facts.PROJECT}:message"].value == V2
