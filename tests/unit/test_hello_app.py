"""HelloApp renders the right Kubernetes objects from its arguments (under Pulumi mocks)."""

from typing import Any

import pytest

from components import HelloApp, HelloAppArgs, Recreate, RollingUpdate
from tests.unit.manifests import changed_paths

NAMESPACE_TYPE = "kubernetes:core/v1:Namespace"
DEPLOYMENT_TYPE = "kubernetes:apps/v1:Deployment"
SERVICE_TYPE = "kubernetes:core/v1:Service"


def deploy(**apps: HelloAppArgs) -> dict[str, dict[str, Any]]:
    """A program that creates one HelloApp per keyword (its name) and returns their outputs."""
    return {name: outputs(HelloApp(name, args)) for name, args in apps.items()}


def outputs(app: HelloApp) -> dict[str, Any]:
    return {
        "url": app.url,
        "namespace": app.namespace,
        "deployment_name": app.deployment_name,
        "service_name": app.service_name,
    }


@pytest.fixture
def deployment_of(render):
    """The Deployment's inputs of a HelloApp named `hello` made with the given arguments."""
    return lambda args: render(lambda: deploy(hello=args)).object("Deployment", "hello")


def pod_spec(deployment: dict[str, Any]) -> dict[str, Any]:
    return deployment["spec"]["template"]["spec"]


def test_registers_a_component_with_the_demos_objects_and_an_identity_as_children(render):
    rendered = render(lambda: deploy(hello=HelloAppArgs()))

    (component,) = [r for r in rendered.resources if r.typ == "demo-orq:app:HelloApp"]
    assert (component.name, component.custom) == ("hello", False)
    names = {
        (o.inputs["kind"], o.inputs["metadata"]["name"]) for o in rendered.kubernetes_objects()
    }
    assert names == {
        ("Namespace", "demo"),
        ("ServiceAccount", "hello-api"),
        ("Deployment", "hello-api"),
        ("Service", "hello-svc"),
    }


def test_outputs_tell_where_and_what_was_deployed(render):
    rendered = render(lambda: deploy(hello=HelloAppArgs()))

    assert rendered.result["hello"] == {
        "url": "http://127.0.0.1:30080/",
        "namespace": "demo",
        "deployment_name": "hello-api",
        "service_name": "hello-svc",
    }


def test_pods_are_hardened_beyond_the_demo(deployment_of):
    pod = pod_spec(deployment_of(HelloAppArgs()))

    assert pod["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 10001,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert pod["containers"][0]["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "readOnlyRootFilesystem": True,
    }


def test_pods_keep_serving_while_they_leave_the_service(deployment_of):
    deployment = deployment_of(HelloAppArgs())

    assert deployment["spec"]["minReadySeconds"] == 0
    pod = pod_spec(deployment)
    assert pod["containers"][0]["lifecycle"] == {"preStop": {"sleep": {"seconds": 5}}}
    assert pod["terminationGracePeriodSeconds"] == 10


def test_a_zero_pre_stop_sleep_removes_the_hook(deployment_of):
    pod = pod_spec(deployment_of(HelloAppArgs(pre_stop_sleep_seconds=0)))

    assert "lifecycle" not in pod["containers"][0]
    assert pod["terminationGracePeriodSeconds"] == 5


@pytest.mark.parametrize(
    ("change", "changed"),
    [
        ({"message": "Hola desde K8s v2 🚀"}, {".spec.template.spec.containers[0].args[0]"}),
        ({"image": "hashicorp/http-echo:1.0.0"}, {".spec.template.spec.containers[0].image"}),
        ({"replicas": 5}, {".spec.replicas"}),
    ],
)
def test_a_change_touches_only_its_own_field(render, change, changed):
    before = render(lambda: deploy(hello=HelloAppArgs())).inputs()
    after = render(lambda: deploy(hello=HelloAppArgs(**change))).inputs()

    assert after.keys() == before.keys()
    changes = {resource: changed_paths(before[resource], after[resource]) for resource in before}
    assert {resource: paths for resource, paths in changes.items() if paths} == {
        (DEPLOYMENT_TYPE, "hello"): changed
    }


def test_the_message_is_passed_to_http_echo_as_is(deployment_of):
    pod = pod_spec(deployment_of(HelloAppArgs(message="Hola desde K8s v2 🚀")))

    assert pod["containers"][0]["args"] == ["-text=Hola desde K8s v2 🚀", "-listen=:8080"]


