"""The app's HTTPS entry through the Gateway API on the real cluster (Traefik, the local
cluster's gateway add-on), with the real engine: TLS with the stack's CA, the redirect, 404s;
a Canary split at the route by exact weight and by header, and a BlueGreen switch at the route,
each under 100 requests per second through the gateway, every request counted, none retried.

The tests run in order on one throwaway stack in its own sandbox and host name.
"""

from __future__ import annotations

import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from pulumi import automation as auto

from components.traffic import GatewayUrl, SteadyLoad, TrafficReport, get_once
from demo_orq import canary as stepped_canary
from demo_orq import facts
from demo_orq.cluster_settings import GATEWAY_HTTP_NODE_PORT, GATEWAY_HTTPS_NODE_PORT
from demo_orq.stacks import reach, set_config, switch_strategy
from tests.sandbox import SANDBOXES, copy_project, node_port_config, sandbox_stack

pytestmark = pytest.mark.e2e

SANDBOX = SANDBOXES["gateway"]
HOSTNAME = f"hello.{SANDBOX.namespace}.demo-orq.localhost"
REPLICAS = 3
V1, V2 = facts.V1_MESSAGE, facts.V2_MESSAGE
V3 = "Hola desde K8s v3"
RATE = 100
SPLIT_REQUESTS = 2000


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[auto.Stack]:
    install = subprocess.run(
        [str(facts.PROJECT_DIR / "cluster" / "gateway.sh")], capture_output=True, text=True
    )
    assert install.returncode == 0, f"cluster/gateway.sh failed:\n{install.stdout}{install.stderr}"
    project = copy_project(tmp_path_factory.mktemp("gateway") / "project")
    config = {"replicas": str(REPLICAS), "gateway": "true", "hostname": HOSTNAME,
              "gatewayPort": str(GATEWAY_HTTPS_NODE_PORT)}  # fmt: skip
    with sandbox_stack(project, "gateway", SANDBOX, **config) as stack:
        yield stack


def through_gateway(stack: auto.Stack, *headers: tuple[str, str]) -> GatewayUrl:
    target = reach(stack, "gateway", headers)
    assert isinstance(target, GatewayUrl)
    return target


def answers(target: GatewayUrl, count: int, workers: int = 8) -> TrafficReport:
    """`count` requests as fast as `workers` send them (for shares, not for latencies)."""
    with SteadyLoad(target, rate=10_000, workers=workers, only_loopback=False) as load:
        while len(load.report.answers) < count:
            time.sleep(0.05)
    load.report.answers = load.report.answers[:count]
    return load.report


def shares(report: TrafficReport) -> Counter[str]:
    return Counter(a.body.strip() if a.body else f"failed: {a.error}" for a in report.answers)


def up_under_load(stack: auto.Stack, message: str) -> tuple[TrafficReport, float]:
    """`pulumi up` while 100 requests per second go through the gateway, and 3 s more; every
    request must succeed. Returns the answers and when the update ended."""
    with SteadyLoad(through_gateway(stack), rate=RATE, only_loopback=False) as load:
        time.sleep(1)
        stack.up(message=message, on_output=print)
        ended = time.monotonic()
        time.sleep(3)
    report = load.report
    print(f"\n{message}: {report.summary()}")
    assert report.failures == [], report.failures[:5]
    assert report.requests_per_second() >= RATE * 0.9, report.summary()
    return report, ended


def curl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["curl", "-sS", "--max-time", "5", *args], capture_output=True,
                          text=True)  # fmt: skip


