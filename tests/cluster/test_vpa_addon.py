"""The VPA add-on (cluster/vpa.sh, docs/vpa.md) on the local cluster.

- The install command is idempotent: run again on a healthy add-on it returns in seconds and
  changes no object; status.sh shows the add-on; bad arguments get exit status 2.
- The recommender runs as non-root under the "restricted" Pod Security profile (checked on the
  running process too), with the flags of cluster/settings.env.
- End to end: http-echo (2 replicas, the app's requests) under load through its Service's cluster
  IP, and a VerticalPodAutoscaler with `updateMode: "Off"` targeting it: a recommendation for the
  container appears in its status within RECOMMENDATION_LIMIT seconds, a checkpoint is written,
  and the pods are never changed (same names, UIDs, requests and no restart).

Its own namespace, orq-vpa-addon (refused if it exists, deleted at the end); the add-on's names
and flags come from cluster/settings.env.
"""

from __future__ import annotations

import contextlib
import copy
import http.client
import json
import threading
import time
from collections.abc import Iterator

import pytest

from components.pod import RESOURCES
from demo_orq.cluster_settings import (
    ECHO_IMAGE,
    SETTINGS,
    VPA_NAMESPACE,
    VPA_RECOMMENDER_INTERVAL_SECONDS,
)
from demo_orq.kube import (
    Object,
    deployment_settled,
    kubectl,
    kubectl_json,
    pods,
    quantity,
    wait_until,
)
from tests.cluster.helpers import (
    Addon,
    apply,
    assert_confined,
    assert_restricted_pod,
    delete_namespace,
    echo_app,
    process_status,
    restricted_namespace,
    running_pod,
)
from tests.sandbox import SANDBOXES

pytestmark = pytest.mark.cluster

ADDON_NAMESPACE = VPA_NAMESPACE
RECOMMENDER = "app.kubernetes.io/name=vpa-recommender"
INTERVAL = VPA_RECOMMENDER_INTERVAL_SECONDS
MIN_CPU = float(SETTINGS["VPA_MIN_CPU_MILLICORES"]) / 1000
MIN_MEMORY = float(SETTINGS["VPA_MIN_MEMORY_MB"]) * 2**20

SANDBOX = SANDBOXES["vpa-addon"]
NAMESPACE = SANDBOX.namespace
REPLICAS = 2
VPA_API = "autoscaling.k8s.io/v1"
RECOMMENDATION_LIMIT = 2 * INTERVAL + 5
"""Seconds from the VPA's creation to its first recommendation: the recommender reads the VPAs,
the pods and the metrics once per interval (a round under way may just miss the new VPA), then
writes the status."""
LOAD_RATE = 500
"""Requests per second to the echo pods, through their Service's cluster IP."""
LOAD_CPU = 0.02
"""Cores the echo pods together use under the test's load, per the metrics API, before the VPA
is created (idle, they use about 1m)."""


ADDON = Addon(
    "vpa.sh",
    "VPA",
    "vpa-recommender (add-on)",
    ADDON_NAMESPACE,
    # The add-on's objects (the VPA CRDs included); its pod is the recommender's.
    (
        "serviceaccount/vpa-recommender",
        "clusterrole/vpa-recommender",
        "clusterrolebinding/vpa-recommender",
        "deployment/vpa-recommender",
        "customresourcedefinition/verticalpodautoscalers.autoscaling.k8s.io",
        "customresourcedefinition/verticalpodautoscalercheckpoints.autoscaling.k8s.io",
    ),
    RECOMMENDER,
)
vpa_addon = ADDON.fixture()


def test_the_install_command_is_idempotent(vpa_addon: str) -> None:
    before = ADDON.assert_second_install_is_a_no_op()
    assert sum(1 for key in before if key.startswith("Pod/")) == 1, before


def test_status_shows_the_add_on_and_bad_arguments_are_refused(vpa_addon: str) -> None:
    line = ADDON.assert_status_and_refusals()
    assert ADDON_NAMESPACE in line, line


