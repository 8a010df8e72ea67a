"""The app's namespace kept apart, on the real cluster with the real engine and the
network-policies add-on (cluster/network-policies.sh): with `networkPolicy` on, the API's pods
answer the frontend (and the gateway, and the smoke test) and no other pod, in the namespace or
outside it (how the refusal looks and how fast, printed); the policies apply within a measured
time after `pulumi up` returns; a v1 -> v2 rollout under the policies fails no request through
the frontend nor through the gateway; BlueGreen's double capacity fits the default quota, and a
quota too small for it is refused before anything changes.

The tests run in order on one throwaway stack in its own sandbox, with a client namespace of
their own for the pod outside.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from pulumi import automation as auto

from components.traffic import SteadyLoad, direct_url
from demo_orq import facts
from demo_orq.kube import kubectl, kubectl_json, pods, wait_until
from demo_orq.stacks import reach, set_config, switch_strategy
from tests.cluster.helpers import apply, delete_namespace, install_addon, restricted_namespace
from tests.cluster.network_policies import client_pod
from tests.sandbox import SANDBOXES, Sandbox, copy_project, node_port_config, sandbox_stack

pytestmark = pytest.mark.e2e

SANDBOX = SANDBOXES["isolation"]
NAMESPACE = SANDBOX.namespace
OUTSIDE = Sandbox(f"{NAMESPACE}-out", SANDBOX.node_port)  # a namespace of the test's, no Service
HOSTNAME = f"hello.{NAMESPACE}.demo-orq.localhost"
FRONTEND_URL = f"http://127.0.0.1:{SANDBOX.frontend_node_port}/"
RATE = 100
V1, V2 = facts.V1_MESSAGE, facts.V2_MESSAGE
API_URL = f"http://{facts.SERVICE}.{NAMESPACE}.svc/"


@dataclass
class Reached:
    """One GET from a client pod: its answer, or netcheck's error, and how long it took."""

    body: str
    error: str
    seconds: float

    @property
    def answered(self) -> bool:
        return not self.error and bool(self.body)


def ask_from(namespace: str, pod: str, url: str) -> Reached:
    """One GET of `url` from the netcheck pod `pod`, no retry."""
    started = time.monotonic()
    done = kubectl("-n", namespace, "exec", pod, "--", "/netcheck", "-wait", "0s", url,
                   check=False, timeout=60)  # fmt: skip
    seconds = time.monotonic() - started
    lines = done.stdout.strip().splitlines()
    assert lines, f"no answer from netcheck in {namespace}/{pod}: {done.stderr}"
    result = json.loads(lines[-1])
    return Reached(result.get("body", ""), result.get("error", ""), seconds)


def client_ready(namespace: str, name: str) -> None:
    apply(client_pod(namespace, name))

    def ready() -> bool:
        (pod,) = pods(namespace, f"app={name}") or [None]
        conditions = (pod or {}).get("status", {}).get("conditions", [])
        return any(c["type"] == "Ready" and c["status"] == "True" for c in conditions)

    wait_until(ready, 120, f"the client {namespace}/{name} Ready")


@dataclass
class Deployed:
    stack: auto.Stack

    def up(self, message: str) -> None:
        self.stack.up(message=message, on_output=print)


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    for script in ("network-policies.sh", "gateway.sh"):
        install_addon(script)
    OUTSIDE.claim()
    project = copy_project(tmp_path_factory.mktemp("isolation") / "project")
    config = {
        "smokeTest": "true",
        "frontend": "true",
        "frontendNodePort": str(SANDBOX.frontend_node_port),
        "quota": "true",
        "gateway": "true",
        "hostname": HOSTNAME,
    }
    try:
        with sandbox_stack(project, "isolation", SANDBOX, **config) as stack:
            apply(restricted_namespace(OUTSIDE.namespace))
            client_ready(OUTSIDE.namespace, "outsider")
            yield Deployed(stack)
    finally:
        delete_namespace(OUTSIDE.namespace)


def seconds_until_refused(since: float, timeout: float = 60) -> float:
    """From `since` to the sending of the outsider's first request that got no answer."""
    while time.monotonic() - since < timeout:
        sent = time.monotonic()
        if not ask_from(OUTSIDE.namespace, "outsider", API_URL).answered:
            return sent - since
    raise AssertionError(f"the outsider still reaches the API {timeout:.0f} s after the update")