def test_rolling_update_parameters_map_to_the_strategy(deployment_of):
    deployment = deployment_of(
        HelloAppArgs(strategy=RollingUpdate(max_surge="25%", max_unavailable=0))
    )

    assert deployment["spec"]["strategy"] == {
        "type": "RollingUpdate",
        "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0},
    }


def test_recreate_has_no_rolling_update_parameters(deployment_of):
    deployment = deployment_of(HelloAppArgs(strategy=Recreate()))

    assert deployment["spec"]["strategy"] == {"type": "Recreate"}


def test_the_selector_is_the_stable_app_label_only(render):
    args = HelloAppArgs(image="hashicorp/http-echo:1.0.0", message="v2")
    rendered = render(lambda: deploy(hello=args))
    deployment = rendered.object("Deployment", "hello")

    assert deployment["spec"]["selector"] == {"matchLabels": {"app": "hello-api"}}
    assert deployment["spec"]["template"]["metadata"]["labels"] == {"app": "hello-api"}
    assert rendered.object("Service", "hello")["spec"]["selector"] == {"app": "hello-api"}


def test_the_rollout_timeout_bounds_the_wait_for_the_deployment(render, mocks):
    render(lambda: deploy(hello=HelloAppArgs(rollout_timeout_seconds=90)))

    timeouts = mocks.requests[DEPLOYMENT_TYPE, "hello"].customTimeouts
    assert (timeouts.create, timeouts.update) == ("90s", "90s")


def test_the_deployment_and_the_service_wait_for_their_namespace(render, mocks):
    render(lambda: deploy(hello=HelloAppArgs()))

    for child_type in (DEPLOYMENT_TYPE, SERVICE_TYPE):
        dependencies = mocks.requests[child_type, "hello"].dependencies
        assert [urn for urn in dependencies if urn.endswith(f"{NAMESPACE_TYPE}::hello")], child_type


def test_without_a_node_port_the_service_is_cluster_ip(render):
    rendered = render(lambda: deploy(hello=HelloAppArgs(node_port=None)))

    assert rendered.object("Service", "hello")["spec"] == {
        "type": "ClusterIP",
        "selector": {"app": "hello-api"},
        "ports": [{"name": "http", "port": 80, "targetPort": 8080}],
    }
    assert rendered.result["hello"]["url"] == "http://hello-svc.demo.svc.cluster.local/"


def test_two_instances_coexist_in_one_stack(render):
    other = HelloAppArgs(
        namespace="demo-b", deployment_name="hello-b", service_name="svc-b", node_port=30081
    )
    rendered = render(lambda: deploy(a=HelloAppArgs(), b=other))

    registrations = [(r.typ, r.name) for r in rendered.resources]
    assert len(registrations) == 10
    assert len(set(registrations)) == 10, "two resources would share a URN"
    expected = {
        "a": ("demo", "hello-api", "hello-svc", 30080),
        "b": ("demo-b", "hello-b", "svc-b", 30081),
    }
    for name, (namespace, deployment_name, service_name, node_port) in expected.items():
        assert rendered.object("Namespace", name)["metadata"]["name"] == namespace
        deployment = rendered.object("Deployment", name)
        assert deployment["metadata"] == {
            "name": deployment_name,
            "namespace": namespace,
            "annotations": {"pulumi.com/patchForce": "true"},
        }
        service = rendered.object("Service", name)
        assert service["metadata"] == {
            "name": service_name,
            "namespace": namespace,
            "annotations": {"pulumi.com/skipAwait": "true"},
        }
        assert service["spec"]["selector"] == {"app": deployment_name}
        assert service["spec"]["ports"][0]["nodePort"] == node_port
        assert rendered.result[name]["url"] == f"http://127.0.0.1:{node_port}/"


def test_the_cluster_enforces_the_restricted_pod_security_profile_in_the_namespace(render):
    namespace = render(lambda: deploy(hello=HelloAppArgs())).object("Namespace", "hello")

    assert namespace["metadata"]["labels"] == {
        f"pod-security.kubernetes.io/{mode}{suffix}": value
        for mode in ("enforce", "audit", "warn")
        for suffix, value in (("", "restricted"), ("-version", "v1.30"))
    }


def test_the_pods_run_as_their_own_service_account_without_an_api_token(render):
    rendered = render(lambda: deploy(hello=HelloAppArgs()))

    account = rendered.object("ServiceAccount", "hello")
    assert account["metadata"] == {"name": "hello-api", "namespace": "demo"}
    assert account["automountServiceAccountToken"] is False
    pod = pod_spec(rendered.object("Deployment", "hello"))
    assert pod["serviceAccountName"] == "hello-api"
    assert pod["automountServiceAccountToken"] is False
