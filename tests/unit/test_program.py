"""__main__.py, run as the engine runs it (under Pulumi mocks) with the stacks' config."""

import logging
import os

import pytest

from demo_orq import facts
from demo_orq.settings import KEYS
from tests.unit.manifests import differences

PROVIDER_TYPE = "pulumi:providers:kubernetes"

# What the program adds to the demo's objects on purpose: hardening (Pod Security enforced, an
# identity with no API token) and graceful rollouts. It also adds a ServiceAccount.
ADDED_TO_THE_DEMO = {
    "Namespace": {".metadata.labels"},
    "Deployment": {
        ".metadata.annotations",
        ".spec.minReadySeconds",
        ".spec.template.spec.serviceAccountName",
        ".spec.template.spec.automountServiceAccountToken",
        ".spec.template.spec.securityContext.seccompProfile",
        ".spec.template.spec.terminationGracePeriodSeconds",
        ".spec.template.spec.containers[0].lifecycle",
        ".spec.template.spec.containers[0].securityContext",
    },
    "Service": {".metadata.annotations"},
}


@pytest.mark.parametrize("stack", ["dev", "kind"])
def test_a_stack_without_app_config_renders_exactly_the_demo(
    run_program, stack_config, demo_objects, stack
):
    rendered = run_program(stack_config(stack))

    kinds = sorted(r.inputs["kind"] for r in rendered.kubernetes_objects())
    assert kinds == sorted([*demo_objects, "ServiceAccount"])
    for kind, demo_object in demo_objects.items():
        rendered_object = rendered.object(kind, "hello")
        assert differences(demo_object, rendered_object) == [], kind
        added = {d.path for d in differences(rendered_object, demo_object)}
        assert added == ADDED_TO_THE_DEMO[kind], kind


def test_every_object_is_deployed_by_the_stack_provider(run_program, stack_config):
    rendered = run_program(stack_config("kind"))

    (provider,) = [r for r in rendered.resources if r.typ == PROVIDER_TYPE]
    assert provider.inputs == {
        "kubeconfig": os.path.expanduser("~/.kube/config"),
        "context": "kind-demo-orq",
    }
    (reference,) = {r.provider for r in rendered.kubernetes_objects()}
    assert reference.endswith(f"{PROVIDER_TYPE}::{provider.name}::{provider.name}-id")


def test_exports_start_with_the_url(run_program, stack_config):
    exports = run_program(stack_config("dev")).result

    assert list(exports.items()) == [
        ("url", "http://127.0.0.1:30080/"),
        ("namespace", "demo"),
        ("deploymentName", "hello-api"),
        ("serviceName", "hello-svc"),
    ]


def test_stack_config_reaches_the_objects(run_program, mocks, stack_config):
    config = {
        **stack_config("dev"),
        "replicas": "5",
        "strategy": "Recreate",
        "namespace": "demo-v2",
        "nodePort": "30090",
        "message": "Hola desde K8s v2 🚀",
        "rolloutTimeout": "300",
    }
    rendered = run_program(config)

    deployment = rendered.object("Deployment", "hello")
    assert deployment["metadata"]["namespace"] == "demo-v2"
    assert deployment["spec"]["replicas"] == 5
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["args"] == ["-text=Hola desde K8s v2 🚀", "-listen=:8080"]
    assert rendered.object("Service", "hello")["spec"]["ports"][0]["nodePort"] == 30090
    assert rendered.result["url"] == "http://127.0.0.1:30090/"
    timeouts = mocks.requests["kubernetes:apps/v1:Deployment", "hello"].customTimeouts
    assert (timeouts.create, timeouts.update) == ("300s", "300s")


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            {"context": "demo-orq", "replicas": "-1"},
            "invalid stack config demo-orq:replicas: '-1' (accepted: an integer from 0 to 50)",
        ),
        (
            {"kubeconfig": "~/.kube/config"},
            "invalid stack config demo-orq:context: not set "
            f"(accepted: {KEYS['context'].accepted})",
        ),
        (
            {"context": "demo-orq", "replica": "5"},
            "invalid stack config demo-orq:replica: '5' "
            f"(accepted: only the keys {', '.join(KEYS)})",
        ),
    ],
)
def test_bad_config_fails_with_one_message_before_any_resource(
    run_program, mocks, caplog, config, message
):
    with pytest.raises(SystemExit) as exited:
        run_program(config)

    assert exited.value.code == facts.EXIT_AFTER_SHOWING_ERROR, (
        "the engine adds no message of its own after exit code 32"
    )
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [(logging.ERROR, message)]
    assert mocks.registered == []


def test_every_bad_value_of_a_stack_is_logged_on_its_own_line_then_one_exit(
    run_program, mocks, caplog
):
    config = {"context": "demo-orq", "replicas": "-1", "nodePort": "80", "canaryWeight": "50"}

    with pytest.raises(SystemExit) as exited:
        run_program(config)

    assert exited.value.code == facts.EXIT_AFTER_SHOWING_ERROR
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.ERROR, "invalid stack config demo-orq:replicas: '-1' (accepted: an integer "
                        "from 0 to 50)"),
        (logging.ERROR, "invalid stack config demo-orq:nodePort: '80' (accepted: an integer "
                        "from 30000 to 32767)"),
        (logging.ERROR, "invalid stack config demo-orq:canaryWeight: '50' is a Canary setting; "
                        "strategy is RollingUpdate (remove it: pulumi config rm canaryWeight)"),
    ]  # fmt: skip
    assert mocks.registered == []
