"""A message set with `pulumi config set --secret` reaches the pods from a Kubernetes Secret and
never appears in plain text in what Pulumi registers, records or shows."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pulumi.runtime.rpc import _special_secret_sig

from demo_orq.config import StackConfigError, load

SECRET = "la contraseña es 1234"
SIGNATURE = "4dabf18193072939515e22adb298388d"  # how Pulumi marks a secret value on the wire


def in_plain_sight(value: Any) -> str:
    """Every string in `value` outside the values that Pulumi marks as secrets."""
    if isinstance(value, dict):
        if value.get(SIGNATURE) == _special_secret_sig:
            return ""
        return " ".join(in_plain_sight(item) for item in value.values())
    if isinstance(value, list):
        return " ".join(in_plain_sight(item) for item in value)
    return value if isinstance(value, str) else ""


CONTEXT = {"context": "demo-orq"}


def test_a_secret_message_is_read_as_such():
    assert load({**CONTEXT, "message": SECRET}, secret_keys={"message"}).app.secret_message
    assert not load({**CONTEXT, "message": SECRET}).app.secret_message


def test_only_the_message_may_be_a_secret():
    with pytest.raises(StackConfigError) as raised:
        load({**CONTEXT, "image": "hashicorp/http-echo:0.2.3"}, secret_keys={"image"})

    (error,) = raised.value.errors
    assert error.key == "image"
    assert "only message and appSecrets may be secrets" in str(error)
    assert "http-echo" not in str(error)


def test_an_error_about_a_secret_never_shows_it():
    with pytest.raises(StackConfigError) as raised:
        load({**CONTEXT, "message": "   "}, secret_keys={"message"})

    (error,) = raised.value.errors
    assert str(error).startswith("invalid stack config demo-orq:message: '[secret]'")


@pytest.mark.parametrize("strategy", ["RollingUpdate", "BlueGreen", "Canary"])
def test_the_pods_read_it_from_a_secret_and_no_deployment_holds_it(
    run_program, stack_config, strategy
):
    canary = {"canaryWeight": "50"} if strategy == "Canary" else {}
    config = {**stack_config("dev"), "message": SECRET, "strategy": strategy, **canary}
    rendered = run_program(config, secret_keys=["message"])

    (secret,) = [r for r in rendered.kubernetes_objects() if r.inputs["kind"] == "Secret"]
    assert secret.inputs["stringData"]["value"] == {"message": SECRET}
    assert secret.inputs["immutable"] is True
    deployments = [r for r in rendered.kubernetes_objects() if r.inputs["kind"] == "Deployment"]
    assert deployments
    for deployment in deployments:
        container = deployment.inputs["spec"]["template"]["spec"]["containers"][0]
        assert container["args"][0] == "-text=$(APP_MESSAGE)"
        (variable,) = container["env"]
        assert variable["name"] == "APP_MESSAGE"
        assert variable["valueFrom"]["secretKeyRef"]["key"] == "message"
    assert SECRET not in in_plain_sight([r.inputs for r in rendered.resources])
    assert SECRET not in json.dumps(rendered.result, ensure_ascii=False)


def test_a_plain_message_stays_in_the_args_as_the_demo_has_it(run_program, stack_config):
    rendered = run_program({**stack_config("dev"), "message": "hola"})

    assert [r for r in rendered.kubernetes_objects() if r.inputs["kind"] == "Secret"] == []
    container = rendered.object("Deployment", "hello")["spec"]["template"]["spec"]["containers"][0]
    assert container["args"][0] == "-text=hola"
    assert "env" not in container
