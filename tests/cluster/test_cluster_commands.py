"""The cluster's own commands on the running cluster: up is idempotent and fast when healthy,
status reports every component healthy, and --env prints what a shell needs."""

from __future__ import annotations

import subprocess
import time

import pytest

from demo_orq.cluster_settings import KUBE_VERSION, NODE_NAME
from demo_orq.facts import PROJECT_DIR
from tests.cluster.helpers import COMPONENTS

pytestmark = pytest.mark.cluster


def run(script: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(PROJECT_DIR / "cluster" / script), *args], capture_output=True, text=True, timeout=600
    )


def test_up_on_a_healthy_cluster_returns_at_once(cluster_node: dict) -> None:
    started = time.monotonic()
    result = run("up.sh")
    seconds = time.monotonic() - started
    assert result.returncode == 0, result.stdout + result.stderr
    assert "already up" in result.stderr, result.stderr
    assert seconds < 10, f"a second up took {seconds:.1f}s"


def test_status_shows_every_component_healthy(cluster_node: dict) -> None:
    result = run("status.sh")
    assert result.returncode == 0, result.stdout + result.stderr
    for component in COMPONENTS:
        assert any(
            line.split()[:1] == [component] and line.endswith("healthy") and "unhealthy" not in line
            for line in result.stdout.splitlines()
        ), f"{component} not healthy:\n{result.stdout}"
    assert NODE_NAME in result.stdout and " Ready " in result.stdout


def test_env_prints_kubectl_path_and_kubeconfig(cluster_node: dict) -> None:
    result = run("status.sh", "--env")
    assert result.returncode == 0
    assert f"/kubernetes/{KUBE_VERSION}/bin:" in result.stdout
    assert 'KUBECONFIG="' in result.stdout and "/.kube/demo-orq.kubeconfig" in result.stdout
