"""Drift: the app changed outside Pulumi (`kubectl scale`, `kubectl set image`) while it serves
150 requests per second. `pulumi preview --refresh` shows both changes, and `pulumi up --refresh`
puts back the declared state with no field-manager conflict; no request fails throughout.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from components.traffic import SteadyLoad
from demo_orq import facts
from demo_orq.kube import kubectl, ready_pods
from tests.faults.helpers import SELECTOR, App, deploy_app, describe_failures, failed
from tests.sandbox import SANDBOXES

pytestmark = pytest.mark.faults

SANDBOX = SANDBOXES["faults-drift"]
REPLICAS, SCALED = 3, 5
# The same image under another name (present on the node: nothing is pulled), so the drifted
# pods still answer.
OTHER_IMAGE_NAME = f"docker.io/{facts.IMAGE}"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    yield from deploy_app(tmp_path_factory, SANDBOX, "faults-drift", replicas=REPLICAS)


def deployment(app: App, *args: str) -> None:
    kubectl("-n", app.namespace, *args)


def test_changes_made_with_kubectl_are_shown_and_taken_back(app: App) -> None:
    with SteadyLoad(SANDBOX.url, rate=150, max_seconds=600) as load:
        started = time.monotonic()
        deployment(app, "scale", f"deployment/{facts.DEPLOYMENT}", f"--replicas={SCALED}")
        deployment(app, "set", "image", f"deployment/{facts.DEPLOYMENT}", f"app={OTHER_IMAGE_NAME}")
        deployment(app, "rollout", "status", f"deployment/{facts.DEPLOYMENT}", "--timeout=180s")

        preview = app.pulumi("preview", "--refresh", "--diff")
        drift = app.pulumi("preview", "--refresh", "--expect-no-changes", check=False)
        restored = app.pulumi("up", "--refresh", "--yes", "--skip-preview", "--diff")
        app.wait_settled()
        time.sleep(2)

    shown = preview.stdout
    print(f"\ndrift: preview --refresh showed:\n{shown[-2500:]}\ntraffic: {load.report.summary()}")
    assert f"replicas: {SCALED} => {REPLICAS}" in shown, shown[-4000:]
    assert OTHER_IMAGE_NAME in shown and facts.IMAGE in shown, shown[-4000:]
    assert drift.returncode != 0, "preview --expect-no-changes passed over the drift"
    assert "conflict" not in (restored.stdout + restored.stderr).lower(), restored.stdout[-3000:]
    # The pods that serve (those of the old ReplicaSet may still be terminating).
    images = {p["spec"]["containers"][0]["image"] for p in ready_pods(app.namespace, SELECTOR)}
    assert images == {facts.IMAGE}
    assert failed(load.report.answers) == [], describe_failures(load.report.answers, started)
    app.preview_shows_no_change("--refresh")
