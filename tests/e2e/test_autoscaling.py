"""Autoscaling and the disruption budget on the real cluster (metrics-server, the HPA controller)
with the real engine, in their own sandbox.

Under a CPU load through the NodePort (loopback, bounded in time) the autoscaler scales the app
up from minReplicas; a `pulumi up` of a new message in the scaled-up state rolls out v2 without
resetting the replica count and without a field-manager conflict; a preview with the same config
shows no change although the autoscaler changed the count; after the load the app scales back
down. A drift check (`pulumi preview --refresh --expect-no-changes`) passes right after the
count moves, up or down, while new pods are not Ready yet or old ones are leaving: a scale is
not drift. Then a PodDisruptionBudget makes the API server refuse an eviction that would break
it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from pulumi import automation as auto

from components.traffic import SteadyLoad
from demo_orq import facts
from demo_orq.kube import Object, kubectl, kubectl_json, ready_pods, wait_until
from demo_orq.stacks import set_config
from tests.sandbox import SANDBOXES, ProjectCopy, copy_project, sandbox_stack

pytestmark = pytest.mark.e2e

SANDBOX = SANDBOXES["autoscale"]
NAMESPACE, DEPLOYMENT = SANDBOX.namespace, facts.DEPLOYMENT
SELECTOR = f"app={DEPLOYMENT}"
MAX_REPLICAS = 4
# 20% of the 50m request: a load that one pod's http-echo feels, and that this machine can send.
AUTOSCALE = {"autoscale": "true", "replicas": "1", "minReplicas": "1",
             "maxReplicas": str(MAX_REPLICAS), "cpuTargetPercent": "20",
             "scaleDownStabilizationSeconds": "15"}  # fmt: skip
LOAD_RATE = 400


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> ProjectCopy:
    return copy_project(tmp_path_factory.mktemp("autoscale") / "project")


@pytest.fixture(scope="module")
def stack(project: ProjectCopy) -> Iterator[auto.Stack]:
    with sandbox_stack(project, "autoscale", SANDBOX, **AUTOSCALE) as stack:
        yield stack


def replicas() -> int:
    deployment: Object = kubectl_json("-n", NAMESPACE, "get", "deployment", DEPLOYMENT)
    count: int = deployment["spec"]["replicas"]
    return count


def scale_under_way() -> bool:
    """Pods are being added (not all Ready) or removed (some still terminating)."""
    pods = kubectl_json("-n", NAMESPACE, "get", "pods", "-l", SELECTOR)["items"]
    return len(ready_pods(NAMESPACE, SELECTOR)) != replicas() or len(pods) != replicas()


def drift_check(project: ProjectCopy, stack: auto.Stack, moment: str) -> bool:
    """`pulumi preview --refresh --expect-no-changes`, as a scheduled drift check runs it; fails
    the test when it proposes a change. Whether a scale was under way when it started."""
    under_way = scale_under_way()
    preview = project.pulumi("preview", "--stack", stack.name, "--refresh",
                             "--expect-no-changes", check=False)  # fmt: skip
    print(f"drift check {moment} (scale under way: {under_way}): exit {preview.returncode}")
    assert preview.returncode == 0, preview.stdout + preview.stderr
    return under_way


def test_the_autoscaler_scales_up_under_load_and_pulumi_leaves_its_count_alone(
    stack: auto.Stack, project: ProjectCopy
) -> None:
    stack.up(message="v1, autoscaled", on_output=print)
    wait_until(lambda: len(ready_pods(NAMESPACE, SELECTOR)) == 1, 120, "one ready pod")
    kubectl("-n", NAMESPACE, "get", "hpa", DEPLOYMENT)

    with SteadyLoad(SANDBOX.url, rate=LOAD_RATE, workers=8, max_seconds=420) as load:
        started = time.monotonic()
        wait_until(lambda: replicas() >= 2, 240, "the autoscaler to add pods", interval=2)
        scaled_up = time.monotonic() - started
        seen = replicas()
        print(f"\nscale-up: {seen} replicas {scaled_up:.0f} s after the load started "
              f"({load.report.requests_per_second():.0f} req/s)")  # fmt: skip
        drift_check(project, stack, "right after the autoscaler added pods")

        set_config(stack, message=facts.V2_MESSAGE)
        before_up = replicas()
        stack.up(message="v2 while scaled up", on_output=print)
        after_up = replicas()
        print(f"pulumi up of v2: replicas {before_up} before, {after_up} after")
        assert after_up >= min(before_up, 2), "pulumi up reset the autoscaler's replica count"

        preview = project.pulumi("preview", "--stack", stack.name, "--expect-no-changes",
                                 check=False)  # fmt: skip
        assert preview.returncode == 0, preview.stdout + preview.stderr
    assert load.report.failures == [], load.report.failures[:5]
    images = {pod["spec"]["containers"][0]["args"][0] for pod in ready_pods(NAMESPACE, SELECTOR)}
    assert images == {f"-text={facts.V2_MESSAGE}"}

    started = time.monotonic()
    wait_until(lambda: replicas() == 1, 300, "the autoscaler to remove pods", interval=0.5)
    print(f"scale-down: back to 1 replica {time.monotonic() - started:.0f} s after the load")
    drift_check(project, stack, "right after the autoscaler removed pods")


def test_a_drift_check_sees_no_drift_at_any_moment_of_a_scale(
    stack: auto.Stack, project: ProjectCopy
) -> None:
    # The autoscaler's own move, made at once and large (what it does: a scale of the
    # Deployment), so that several new pods stay unready for seconds; it moves back by itself.
    kubectl("-n", NAMESPACE, "scale", "deployment", DEPLOYMENT, f"--replicas={MAX_REPLICAS}")
    checked_under_way = [drift_check(project, stack, f"{n} of the scale-up") for n in range(2)]
    assert any(checked_under_way), "no drift check ran while the new pods were coming up"

    wait_until(lambda: replicas() == 1, 120, "the autoscaler to scale back down", interval=0.5)
    checked_under_way = [drift_check(project, stack, f"{n} of the scale-down") for n in range(2)]
    assert any(checked_under_way), "no drift check ran while the pods were leaving"


def test_an_eviction_that_would_break_the_budget_is_refused(stack: auto.Stack) -> None:
    set_config(stack, autoscale="false", replicas="2", pdbMinAvailable="2")
    stack.up(message="a budget of 2 available pods", on_output=print)
    wait_until(lambda: len(ready_pods(NAMESPACE, SELECTOR)) == 2, 120, "two ready pods")
    budget = kubectl_json("-n", NAMESPACE, "get", "pdb", DEPLOYMENT)
    wait_until(
        lambda: (
            kubectl_json("-n", NAMESPACE, "get", "pdb", DEPLOYMENT)["status"].get("currentHealthy")
            == 2
        ),
        60,
        "the budget to count 2 healthy pods",
    )
    assert budget["spec"]["minAvailable"] == 2

    pod = ready_pods(NAMESPACE, SELECTOR)[0]["metadata"]["name"]
    eviction = {"apiVersion": "policy/v1", "kind": "Eviction",
                "metadata": {"name": pod, "namespace": NAMESPACE}}  # fmt: skip
    refused = kubectl("create", "--raw", f"/api/v1/namespaces/{NAMESPACE}/pods/{pod}/eviction",
                      "-f", "-", stdin=json.dumps(eviction), check=False)  # fmt: skip

    print(f"\neviction of {pod}: {refused.stderr.strip()}")
    assert refused.returncode != 0
    assert "disruption budget" in refused.stderr, refused.stderr
    assert pod in {p["metadata"]["name"] for p in ready_pods(NAMESPACE, SELECTOR)}