def test_https_answers_with_the_stacks_ca_http_redirects_and_a_wrong_host_gets_404(
    stack: auto.Stack, tmp_path: Path
) -> None:
    stack.up(message="v1 with a gateway", on_output=print)
    outputs = stack.outputs()
    url = outputs["gatewayUrl"].value
    assert url == f"https://{HOSTNAME}:{GATEWAY_HTTPS_NODE_PORT}/api"
    ca = tmp_path / "ca.pem"
    ca.write_text(outputs["gatewayCaCertificate"].value)

    # curl resolves *.localhost to loopback itself, as browsers do.
    answered = curl("--cacert", str(ca), url)
    assert (answered.returncode, answered.stdout.strip()) == (0, V1), answered.stderr
    unverified = curl(url)  # the system's CAs do not know the stack's
    assert unverified.returncode == 60, unverified
    http = f"http://{HOSTNAME}:{GATEWAY_HTTP_NODE_PORT}/api"
    redirect = curl("-o", "/dev/null", "-w", "%{http_code} %{redirect_url}", http)
    assert redirect.stdout == f"301 {url}", redirect
    wrong_host = curl("-o", "/dev/null", "-w", "%{http_code}", "-H", "Host: other.localhost",
                      f"http://127.0.0.1:{GATEWAY_HTTP_NODE_PORT}/api")  # fmt: skip
    assert wrong_host.stdout == "404", wrong_host
    other_path = curl("--cacert", str(ca), "-o", "/dev/null", "-w", "%{http_code}",
                      url.replace("/api", "/other"))  # fmt: skip
    assert other_path.stdout == "404", other_path


def test_a_canary_takes_its_exact_share_of_requests_and_the_header_picks_a_side(
    stack: auto.Stack,
) -> None:
    switch_strategy(stack, "Canary", **node_port_config(SANDBOX, "Canary"),
                    canaryMessage=V2, canaryWeight="0", gateSeconds="0")  # fmt: skip
    up_under_load(stack, "Canary at weight 0")

    for weight, tolerance in ((10, 2.0), (1, 0.5)):
        set_config(stack, canaryWeight=str(weight))
        up_under_load(stack, f"canary weight {weight}")
        split = shares(answers(through_gateway(stack), SPLIT_REQUESTS))
        print(f"weight {weight}: {dict(split)}")
        assert set(split) == {V1, V2}, split
        assert abs(100 * split[V2] / SPLIT_REQUESTS - weight) <= tolerance, split

    always = shares(answers(through_gateway(stack, ("X-Canary", "always")), 200))
    never = shares(answers(through_gateway(stack, ("X-Canary", "never")), 200))
    assert (always, never) == (Counter({V2: 200}), Counter({V1: 200}))


def test_a_stepped_canary_through_the_gateway_promotes_and_an_abort_fails_no_request(
    stack: auto.Stack,
) -> None:
    set_config(stack, canaryWeight="0")
    with SteadyLoad(through_gateway(stack), rate=RATE, only_loopback=False) as load:
        plan = stepped_canary.Plan((10, 50, 100), V2, None, pause_seconds=0, sample_seconds=2)
        exit_code = stepped_canary.run(stack, plan, service="gateway")
        time.sleep(3)
    print(f"\nstepped canary 10, 50, 100, promote: {load.report.summary()}")
    assert exit_code == 0
    assert load.report.failures == [], load.report.failures[:5]
    assert load.report.body_sequence() == [V1 + "\n", V2 + "\n"]
    assert set(shares(answers(through_gateway(stack), 200))) == {V2}

    set_config(stack, canaryMessage=V3, canaryWeight="50")
    up_under_load(stack, "canary v3 at 50")
    set_config(stack, canaryWeight="0")
    up_under_load(stack, "abort")
    assert set(shares(answers(through_gateway(stack), 200))) == {V2}


def test_a_blue_green_switch_at_the_route_fails_no_request_and_takes_effect_at_once(
    stack: auto.Stack,
) -> None:
    switch_strategy(stack, "BlueGreen", **node_port_config(SANDBOX, "BlueGreen"),
                    gateSeconds="0", greenMessage=V3)  # fmt: skip
    up_under_load(stack, "BlueGreen, blue live, v3 in green")
    preview = shares(answers(through_gateway(stack, ("X-Preview", "true")), 100))
    assert preview == Counter({V3: 100})

    set_config(stack, liveColor="green")
    report, ended = up_under_load(stack, "switch to green")
    last_old = max(a.started for a in report.answers if a.body and a.body.strip() == V2)
    print(f"the last answer of the old color was sent {last_old - ended:+.3f} s after the update")
    assert last_old - ended < 0.5
    assert set(shares(answers(through_gateway(stack), 200))) == {V3}


def test_the_node_port_keeps_serving_beside_the_gateway(stack: auto.Stack) -> None:
    answer = get_once("127.0.0.1", SANDBOX.node_port, "/", 5)
    assert answer.body is not None and answer.body.strip() == V3, answer
