"""A secret message: set with `pulumi config set --secret message ...`, it reaches the pods from
a Kubernetes Secret (the app answers it), and its value, plain or base64, appears nowhere Pulumi
writes: not in Pulumi.<stack>.yaml, the state files, the logs of `up` and `preview --diff`, the
stack outputs, the stack history, nor `demo-orq rollback --list`. Two values are set in
turn, so that a change of the secret (a new Kubernetes Secret, a rollout) is covered too.
"""

from __future__ import annotations

import base64
import subprocess
import uuid
from collections.abc import Iterator

import pytest

from demo_orq import facts
from demo_orq.kube import kubectl_json
from tests.cluster.helpers import wait_for_only_answer
from tests.faults.helpers import App, deploy_app
from tests.sandbox import SANDBOXES, demo_orq_command

pytestmark = pytest.mark.faults

SANDBOX = SANDBOXES["faults-secret"]
SECRETS = tuple(f"Hola secreto {uuid.uuid4().hex[:16]}" for _ in range(2))


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    yield from deploy_app(tmp_path_factory, SANDBOX, "faults-secret", replicas=2)


def forms(value: str) -> list[str]:
    """The value as it could leak: plain, and base64 as a Secret's data holds it."""
    return [value, base64.b64encode(value.encode()).decode()]


def secret_data(app: App) -> set[str]:
    """The messages held by the Secrets in the app's namespace."""
    listed = kubectl_json("-n", app.namespace, "get", "secrets")["items"]
    return {
        base64.b64decode(item["data"]["message"]).decode()
        for item in listed
        if "message" in item.get("data", {})
    }


def rollback_list(app: App) -> str:
    command = [demo_orq_command(), "rollback", "--list", "--stack", app.stack.name,
               "--work-dir", str(app.project.directory)]  # fmt: skip
    listed = subprocess.run(command, cwd=app.project.directory, env=app.project.env,
                            capture_output=True, text=True, check=True)  # fmt: skip
    return listed.stdout + listed.stderr


def test_a_secret_message_reaches_the_pods_and_stays_encrypted(app: App) -> None:
    logs: dict[str, str] = {}
    for number, secret in enumerate(SECRETS, start=1):
        app.pulumi("config", "set", "--secret", f"{facts.PROJECT}:message", "--", secret)
        preview = app.pulumi("preview", "--diff")
        up = app.pulumi("up", "--yes", "--skip-preview", "--diff", "--message", f"secret {number}")
        logs[f"pulumi preview --diff ({number})"] = preview.stdout + preview.stderr
        logs[f"pulumi up --diff ({number})"] = up.stdout + up.stderr
        app.wait_settled()
        wait_for_only_answer("127.0.0.1", SANDBOX.node_port, secret, timeout=90)
        assert secret in secret_data(app)
        deployment = kubectl_json("-n", app.namespace, "get", "deployment", facts.DEPLOYMENT)
        assert secret not in str(deployment), "the Deployment itself holds the message"

    directory = app.project.directory
    places = {
        **logs,
        f"Pulumi.{app.stack.name}.yaml": (directory / f"Pulumi.{app.stack.name}.yaml").read_text(),
        "pulumi stack output --json": app.pulumi("stack", "output", "--json").stdout,
        "pulumi stack history --json": app.pulumi("stack", "history", "--json").stdout,
        "rollback --list": rollback_list(app),
    }
    state_files = [path for path in (directory / ".state").rglob("*") if path.is_file()]
    assert any(path.name == f"{app.stack.name}.json" for path in state_files)
    for path in state_files:
        places[f"state file {path.relative_to(directory)}"] = path.read_bytes().decode(
            "utf-8", errors="replace"
        )

    leaks = [
        f"{where}: {form[:12]}..."
        for where, text in places.items()
        for secret in SECRETS
        for form in forms(secret)
        if form in text
    ]
    print(f"\nsecret message: looked in {len(places)} places, {len(state_files)} state files")
    assert leaks == []
    assert "secure:" in places[f"Pulumi.{app.stack.name}.yaml"]
