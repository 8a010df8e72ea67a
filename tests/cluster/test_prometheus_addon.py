"""The Prometheus add-on (cluster/prometheus.sh, docs/prometheus.md) on the local cluster.

- The install command is idempotent: run again on a healthy add-on it returns in seconds and
  changes no object; status.sh shows the add-on; bad arguments get exit status 2.
- Prometheus and its rules loader run as non-root under the "restricted" Pod Security profile;
  promtool (built beside the image) accepts the configuration and the rules that are deployed.
- Prometheus answers through the API server's service proxy, and the targets of every job are
  up: itself, the API server, the kubelet, its cAdvisor (series by namespace, pod, container) and
  Traefik.
- Requests through the gateway to an HTTPRoute of the sandbox are counted in Traefik's
  `traefik_service_requests_total` under the backend Service's `service` label, with the finer
  latency buckets, and in the add-on's recording rules.
- The rules loader: a ConfigMap labelled demo-orq.io/prometheus-rules=true brings its rule files
  within 30 s and takes them away when it is deleted; a key that is not .yaml/.yml is ignored, a
  ConfigMap that Prometheus refuses is left out without stopping the others.

Its own namespace, orq-prom-addon (refused if it exists, deleted at the end). The gateway add-on
is installed too (cluster/gateway.sh): Traefik is one of the targets and serves the route.
"""

from __future__ import annotations

import http.client
import json
import subprocess
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from demo_orq.cluster_settings import (
    GATEWAY_HTTP_NODE_PORT,
    PROMETHEUS_NAMESPACE,
    PROMETHEUS_PROXY,
    PROMETHEUS_RULES_LABEL,
    SETTINGS,
    promtool_path,
)
from demo_orq.kube import Object, kubectl, kubectl_json, wait_until
from tests.cluster.helpers import (
    Addon,
    apply,
    assert_confined,
    assert_restricted_pod,
    echo_deployed,
    process_status,
    running_pod,
)
from tests.sandbox import SANDBOXES

pytestmark = pytest.mark.cluster

PROMETHEUS = "app.kubernetes.io/name=prometheus"
JOBS = ("prometheus", "apiserver", "kubelet", "cadvisor", "traefik")
RULE_FILES = "/etc/prometheus/app-rules"

SANDBOX = SANDBOXES["prometheus-addon"]  # its Service is a ClusterIP: no node port used
NAMESPACE = SANDBOX.namespace
HOST = f"measured.{NAMESPACE}.localhost"
TEXT = "measured by the prometheus add-on"
SERVICE = f"{NAMESPACE}-echo-http-80@kubernetesgateway"
"""Traefik's `service` label for port 80 of Service echo, the HTTPRoute's backend."""
REQUESTS = 50
BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, float("inf")]
"""Traefik's latency buckets (cluster/addons/gateway/traefik.yaml)."""
GATEWAY_API = "gateway.networking.k8s.io/v1"


ADDON = Addon(
    "prometheus.sh",
    "prometheus",
    "prometheus (add-on)",
    PROMETHEUS_NAMESPACE,
    # The add-on's objects; its pod is Prometheus'.
    (
        "serviceaccount/prometheus",
        "clusterrole/prometheus",
        "clusterrolebinding/prometheus",
        "configmap/prometheus-config",
        "service/prometheus",
        "deployment/prometheus",
    ),
    PROMETHEUS,
    requires=("gateway.sh",),
)
prometheus_addon = ADDON.fixture()
"""The gateway add-on and this one installed (or found installed); this one's log."""


def prometheus_get(path: str) -> Any:
    """GET `path` of Prometheus' HTTP API through the API server's service proxy, as JSON."""
    return json.loads(kubectl("get", "--raw", PROMETHEUS_PROXY + path, timeout=30).stdout)


def query(promql: str) -> list[Object]:
    answer = prometheus_get("/api/v1/query?" + urllib.parse.urlencode({"query": promql}))
    assert answer["status"] == "success", answer
    result: list[Object] = answer["data"]["result"]
    return result


def test_the_install_command_is_idempotent(prometheus_addon: str) -> None:
    ADDON.assert_second_install_is_a_no_op()


def test_status_shows_the_add_on_and_bad_arguments_are_refused(prometheus_addon: str) -> None:
    line = ADDON.assert_status_and_refusals()
    assert PROMETHEUS_PROXY in line, line


def prometheus_pod() -> Object:
    return running_pod(PROMETHEUS_NAMESPACE, PROMETHEUS)


