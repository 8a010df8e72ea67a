"""The app's configuration and jobs on the real cluster with the real engine: settings in a
ConfigMap named by its content and a Secret, rolled out under a steady load of 100 requests per
second through the NodePort (every request counted, none retried) and rolled back exactly; the
smoke-test Job after each rollout, which stops a BlueGreen switch to a version that answers 500;
the daily figures' CronJob run at once, its file kept on its volume when its pod is gone.

The tests run in order on one throwaway stack in its own sandbox.
"""

from __future__ import annotations

import base64
import json
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from pulumi import automation as auto

from components.names import CONFIG_SUFFIX
from components.traffic import SteadyLoad, TrafficReport
from demo_orq import facts
from demo_orq.cluster_settings import BROKEN_ECHO_IMAGE
from demo_orq.kube import Object, kubectl, kubectl_json, wait_until
from demo_orq.rollback import rollback
from demo_orq.stacks import set_config, switch_strategy
from tests.cluster.helpers import install_addon, stored
from tests.sandbox import (
    SANDBOXES,
    ProjectCopy,
    copy_project,
    demo_orq_command,
    node_port_config,
    sandbox_stack,
    stack_ref,
)

pytestmark = pytest.mark.e2e

SANDBOX = SANDBOXES["config-jobs"]
NAMESPACE = SANDBOX.namespace
RATE = 100
TOKEN = "tok-1c0e7a9b-never-in-plain-sight"
V1 = facts.V1_MESSAGE


@dataclass
class Deployed:
    project: ProjectCopy
    stack: auto.Stack
    outputs_seen: list[str]
    """Every line Pulumi printed for this stack."""

    def up(self, message: str) -> None:
        self.stack.up(message=message, on_output=self.outputs_seen.append)


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    install_addon("storage.sh")
    project = copy_project(tmp_path_factory.mktemp("config-jobs") / "project")
    with sandbox_stack(project, "config-jobs", SANDBOX, smokeTest="true") as stack:
        set_setting(stack, "appConfig", {"APP_MODE": "prod", "LOG_LEVEL": "info"})
        set_setting(stack, "appSecrets", {"API_TOKEN": TOKEN}, secret=True)
        yield Deployed(project, stack, [])


def set_setting(stack: auto.Stack, key: str, values: dict[str, str], secret: bool = False) -> None:
    """An object setting, entry by entry, as `pulumi config set --path` makes it."""
    paths = {f"{facts.PROJECT}:{key}.{name}": auto.ConfigValue(value, secret)
             for name, value in values.items()}  # fmt: skip
    stack.set_all_config(paths, path=True)


def up_under_load(deployed: Deployed, message: str) -> tuple[TrafficReport, str | None]:
    error = None
    with SteadyLoad(SANDBOX.url, rate=RATE) as load:
        time.sleep(1)
        try:
            deployed.up(message)
        except auto.CommandError as failure:
            error = str(failure)
        time.sleep(3)
    print(f"\n{message}: {load.report.summary()}")
    assert load.report.requests_per_second() >= RATE * 0.9, load.report.summary()
    return load.report, error


