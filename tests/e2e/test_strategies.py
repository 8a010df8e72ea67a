"""The deployment strategies on the real cluster with the real engine, under a steady load of
100 requests per second through the NodePort, every request counted (none retried), laid out as
a kind cluster: this machine reaches the app's node port and no other (the preview's and the
canary's are dropped), so the gate, the stepped canary and the checks go through the API server.

The tests run in order on one throwaway stack in its own sandbox: RollingUpdate -> BlueGreen,
a new version in the idle color, the switch, its rollback, a bad idle version and a gate that
refuses; BlueGreen -> RollingUpdate -> Canary, a 50% canary, its abort, a stepped canary that
aborts by itself on a bad version and one that promotes; Canary -> RollingUpdate; and the
downtime of a Recreate rollout. Each switch of strategy takes the other strategies' keys off
(a stack refuses them) and sets the sandbox's node ports and the gate of the new one.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from pulumi import automation as auto

from components.names import ServiceRole
from components.traffic import Answer, SteadyLoad, TrafficReport
from demo_orq import canary as stepped_canary
from demo_orq import facts
from demo_orq.cluster_settings import PAUSE_IMAGE, SLOW_ECHO_IMAGE
from demo_orq.kube import Object, kubectl_json, pods, ready_pods, wait_until
from demo_orq.rollback import rollback
from demo_orq.settings import KEYS
from demo_orq.stacks import reach, set_config, switch_strategy
from tests.e2e.layouts import unreachable_node_ports
from tests.sandbox import SANDBOXES, copy_project, node_port_config, sandbox_stack, stack_ref

pytestmark = pytest.mark.e2e

SANDBOX = SANDBOXES["strategies"]
NAMESPACE = SANDBOX.namespace
REPLICAS = 4
V1, V2 = facts.V1_MESSAGE, facts.V2_MESSAGE
V3 = "Hola desde K8s v3"
RATE = 100
NEVER_READY_IMAGE = PAUSE_IMAGE  # on the node: nothing is ever pulled
SLOW_IMAGE = SLOW_ECHO_IMAGE  # http-echo that answers in 250 ms
BAD_ROLLOUT_TIMEOUT = "15"
ENDPOINTS_PROPAGATION_SECONDS = 8
"""From a pod Ready to the Service sending it requests: the EndpointSlice controller, then
kube-proxy (at most one sync a second; its network-programming latency measured here is 1-2 s
alone, up to 6 s with the cluster suite's load beside it, scripts/test.sh) on 2 cores."""
GATE_SECONDS = "3"
"""A gate of 3 s (150 requests) is enough to judge here (the thresholds are far from the
measures: 500 ms against a few, 150 ms against 250) and keeps the suite short."""


@dataclass
class Run:
    """One `pulumi up` under load: the answers, and when the update ended."""

    report: TrafficReport
    ended: float
    error: str | None = None

    def failures(self) -> list[Answer]:
        return self.report.failures

    def bodies(self) -> set[str]:
        return {body.strip() for body in self.report.bodies}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[auto.Stack]:
    project = copy_project(tmp_path_factory.mktemp("strategies") / "project")
    with (
        unreachable_node_ports([SANDBOX.preview_node_port, SANDBOX.canary_node_port]),
        sandbox_stack(project, "strategies", SANDBOX, replicas=str(REPLICAS)) as stack,
    ):
        yield stack


def switch_to(stack: auto.Stack, strategy: str) -> None:
    """The stack's strategy becomes `strategy`, with the sandbox's node ports of its Services
    and the suite's gate when it has one."""
    gate = {"gateSeconds": GATE_SECONDS} if KEYS["gateSeconds"].applies_to(strategy) else {}
    switch_strategy(stack, strategy, **node_port_config(SANDBOX, strategy), **gate)


def up_under_load(
    stack: auto.Stack, message: str, url: str = SANDBOX.url, seconds_after: float = 3
) -> Run:
    """`pulumi up` while 100 requests per second go to `url`, and `seconds_after` more; a
    failed update is returned."""
    error = None
    with SteadyLoad(url, rate=RATE) as load:
        time.sleep(1)
        try:
            stack.up(message=message, on_output=print)
        except auto.CommandError as failure:
            error = str(failure)
        ended = time.monotonic()
        time.sleep(seconds_after)
    report = load.report
    print(f"\n{message}: {report.summary()}")
    assert report.requests_per_second() >= RATE * 0.9, report.summary()
    return Run(report, ended, error)


def pod_states(selector: str) -> dict[str, int]:
    """{pod uid: restart count} of the pods that `selector` selects."""
    return {
        pod["metadata"]["uid"]: pod["status"]["containerStatuses"][0]["restartCount"]
        for pod in pods(NAMESPACE, selector)
    }


def service_selector(name: str) -> dict[str, str]:
    service: Object = kubectl_json("-n", NAMESPACE, "get", "service", name)
    selector: dict[str, str] = service["spec"]["selector"]
    return selector


def only_answer(stack: auto.Stack, role: ServiceRole, text: str) -> None:
    """Until 10 answers in a row of the stack's Service of `role`, through the API server, are
    exactly `text`."""
    service = reach(stack, role)
    wait_until(lambda: {service.get(2).body for _ in range(10)} == {text + "\n"}, 30,
               f"only {text!r} {service.description}")  # fmt: skip


def test_rolling_update_to_blue_green_migrates_without_a_failed_request(stack: auto.Stack) -> None:
    stack.up(message="v1, RollingUpdate", on_output=print)
    only_answer(stack, "app", V1)

    switch_to(stack, "BlueGreen")
    run = up_under_load(stack, "migrate to BlueGreen")

    assert run.error is None, run.error
    assert run.failures() == [], run.failures()[:5]
    assert run.bodies() == {V1}
    assert service_selector(facts.SERVICE) == {"app": facts.DEPLOYMENT, "color": "blue"}
    assert pods(NAMESPACE, f"app={facts.DEPLOYMENT},!color") == []  # the old Deployment's


def test_v2_into_the_idle_color_never_reaches_the_live_url(stack: auto.Stack) -> None:
    set_config(stack, greenMessage=V2)
    run = up_under_load(stack, "v2 into green (idle)")

    assert run.error is None, run.error
    assert run.failures() == []
    assert run.bodies() == {V1}
    only_answer(stack, "preview", V2)


def test_switching_the_live_color_moves_every_answer_to_v2(stack: auto.Stack) -> None:
    blue_before = pod_states("color=blue")
    set_config(stack, liveColor="green")
    run = up_under_load(stack, "switch to green")

    assert run.error is None, run.error
    assert run.failures() == []
    assert run.report.body_sequence() == [V1 + "\n", V2 + "\n"]
    assert {a.body for a in run.report.answers if a.started > run.ended} == {V2 + "\n"}
    assert pod_states("color=blue") == blue_before, "the old color's pods were touched"
    gate = stack.outputs()["gateResult"].value
    print(f"gate: {gate}")
    assert gate.startswith("passed") and "through the API server" in gate


def test_rolling_back_the_switch_is_instant_and_restarts_no_pod(stack: auto.Stack) -> None:
    every_pod = pod_states(f"app={facts.DEPLOYMENT}")
    with SteadyLoad(SANDBOX.url, rate=RATE) as load:
        time.sleep(1)
        started = time.monotonic()
        rollback(stack_ref(stack), None, on_output=print)
        ended = time.monotonic()
        time.sleep(4)
    report = load.report
    last_v2 = max(a.started for a in report.answers if a.body == V2 + "\n")
    print(f"\nrollback: update took {ended - started:.1f} s; last v2 answer "
          f"{last_v2 - ended:+.2f} s after its end; {report.summary()}")  # fmt: skip
    assert report.failures == []
    assert last_v2 - ended <= 3
    assert {a.body for a in report.answers if a.started > ended + 3} == {V1 + "\n"}
    assert pod_states(f"app={facts.DEPLOYMENT}") == every_pod, "a pod was created or restarted"
    assert stack.outputs()["liveColor"].value == "blue"


def test_a_never_ready_idle_version_fails_the_update_and_never_goes_live(
    stack: auto.Stack,
) -> None:
    set_config(stack, greenImage=NEVER_READY_IMAGE, liveColor="green",
               rolloutTimeout=BAD_ROLLOUT_TIMEOUT)  # fmt: skip
    run = up_under_load(stack, "switch to a never-ready green")

    assert run.error is not None and "containers with unready status" in run.error, run.error
    assert run.failures() == []
    assert run.bodies() == {V1}
    assert service_selector(facts.SERVICE)["color"] == "blue"
    rollback(stack_ref(stack), None, on_output=print)


def test_the_gate_refuses_a_slow_candidate_that_misses_its_threshold(stack: auto.Stack) -> None:
    # The slow twin of http-echo answers in 250 ms: over a p99 of 150 ms, however short the hop
    # to the API server is. The gate must refuse the switch to it (v3, never live before).
    set_config(stack, greenMessage=V3, greenImage=SLOW_IMAGE, liveColor="green",
               gateMaxP99Ms="150")  # fmt: skip
    run = up_under_load(stack, "switch to a slow v3 behind a gate of p99 < 150 ms")

    assert run.error is not None and "analysis gate failed for the candidate green" in run.error
    assert "(max 150 ms)" in run.error and "through the API server" in run.error
    p99 = float(re.search(r"p99 ([0-9.]+) ms \(max 150 ms\)", run.error)[1])
    assert 240 <= p99 <= 1000, "the app's own p99: its 250 ms, the hop taken off"
    assert run.failures() == []
    assert run.bodies() == {V1}
    assert service_selector(facts.SERVICE)["color"] == "blue"
    assert service_selector(f"{facts.SERVICE}-preview")["color"] == "green"
    only_answer(stack, "preview", V3)  # tried, refused, never live
    rollback(stack_ref(stack), None, on_output=print)


def test_blue_green_to_rolling_update_and_on_to_canary(stack: auto.Stack) -> None:
    switch_to(stack, "RollingUpdate")
    run = up_under_load(stack, "back to RollingUpdate")
    assert run.error is None, run.error
    assert run.failures() == []
    assert pods(NAMESPACE, "color") == []

    switch_to(stack, "Canary")
    run = up_under_load(stack, "to Canary (weight 0)")
    assert run.error is None, run.error
    assert run.failures() == []
    assert run.bodies() == {V1}


def test_a_canary_at_50_percent_gets_half_of_the_answers(stack: auto.Stack) -> None:
    set_config(stack, canaryMessage=V2, canaryWeight="50")
    run = up_under_load(stack, "canary at 50%")

    assert run.error is None, run.error
    assert run.failures() == []
    # The stable pods it gave up may still be stopping (their preStop): the Ready ones count.
    assert len(ready_pods(NAMESPACE, "track=canary")) == 2
    assert len(ready_pods(NAMESPACE, f"app={facts.DEPLOYMENT},!track")) == 2
    assert stack.outputs()["canaryEffectiveWeight"].value == 50
    with SteadyLoad(SANDBOX.url, rate=RATE) as load:
        time.sleep(8)
    split = load.report.bodies
    share = split[V2 + "\n"] / sum(split.values())
    print(f"\ncanary at 50%: {dict(split)}, v2 share {share:.1%}")
    assert sum(split.values()) >= 600
    assert 0.35 <= share <= 0.65


def test_aborting_the_canary_brings_every_answer_back_to_v1(stack: auto.Stack) -> None:
    set_config(stack, canaryWeight="0")
    run = up_under_load(stack, "canary aborted")

    assert run.error is None, run.error
    assert run.failures() == []
    assert {a.body for a in run.report.answers if a.started > run.ended} == {V1 + "\n"}


def test_a_stepped_canary_of_a_bad_version_aborts_by_itself(stack: auto.Stack) -> None:
    set_config(stack, rolloutTimeout=BAD_ROLLOUT_TIMEOUT)
    plan = stepped_canary.Plan((25, 50, 100), None, NEVER_READY_IMAGE, 0, 2)
    with SteadyLoad(SANDBOX.url, rate=RATE) as load:
        exit_code = stepped_canary.run(stack, plan)
        time.sleep(2)
    report = load.report
    print(f"\nstepped canary of a bad version: exit {exit_code}; {report.summary()}")
    assert exit_code == 1
    assert report.failures == []
    assert report.bodies.keys() == {V1 + "\n"}
    config = stack.get_all_config()
    assert config[f"{facts.PROJECT}:canaryWeight"].value == "0"
    set_config(stack, rolloutTimeout="120", canaryImage="")


def test_a_stepped_canary_of_a_good_version_promotes_it(stack: auto.Stack) -> None:
    plan = stepped_canary.Plan((50, 100), V2, None, 0, 2)
    with SteadyLoad(SANDBOX.url, rate=RATE) as load:
        exit_code = stepped_canary.run(stack, plan)
        ended = time.monotonic()
        time.sleep(3)
    report = load.report
    print(f"\nstepped canary, promoted: exit {exit_code}; {report.summary()}")
    assert exit_code == 0
    assert report.failures == []
    assert {a.body for a in report.answers if a.started > ended} == {V2 + "\n"}
    assert stack.get_all_config()[f"{facts.PROJECT}:message"].value == V2
    assert ready_pods(NAMESPACE, "track=canary") == []


def test_canary_back_to_rolling_update(stack: auto.Stack) -> None:
    switch_to(stack, "RollingUpdate")
    run = up_under_load(stack, "back to RollingUpdate from Canary")

    assert run.error is None, run.error
    assert run.failures() == []
    assert pods(NAMESPACE, "track") == []


def test_recreate_has_a_brief_measured_downtime(stack: auto.Stack) -> None:
    switch_to(stack, "Recreate")
    stack.up(message="Recreate", on_output=print)
    set_config(stack, message=V1)
    run = up_under_load(stack, "Recreate rollout to v1",
                        seconds_after=ENDPOINTS_PROPAGATION_SECONDS + 2)  # fmt: skip

    assert run.error is None, run.error
    failed = run.failures()
    assert failed, "Recreate stops every pod before it starts new ones: some requests must fail"
    downtime = failed[-1].started - failed[0].started
    after_update = failed[-1].started - run.ended
    print(f"\nRecreate downtime: {downtime:.1f} s ({len(failed)} failed requests of "
          f"{len(run.report.answers)}), the last one {after_update:+.2f} s after the update "
          "ended")  # fmt: skip
    late = [f"{a.started - run.ended:+.2f} s {a.error}" for a in failed if a.started > run.ended]
    print("failed after the update ended: " + "; ".join(late[:3] + late[-3:]))
    assert downtime <= 20, "pods stop after their 5 s preStop; new ones are Ready within ~10 s"
    # The update ends when the new pods are Ready; the Service reaches them once their endpoints
    # are in kube-proxy's rules.
    assert after_update <= ENDPOINTS_PROPAGATION_SECONDS
    settled = run.ended + ENDPOINTS_PROPAGATION_SECONDS
    assert {a.body for a in run.report.answers if a.started > settled} == {V1 + "\n"}