def recommender_pod() -> Object:
    return running_pod(ADDON_NAMESPACE, RECOMMENDER)


def test_the_recommender_runs_as_non_root_under_the_restricted_profile(vpa_addon: str) -> None:
    pod = recommender_pod()
    [container] = assert_restricted_pod(pod, 65532).values()
    assert container["image"] == (
        f"registry.k8s.io/autoscaling/vpa-recommender:{SETTINGS['VPA_VERSION']}"
    ), container
    args = container["args"]
    for flag in (
        f"--recommender-interval={SETTINGS['VPA_RECOMMENDER_INTERVAL']}",
        f"--pod-recommendation-min-cpu-millicores={SETTINGS['VPA_MIN_CPU_MILLICORES']}",
        f"--pod-recommendation-min-memory-mb={SETTINGS['VPA_MIN_MEMORY_MB']}",
        "--leader-elect=false",
        "--storage=checkpoint",
    ):
        assert flag in args, args
    assert not [arg for arg in args if arg.startswith("--prometheus")], args

    [process] = process_status(b"/recommender", b"--memory-saver=true")
    assert_confined(process, 65532)
    started = pod["status"]["startTime"]
    print(f"\nthe recommender's resident memory: {process['VmRSS']} (pod started {started})")


# ---------------------------------------------------------------- end to end


@pytest.fixture(scope="module")
def echo_app_with_requests(vpa_addon: str) -> Iterator[str]:
    """http-echo (REPLICAS pods, the app's requests and limits) in the sandbox; its Service's
    cluster IP."""
    SANDBOX.claim()
    try:
        deployment, service = echo_app(NAMESPACE, "recommended by the VPA", REPLICAS)
        [container] = deployment["spec"]["template"]["spec"]["containers"]
        container["resources"] = copy.deepcopy(RESOURCES)
        apply(restricted_namespace(NAMESPACE), deployment, service)
        wait_until(
            lambda: deployment_settled(NAMESPACE, "echo", REPLICAS),
            120,
            f"echo ready in {NAMESPACE}",
        )
        cluster_ip: str = kubectl_json("-n", NAMESPACE, "get", "service", "echo")["spec"][
            "clusterIP"
        ]
        yield cluster_ip
    finally:
        delete_namespace(NAMESPACE)


@contextlib.contextmanager
def load(host: str, rate: float = LOAD_RATE, clients: int = 2) -> Iterator[list[int]]:
    """GET / at `rate` requests per second from `clients` threads, each on one kept-alive
    connection to host:80, until the block ends; yields the count of answers so far (one counter
    per client)."""
    stop = threading.Event()
    answered = [0] * clients
    period = clients / rate

    def client(index: int) -> None:
        due = time.monotonic()
        while not stop.is_set():
            connection = http.client.HTTPConnection(host, 80, timeout=5)
            with contextlib.suppress(OSError, http.client.HTTPException):
                while not stop.is_set():
                    connection.request("GET", "/")
                    connection.getresponse().read()
                    answered[index] += 1
                    due += period
                    stop.wait(max(0.0, due - time.monotonic()))
            connection.close()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    try:
        yield answered
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)


def echo_pods() -> dict[str, str]:
    """name -> UID, restarts and resources of each echo pod, as one comparable string."""
    state = {}
    for pod in pods(NAMESPACE, "app=echo"):
        [container] = pod["spec"]["containers"]
        restarts = sum(s["restartCount"] for s in pod["status"].get("containerStatuses", []))
        resources = json.dumps(container["resources"], sort_keys=True)
        state[pod["metadata"]["name"]] = f"{pod['metadata']['uid']} {restarts} {resources}"
    return state


def echo_cpu() -> float:
    """The echo pods' CPU use together, in cores, per the metrics API (0 without figures)."""
    path = f"/apis/metrics.k8s.io/v1beta1/namespaces/{NAMESPACE}/pods?labelSelector=app%3Decho"
    listed = kubectl("get", "--raw", path, check=False)
    if listed.returncode != 0:
        return 0.0
    return sum(
        quantity(c["usage"]["cpu"]) for p in json.loads(listed.stdout)["items"]
        for c in p["containers"]
    )  # fmt: skip