def answer() -> str:
    return subprocess.run(["curl", "-s", "--max-time", "2", SANDBOX.url],
                          capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip


def config_maps_in_use(deployment: str) -> list[Object]:
    """The ConfigMaps that the Deployment's pods read, as the API server has them."""
    spec = kubectl_json("-n", NAMESPACE, "get", "deployment", deployment)["spec"]
    sources = spec["template"]["spec"]["containers"][0].get("envFrom", [])
    names = [source["configMapRef"]["name"] for source in sources if "configMapRef" in source]
    return [kubectl_json("-n", NAMESPACE, "get", "configmap", name) for name in names]


def config_maps() -> set[str]:
    listed = kubectl("-n", NAMESPACE, "get", "configmaps", "-o", "name").stdout.split()
    return {name.removeprefix("configmap/") for name in listed if CONFIG_SUFFIX in name}


def jobs(label: str) -> list[Object]:
    found: list[Object] = kubectl_json("-n", NAMESPACE, "get", "jobs", "-l",
                                       f"demo-orq.io/job={label}")["items"]  # fmt: skip
    return found


FIRST: dict[str, object] = {}


def test_the_settings_reach_the_pods_and_the_answer_and_the_secret_stays_hidden(
    deployed: Deployed,
) -> None:
    deployed.up("v1 with settings")

    wait_until(lambda: answer() == f"{V1} (APP_MODE=prod, LOG_LEVEL=info)", 30, "the answer")
    (config_map,) = config_maps_in_use(facts.DEPLOYMENT)
    assert config_map["data"] == {"APP_MODE": "prod", "LOG_LEVEL": "info"}
    assert config_map["immutable"] is True
    FIRST.update(name=config_map["metadata"]["name"], data=config_map["data"])
    (smoke,) = jobs("smoke")
    assert smoke["status"].get("succeeded") == 1
    state = json.dumps(deployed.stack.export_stack().deployment)
    assert TOKEN not in state
    assert TOKEN not in "\n".join(deployed.outputs_seen)
    assert TOKEN not in json.dumps({k: v.value for k, v in deployed.stack.outputs().items()})
    deployment = kubectl_json("-n", NAMESPACE, "get", "deployment", facts.DEPLOYMENT)
    assert TOKEN not in json.dumps(deployment)
    sources = deployment["spec"]["template"]["spec"]["containers"][0]["envFrom"]
    (secret_name,) = [source["secretRef"]["name"] for source in sources if "secretRef" in source]
    in_etcd = stored(f"/registry/secrets/{NAMESPACE}/{secret_name}")
    assert in_etcd.startswith(b"k8s:enc:secretbox:v1:"), in_etcd[:40]
    assert TOKEN.encode() not in in_etcd
    assert base64.b64encode(TOKEN.encode()) not in in_etcd


def test_a_new_app_mode_rolls_the_pods_with_no_failed_request(deployed: Deployed) -> None:
    smoke_before = {job["metadata"]["name"] for job in jobs("smoke")}
    set_setting(deployed.stack, "appConfig", {"APP_MODE": "debug"})
    report, error = up_under_load(deployed, "APP_MODE=debug")

    assert error is None, error
    assert report.failures == [], report.failures[:5]
    assert report.body_sequence()[-1] == f"{V1} (APP_MODE=debug, LOG_LEVEL=info)\n"
    (config_map,) = config_maps_in_use(facts.DEPLOYMENT)
    assert config_map["data"]["APP_MODE"] == "debug"
    assert config_maps() == {config_map["metadata"]["name"]}, "the old ConfigMap is left"
    smoke_now = {job["metadata"]["name"] for job in jobs("smoke")}
    assert smoke_now and smoke_now.isdisjoint(smoke_before), "no new smoke test ran"


def test_a_rollback_brings_back_the_exact_old_configmap(deployed: Deployed) -> None:
    listed = subprocess.run(
        [demo_orq_command(), "rollback", "--list", "--stack", deployed.stack.name],
        cwd=deployed.project.directory, env=deployed.project.env,
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    assert "appConfig=" in listed.stdout and "appSecrets=[secret]" in listed.stdout
    assert TOKEN not in listed.stdout + listed.stderr

    with SteadyLoad(SANDBOX.url, rate=RATE) as load:
        time.sleep(1)
        rollback(stack_ref(deployed.stack), None, on_output=deployed.outputs_seen.append)
        time.sleep(3)
    print(f"\nrollback: {load.report.summary()}")

    assert load.report.failures == []
    (config_map,) = config_maps_in_use(facts.DEPLOYMENT)
    assert config_map["metadata"]["name"] == FIRST["name"]
    assert config_map["data"] == FIRST["data"]
    assert answer() == f"{V1} (APP_MODE=prod, LOG_LEVEL=info)"


def test_a_version_that_answers_500_fails_its_smoke_test_and_the_old_one_keeps_serving(
    deployed: Deployed,
) -> None:
    switch_strategy(deployed.stack, "BlueGreen", **node_port_config(SANDBOX, "BlueGreen"),
                    gateSeconds="0")  # fmt: skip
    report, error = up_under_load(deployed, "to BlueGreen")
    assert error is None, error
    assert report.failures == []
    live = f"{V1} (APP_MODE=prod, LOG_LEVEL=info)\n"

    set_config(deployed.stack, greenImage=BROKEN_ECHO_IMAGE, liveColor="green")
    report, error = up_under_load(deployed, "switch to a green that answers 500")

    assert error is not None, "the update passed a version that answers 500"
    assert "smoke test failed" in error and "kubectl logs -n" in error, error[-3000:]
    assert 'HTTP 500 "injected failure"' in error
    assert report.failures == [], report.failures[:5]
    assert set(report.bodies) == {live}
    selector = kubectl_json("-n", NAMESPACE, "get", "service", facts.SERVICE)["spec"]["selector"]
    assert selector["color"] == "blue"

    deployed.stack.remove_all_config([f"{facts.PROJECT}:{key}"
                                      for key in ("greenImage", "liveColor")])  # fmt: skip
    deployed.up("green as blue again")


def run_etl(deployed: Deployed) -> subprocess.CompletedProcess[str]:
    completed = subprocess.run(
        [demo_orq_command(), "job", "run", "etl", "--stack", deployed.stack.name],
        cwd=deployed.project.directory, env=deployed.project.env,
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    print(completed.stdout, completed.stderr)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed


def volume_folder() -> Path:
    claim = kubectl_json("-n", NAMESPACE, "get", "pvc", f"{facts.DEPLOYMENT}-etl-data")
    volume = kubectl_json("get", "pv", claim["spec"]["volumeName"])
    return Path(volume["spec"]["hostPath"]["path"])


def test_the_daily_figures_run_now_and_stay_on_their_volume(deployed: Deployed) -> None:
    set_config(deployed.stack, etl="true")
    deployed.up("the daily figures")
    cron = kubectl_json("-n", NAMESPACE, "get", "cronjob", f"{facts.DEPLOYMENT}-etl")["spec"]
    assert (cron["schedule"], cron["timeZone"], cron["concurrencyPolicy"]) == (
        "0 3 * * *", "Etc/UTC", "Forbid")  # fmt: skip

    first = run_etl(deployed)
    assert "on the volume before this run: 0 file(s)" in first.stdout
    (written,) = volume_folder().glob("figures-*.json")
    figures = json.loads(written.read_text(encoding="utf-8"))
    assert figures["requests"] == figures["succeeded"] == 100
    assert figures["answers_by_text"] == {f"{V1} (APP_MODE=prod, LOG_LEVEL=info)": 100}

    kubectl("-n", NAMESPACE, "delete", "pods", "-l", "demo-orq.io/job=etl", "--wait=true")
    second = run_etl(deployed)
    assert f"1 file(s) /data/{written.name}" in second.stdout