def test_prometheus_runs_as_non_root_under_the_restricted_profile(prometheus_addon: str) -> None:
    containers = assert_restricted_pod(prometheus_pod(), 65534)
    assert set(containers) == {"prometheus", "rules-loader"}
    for container in containers.values():
        assert "memory" in container["resources"]["limits"], container["resources"]
    image = containers["prometheus"]["image"]
    assert image == f"quay.io/prometheus/prometheus:{SETTINGS['PROMETHEUS_VERSION']}", image
    assert containers["rules-loader"]["image"] == SETTINGS["RULES_LOADER_IMAGE"]

    [process] = process_status(b"/bin/prometheus")
    assert_confined(process, 65534)
    [loader] = process_status(b"/rules-loader")
    print(f"\nresident memory: Prometheus {process['VmRSS']}, rules loader {loader['VmRSS']}")


def test_promtool_accepts_the_deployed_configuration_and_rules(
    prometheus_addon: str, tmp_path: Path
) -> None:
    promtool = promtool_path()
    assert promtool.is_file(), f"{promtool} missing: cluster/build-images.sh prometheus builds it"
    data = kubectl_json("-n", PROMETHEUS_NAMESPACE, "get", "configmap", "prometheus-config")
    files = data["data"]
    assert set(files) == {"prometheus.yml", "rules.yaml"}, set(files)
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    for args in (("config", "--syntax-only", "prometheus.yml"), ("rules", "rules.yaml")):
        checked = subprocess.run(
            [str(promtool), "check", *args], cwd=tmp_path, capture_output=True, text=True
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr
    version = subprocess.run([str(promtool), "--version"], capture_output=True, text=True)
    assert f"version {SETTINGS['PROMETHEUS_VERSION'].removeprefix('v')} " in version.stdout


def jobs_up() -> dict[str, list[str]] | None:
    """The health of the active targets by job, once every job has its targets up."""
    targets = prometheus_get("/api/v1/targets?state=active")["data"]["activeTargets"]
    health: dict[str, list[str]] = {}
    for target in targets:
        health.setdefault(target["labels"]["job"], []).append(target["health"])
    every_up = all(health.get(job) and set(health[job]) == {"up"} for job in JOBS)
    return health if every_up else None


def test_prometheus_answers_through_the_api_server_and_every_target_is_up(
    prometheus_addon: str,
) -> None:
    ready = kubectl("get", "--raw", f"{PROMETHEUS_PROXY}/-/ready").stdout
    assert "Prometheus Server is Ready" in ready, ready
    health = wait_until(jobs_up, 60, f"the targets of {', '.join(JOBS)} up", interval=1)
    assert set(health) == set(JOBS), health
    build = prometheus_get("/api/v1/status/buildinfo")["data"]
    assert build["version"] == SETTINGS["PROMETHEUS_VERSION"].removeprefix("v"), build
    flags = prometheus_get("/api/v1/status/flags")["data"]
    assert flags["web.enable-lifecycle"] == "true", flags

    # cAdvisor's series of a container carry its namespace, pod and container.
    pod = prometheus_pod()["metadata"]["name"]
    selector = (
        f'container_memory_working_set_bytes{{namespace="{PROMETHEUS_NAMESPACE}",'
        f'pod="{pod}",container="prometheus"}}'
    )
    # One series per container instance: a container restarted (the node was) keeps its old
    # one for the lookback, as cAdvisor's timestamps are honoured (no staleness marker).
    assert query(selector), (
        "no series per container from cAdvisor. A kubelet started before "
        "cluster/steps/12-kubelet.sh gave it --containerd: cluster/cluster.sh restart kubelet"
    )

    # A Prometheus that has just started may be sampled at a few MiB (CI saw 3.6): its working
    # set grows past 10 MiB as it loads its targets and rules.
    def grown() -> bool:
        return max(float(series["value"][1]) for series in query(selector)) > 10 * 2**20

    wait_until(grown, 90, "Prometheus' own working set above 10 MiB, as cAdvisor reports it")


# ---------------------------------------------------------------- through the gateway


@pytest.fixture(scope="module")
def sandbox(prometheus_addon: str) -> Iterator[None]:
    with echo_deployed(SANDBOX, TEXT):
        yield


def gateway_and_route() -> list[Object]:
    listener = {"name": "http", "protocol": "HTTP", "port": int(SETTINGS["GATEWAY_HTTP_PORT"]),
                "hostname": HOST}  # fmt: skip
    gateway = {
        "apiVersion": GATEWAY_API,
        "kind": "Gateway",
        "metadata": {"name": "web", "namespace": NAMESPACE},
        "spec": {"gatewayClassName": SETTINGS["GATEWAY_CLASS"], "listeners": [listener]},
    }
    route = {
        "apiVersion": GATEWAY_API,
        "kind": "HTTPRoute",
        "metadata": {"name": "echo", "namespace": NAMESPACE},
        "spec": {
            "parentRefs": [{"name": "web"}],
            "hostnames": [HOST],
            "rules": [{"backendRefs": [{"name": "echo", "port": 80}]}],
        },
    }
    return [gateway, route]


def get_through_gateway() -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", GATEWAY_HTTP_NODE_PORT, timeout=5)
    try:
        connection.request("GET", "/", headers={"Host": HOST})
        response = connection.getresponse()
        return response.status, response.read().decode()
    except OSError as error:
        return 0, str(error)
    finally:
        connection.close()


def value(promql: str) -> float | None:
    """The value of the one series `promql` selects, or None."""
    result = query(promql)
    assert len(result) <= 1, result
    return float(result[0]["value"][1]) if result else None


def test_requests_through_the_gateway_show_in_traefiks_metrics_and_the_recording_rules(
    sandbox: None,
) -> None:
    apply(*gateway_and_route())
    wait_until(lambda: get_through_gateway() == (200, TEXT + "\n"), 60, f"{HOST} answers", 0.1)
    # Traefik's series of the Service starts with its first request: rate() sees only what
    # came after Prometheus' first sample of it.
    counted = f'sum(traefik_service_requests_total{{service="{SERVICE}"}})'
    before = wait_until(lambda: value(counted), 30, f"{counted} scraped")
    for _ in range(REQUESTS):
        assert get_through_gateway() == (200, TEXT + "\n")
    sent = time.monotonic()

    total = before + REQUESTS
    wait_until(lambda: (value(counted) or 0) >= total, 30, f"{counted} >= {total}")
    print(f"\ncounted by Prometheus {time.monotonic() - sent:.1f}s after the last request")
    services = {s["metric"]["service"] for s in query("traefik_service_requests_total")}
    assert SERVICE in services, services
    buckets = query(f'traefik_service_request_duration_seconds_bucket{{service="{SERVICE}"}}')
    assert sorted({float(b["metric"]["le"]) for b in buckets}) == BUCKETS

    selector = f'{{service="{SERVICE}"}}'
    rate = f"service:traefik_requests:rate30s{selector}"
    wait_until(lambda: (value(rate) or 0) > 0, 30, f"{rate} > 0")
    assert value(f"service:traefik_requests_errors:ratio_rate30s{selector}") == 0
    for quantile in ("p50", "p95", "p99"):
        latency = value(f"service:traefik_request_duration_seconds:{quantile}_rate30s{selector}")
        assert latency is not None and 0 < latency <= 0.1, (quantile, latency)
    assert (value(f"service:traefik_requests:rate5m{selector}") or 0) > 0


RULES = """groups:
- name: orq-prom-addon
  rules:
  - record: orq_prom_addon:up:count
    expr: count(up)
"""
REFUSED = """groups:
- name: orq-prom-addon-refused
  rules:
  - record: orq_prom_addon:refused
    expr: sum(rate(up[5m]) by
"""


def rules_config_map(name: str, data: dict[str, str], labelled: bool = True) -> Object:
    labels = {PROMETHEUS_RULES_LABEL: "true"} if labelled else {}
    metadata = {"name": name, "namespace": NAMESPACE, "labels": labels}
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": data}


def rule_files() -> set[str]:
    groups = prometheus_get("/api/v1/rules")["data"]["groups"]
    return {g["file"] for g in groups if g["file"].startswith(RULE_FILES)}


def loader_log() -> str:
    return kubectl("-n", PROMETHEUS_NAMESPACE, "logs", "deployment/prometheus",
                   "-c", "rules-loader").stdout  # fmt: skip


def test_the_rules_loader_loads_the_labelled_config_maps_and_unloads_them(sandbox: None) -> None:
    good = f"{RULE_FILES}/{NAMESPACE}_app-rules_slo.yaml"
    refused = f"{RULE_FILES}/{NAMESPACE}_broken-rules_slo.yml"
    apply(
        rules_config_map("app-rules", {"slo.yaml": RULES, "README.md": "not a rule file"}),
        rules_config_map("broken-rules", {"slo.yml": REFUSED}),
        rules_config_map("unlabelled", {"slo.yaml": RULES}, labelled=False),
    )
    applied = time.monotonic()
    wait_until(lambda: good in rule_files(), 30, f"{good} in /api/v1/rules", interval=1)
    print(f"\nrules loaded {time.monotonic() - applied:.1f}s after the ConfigMap was applied")
    assert rule_files() == {good}
    wait_until(lambda: query("orq_prom_addon:up:count"), 15, "the app's recording rule's series")
    log = loader_log()
    assert f"rejected {NAMESPACE}_broken-rules_slo.yml" in log, log
    assert f'ignored key "README.md" of ConfigMap {NAMESPACE}/app-rules' in log, log

    kubectl("-n", NAMESPACE, "delete", "configmap", "app-rules", "broken-rules")
    deleted = time.monotonic()
    wait_until(lambda: not rule_files(), 30, f"{good} gone from /api/v1/rules", interval=1)
    print(f"rules unloaded {time.monotonic() - deleted:.1f}s after the ConfigMap was deleted")
    assert refused not in rule_files()