def vpa_object() -> Object:
    """The object an app stack creates beside its Deployment: recommendations only."""
    return {
        "apiVersion": VPA_API,
        "kind": "VerticalPodAutoscaler",
        "metadata": {"name": "echo", "namespace": NAMESPACE},
        "spec": {
            "targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "echo"},
            "updatePolicy": {"updateMode": "Off"},
            "resourcePolicy": {
                "containerPolicies": [
                    {"containerName": "*", "controlledResources": ["cpu", "memory"]}
                ]
            },
        },
    }


def recommendation() -> Object | None:
    vpa = kubectl_json("-n", NAMESPACE, "get", "verticalpodautoscaler", "echo")
    recommended: list[Object] = (
        vpa.get("status", {}).get("recommendation", {}).get("containerRecommendations", [])
    )
    return vpa if recommended and recommended[0].get("target") else None


def test_a_vpa_in_off_mode_recommends_and_never_changes_the_pods(
    echo_app_with_requests: str,
) -> None:
    before = echo_pods()
    generation = kubectl_json("-n", NAMESPACE, "get", "deployment", "echo")["metadata"][
        "generation"
    ]
    with load(echo_app_with_requests) as answered:
        # The load shows in the metrics API first (metrics-server scrapes every 10 s), so that the
        # first recommendation already counts it.
        started = time.monotonic()
        wait_until(lambda: echo_cpu() >= LOAD_CPU, 90, f"echo using {LOAD_CPU} cores", 1)
        print(f"\nload seen by the metrics API after {time.monotonic() - started:.0f}s: "
              f"{echo_cpu() * 1000:.0f}m, {sum(answered)} answers")  # fmt: skip

        apply(vpa_object())
        created = time.monotonic()
        vpa = wait_until(recommendation, RECOMMENDATION_LIMIT + 60, "a recommendation", 0.5)
        first = time.monotonic() - created
        conditions = {c["type"]: c["status"] for c in vpa["status"]["conditions"]}
        [echo] = vpa["status"]["recommendation"]["containerRecommendations"]
        print(f"first recommendation {first:.1f}s after the VPA was created "
              f"(interval {INTERVAL:.0f}s); {sum(answered)} answers so far")  # fmt: skip
        for kind in ("lowerBound", "target", "uncappedTarget", "upperBound"):
            print(f"  {kind}: {echo[kind]}")
        assert first <= RECOMMENDATION_LIMIT, f"{first:.1f}s"
        assert echo["containerName"] == "echo", echo
        assert conditions.get("RecommendationProvided") == "True", conditions
        target = echo["target"]
        assert quantity(target["cpu"]) >= MIN_CPU and quantity(target["memory"]) >= MIN_MEMORY

        # The recommender keeps its history in a checkpoint per container.
        checkpoint = wait_until(
            lambda: kubectl_json(
                "-n", NAMESPACE, "get", "verticalpodautoscalercheckpoints", "--ignore-not-found"
            ).get("items"),
            4 * INTERVAL,
            "a VPA checkpoint",
        )[0]
        assert checkpoint["spec"]["vpaObjectName"] == "echo", checkpoint["spec"]
        assert checkpoint["spec"]["containerName"] == "echo", checkpoint["spec"]

        # Two more rounds of the recommender under load: still nothing changed in the pods.
        time.sleep(2 * INTERVAL)
        later = wait_until(recommendation, 10, "the recommendation")
        [echo] = later["status"]["recommendation"]["containerRecommendations"]
        print(f"after {time.monotonic() - created:.0f}s: target {echo['target']}, "
              f"{sum(answered)} answers")  # fmt: skip

    assert echo_pods() == before
    deployment = kubectl_json("-n", NAMESPACE, "get", "deployment", "echo")
    assert deployment["metadata"]["generation"] == generation
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    assert container["resources"] == RESOURCES, container["resources"]
    assert container["image"] == ECHO_IMAGE