def api_pod_url() -> str:
    pod = pods(NAMESPACE, f"app={facts.DEPLOYMENT}")[0]
    return f"http://{pod['status']['podIP']}:8080/"


def frontend_answer() -> str | None:
    return direct_url(FRONTEND_URL, only_loopback=True).get(2.0).body


def test_without_policies_any_pod_reaches_the_api(deployed: Deployed) -> None:
    deployed.up("v1 with a frontend, no policies")

    wait_until(lambda: frontend_answer() == f"frontend -> {V1}\n", 60, "the frontend's answer")
    assert ask_from(OUTSIDE.namespace, "outsider", API_URL).answered
    assert kubectl_json("-n", NAMESPACE, "get", "networkpolicies")["items"] == []


def test_the_policies_refuse_every_other_pod_soon_after_the_update(deployed: Deployed) -> None:
    set_config(deployed.stack, networkPolicy="true")
    deployed.up("the policies on")
    returned = time.monotonic()
    applied = seconds_until_refused(returned)
    print(f"\nthe first request refused was sent {applied:.2f} s after pulumi up returned")

    client_ready(NAMESPACE, "other")  # a pod of the app's own namespace, not the frontend
    refusals = {
        "outside, by the Service's name": ask_from(OUTSIDE.namespace, "outsider", API_URL),
        "outside, by a pod's IP": ask_from(OUTSIDE.namespace, "outsider", api_pod_url()),
        "same namespace, by the Service's name": ask_from(NAMESPACE, "other", API_URL),
    }
    for what, reached in refusals.items():
        print(f"{what}: refused after {reached.seconds:.2f} s: {reached.error}")
        assert not reached.answered, what
    assert frontend_answer() == f"frontend -> {V1}\n"
    assert reach(deployed.stack, "gateway").get(2.0).body == f"{V1}\n"
    smoke = kubectl_json("-n", NAMESPACE, "get", "jobs", "-l", "demo-orq.io/job=smoke")["items"]
    assert [job["status"].get("succeeded") for job in smoke] == [1]


def test_a_rollout_under_the_policies_fails_no_request(deployed: Deployed) -> None:
    set_config(deployed.stack, message=V2)
    with (
        SteadyLoad(FRONTEND_URL, rate=RATE) as front,
        SteadyLoad(reach(deployed.stack, "gateway"), rate=RATE, only_loopback=False) as gateway,
    ):
        time.sleep(1)
        deployed.up("v2 under the policies")
        time.sleep(3)
    for name, load in (("frontend", front), ("gateway", gateway)):
        print(f"\nv1 -> v2 through the {name}: {load.report.summary()}")
        assert load.report.requests_per_second() >= RATE * 0.9, load.report.summary()
        assert load.report.failures == [], (name, load.report.failures[:5])
    assert set(front.report.bodies) == {f"frontend -> {V1}\n", f"frontend -> {V2}\n"}
    assert set(gateway.report.bodies) == {f"{V1}\n", f"{V2}\n"}


def test_blue_green_fits_the_default_quota_and_a_smaller_one_is_refused_before_the_update(
    deployed: Deployed,
) -> None:
    kubectl("-n", NAMESPACE, "delete", "pod", "other", "--wait=true")
    switch_strategy(deployed.stack, "BlueGreen", **node_port_config(SANDBOX, "BlueGreen"))
    deployed.up("BlueGreen with the default quota")
    quota = kubectl_json("-n", NAMESPACE, "get", "resourcequota", "quota")
    print(f"\nquota after BlueGreen: {quota['status']['used']} of {quota['spec']['hard']}")
    assert int(quota["status"]["used"]["pods"]) <= int(quota["spec"]["hard"]["pods"])

    set_config(deployed.stack, quotaPods="4")
    with pytest.raises(auto.CommandError) as refused:
        deployed.up("a quota too small")
    # Pulumi repeats a diagnostic (as it happens, then in the summary): one message, one line.
    errors = {line.split("error: ", 1)[1] for line in str(refused.value).splitlines()
              if "error: invalid stack config" in line}  # fmt: skip
    assert len(errors) == 1, str(refused.value)[-2000:]
    (error,) = errors
    assert (
        error.startswith("invalid stack config demo-orq:quotaPods: '4'") and "at least 13" in error
    )
    after = kubectl_json("-n", NAMESPACE, "get", "resourcequota", "quota")
    assert after["spec"]["hard"] == quota["spec"]["hard"]
    deployed.stack.remove_config(f"{facts.PROJECT}:quotaPods")
