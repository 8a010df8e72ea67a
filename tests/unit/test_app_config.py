"""The app's configuration (a ConfigMap named by its content, a Secret), the smoke-test Jobs and
the daily CronJob render as they must, in the right order, under Pulumi mocks; bad values are
refused in one line each."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components import BlueGreen, Canary, HelloApp, HelloAppArgs, InvalidArgsError
from components.app_config import config_map_name
from components.names import HASH_LENGTH, SMOKE_SUFFIX, VERSION_LABEL, fitted
from components.shared_args import EtlArgs
from demo_orq.config import StackConfigError, load
from tests.unit.manifests import dependencies
from tests.unit.test_secret_message import in_plain_sight

PROD = {"APP_MODE": "prod", "LOG_LEVEL": "info"}
TOKEN = "tok-5f1e9c-never-shown"


@pytest.fixture
def render_app(render):
    def _render(args: HelloAppArgs):
        return render(lambda: {"url": (app := HelloApp("hello", args)).url, **app.strategy_outputs})

    return _render


def container(deployment: dict[str, Any]) -> dict[str, Any]:
    return deployment["spec"]["template"]["spec"]["containers"][0]


def test_plain_settings_are_a_configmap_named_by_their_content_and_shown_in_the_answer(
    render_app,
):
    rendered = render_app(HelloAppArgs(app_config=PROD))

    (config_map,) = rendered.objects("ConfigMap")
    assert config_map["data"] == PROD
    assert config_map["immutable"] is True
    assert config_map["metadata"]["name"] == config_map_name("hello-api", "app", PROD)
    app = container(rendered.object("Deployment", "hello"))
    assert app["envFrom"] == [{"configMapRef": {"name": config_map["metadata"]["name"]}}]
    assert (
        app["args"][0]
        == "-text=Hola desde Kubernetes 👋 (APP_MODE=$(APP_MODE), LOG_LEVEL=$(LOG_LEVEL))"
    )


def test_the_same_values_name_the_same_configmap_and_new_ones_another():
    again = config_map_name("hello-api", "app", dict(reversed(list(PROD.items()))))
    debug = config_map_name("hello-api", "app", {**PROD, "APP_MODE": "debug"})

    assert again == config_map_name("hello-api", "app", PROD)
    assert debug != again
    assert config_map_name("hello-api", "canary", PROD).startswith("hello-api-canary-config-")


def test_without_settings_the_pods_are_the_demos(render_app):
    rendered = render_app(HelloAppArgs())

    assert rendered.objects("ConfigMap") == []
    assert "envFrom" not in container(rendered.object("Deployment", "hello"))
    assert container(rendered.object("Deployment", "hello"))["args"][0] == (
        "-text=Hola desde Kubernetes 👋"
    )


def test_a_dollar_parenthesis_in_the_message_is_not_expanded(render_app):
    rendered = render_app(HelloAppArgs(message="costs $(HOME)"))

    assert container(rendered.object("Deployment", "hello"))["args"][0] == "-text=costs $$(HOME)"


def test_secret_settings_are_a_secret_that_only_the_pods_environment_names(render_app):
    rendered = render_app(HelloAppArgs(app_secrets={"API_TOKEN": TOKEN}))

    (secret,) = rendered.objects("Secret")
    assert secret["immutable"] is True
    app = container(rendered.object("Deployment", "hello"))
    # Pulumi names it (a random suffix); the mocks leave the name out.
    assert [list(source) for source in app["envFrom"]] == [["secretRef"]]
    assert "name" not in secret["metadata"]
    assert TOKEN not in in_plain_sight([r.inputs for r in rendered.resources])
    assert TOKEN not in app["args"][0]


def test_each_color_runs_its_own_settings_and_the_gate_tells_them_apart(render_app):
    args = HelloAppArgs(app_config=PROD, strategy=BlueGreen(green_config={"APP_MODE": "debug"}))
    rendered = render_app(args)

    blue, green = (
        container(rendered.object("Deployment", f"hello-{c}")) for c in ("blue", "green")
    )
    assert blue["envFrom"][0]["configMapRef"]["name"] == config_map_name("hello-api", "blue", PROD)
    assert green["envFrom"][0]["configMapRef"]["name"] == config_map_name(
        "hello-api", "green", {"APP_MODE": "debug"}
    )
    (gate,) = [r.inputs for r in rendered.resources if r.name == "hello-gate"]
    assert gate["versions"]["blue"] != gate["versions"]["green"]


def test_the_canary_runs_its_own_settings(render_app):
    args = HelloAppArgs(
        replicas=4, app_config=PROD, strategy=Canary(weight=25, config={"APP_MODE": "canary"})
    )
    rendered = render_app(args)

    canary = container(rendered.object("Deployment", "hello-canary"))
    stable = container(rendered.object("Deployment", "hello"))
    assert "APP_MODE=$(APP_MODE)" in canary["args"][0]
    assert canary["envFrom"] != stable["envFrom"]


def smoke_jobs(rendered) -> dict[str, dict[str, Any]]:
    return {r.name: r.inputs for r in rendered.kubernetes_objects() if r.inputs["kind"] == "Job"}


def smoke_service_selects_this_version_alone(
    rendered: Any, job: dict[str, Any], deployment: dict[str, Any]
) -> None:
    """The Job requests a Service of its own name, whose selector is the Deployment's plus the
    version label of its pod template (no other version's pods, even through stale rules)."""
    name = job["metadata"]["name"]
    smoke = job["spec"]["template"]["spec"]["containers"][0]
    assert smoke["args"][1] == f"-url=http://{name}.demo.svc:80/"
    (service,) = [s for s in rendered.objects("Service") if s["metadata"]["name"] == name]
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert len(pod_labels[VERSION_LABEL]) == HASH_LENGTH
    assert name.endswith(SMOKE_SUFFIX + pod_labels[VERSION_LABEL])
    expected = {
        **deployment["spec"]["selector"]["matchLabels"],
        VERSION_LABEL: pod_labels[VERSION_LABEL],
    }
    assert service["spec"]["selector"] == expected


def test_rolling_update_smoke_tests_its_version_once_it_has_rolled_out(render_app, mocks):
    rendered = render_app(HelloAppArgs(smoke_test=True, app_config=PROD))

    (job,) = smoke_jobs(rendered).values()
    smoke = job["spec"]["template"]["spec"]["containers"][0]
    deployment = rendered.object("Deployment", "hello")
    app = container(deployment)
    assert smoke["args"][2] == f"-expect={app['args'][0].removeprefix('-text=')}"
    assert smoke["envFrom"] == app["envFrom"]  # the same text, expanded the same way
    assert smoke["terminationMessagePolicy"] == "FallbackToLogsOnError"
    assert job["spec"]["backoffLimit"] == 0
    assert job["metadata"]["name"].startswith("hello-api-smoke-")
    smoke_service_selects_this_version_alone(rendered, job, deployment)
    assert {"Service/hello-smoke", "Deployment/hello"} <= dependencies(mocks, "Job", "hello-smoke")


def test_blue_green_smoke_tests_each_color_before_the_services_may_switch(render_app, mocks):
    rendered = render_app(HelloAppArgs(smoke_test=True, strategy=BlueGreen()))

    jobs = smoke_jobs(rendered)
    assert set(jobs) == {"hello-blue-smoke", "hello-green-smoke"}
    for color in ("blue", "green"):
        deployment = rendered.object("Deployment", f"hello-{color}")
        smoke_service_selects_this_version_alone(rendered, jobs[f"hello-{color}-smoke"], deployment)
        waits_for = dependencies(mocks, "Job", f"hello-{color}-smoke")
        assert {f"Deployment/hello-{color}", f"Service/hello-{color}-smoke"} <= waits_for
    for service in ("hello", "hello-preview"):
        assert {"Job/hello-blue-smoke", "Job/hello-green-smoke"} <= dependencies(
            mocks, "Service", service
        )


def test_a_canary_step_is_smoke_tested_before_the_stable_pods_shrink(render_app, mocks):
    rendered = render_app(HelloAppArgs(smoke_test=True, replicas=4, strategy=Canary(weight=50)))

    job = smoke_jobs(rendered)["hello-canary-smoke"]
    smoke_service_selects_this_version_alone(
        rendered, job, rendered.object("Deployment", "hello-canary")
    )
    assert "Job/hello-canary-smoke" in dependencies(mocks, "Deployment", "hello")
    assert "Job/hello-canary-smoke" in dependencies(mocks, "AnalysisGate", "hello-gate")
    assert {"Deployment/hello-canary", "Service/hello-canary-smoke"} <= dependencies(
        mocks, "Job", "hello-canary-smoke"
    )


def test_a_canary_with_no_canary_pods_smoke_tests_the_apps_service(render_app):
    rendered = render_app(HelloAppArgs(smoke_test=True, strategy=Canary(weight=0)))

    assert set(smoke_jobs(rendered)) == {"hello-smoke"}


def test_a_new_version_is_a_new_smoke_job_and_the_same_one_the_same(render_app):
    first = smoke_jobs(render_app(HelloAppArgs(smoke_test=True)))["hello-smoke"]
    same = smoke_jobs(render_app(HelloAppArgs(smoke_test=True)))["hello-smoke"]
    other = smoke_jobs(render_app(HelloAppArgs(smoke_test=True, message="v2")))["hello-smoke"]

    assert first["metadata"]["name"] == same["metadata"]["name"]
    assert first["metadata"]["name"] != other["metadata"]["name"]


def test_no_smoke_test_by_default(render_app):
    assert smoke_jobs(render_app(HelloAppArgs())) == {}


def test_the_daily_figures_are_a_cronjob_writing_to_its_own_claim(render_app):
    rendered = render_app(HelloAppArgs(etl=EtlArgs(enabled=True, time_zone="Europe/Madrid")))

    (cron,) = rendered.objects("CronJob")
    (claim,) = rendered.objects("PersistentVolumeClaim")
    spec = cron["spec"]
    assert cron["metadata"]["name"] == "hello-api-etl"
    assert (spec["schedule"], spec["timeZone"]) == ("0 3 * * *", "Europe/Madrid")
    assert spec["concurrencyPolicy"] == "Forbid"
    assert spec["successfulJobsHistoryLimit"] == 3
    pod = spec["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["volumes"][0]["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["containers"][0]["securityContext"]["readOnlyRootFilesystem"] is True
    assert pod["containers"][0]["volumeMounts"] == [{"name": "data", "mountPath": "/data"}]
    assert claim["spec"]["resources"]["requests"]["storage"] == "64Mi"


def test_long_names_are_cut_to_what_kubernetes_takes_keeping_what_tells_them_apart():
    assert fitted("a" * 60, "-etl", 52) == "a" * 48 + "-etl"
    assert fitted("abc-" + "d" * 60, "-smoke-0123456789", 63).endswith("-smoke-0123456789")
    assert not fitted("ab-cd", "-x", 5).startswith("ab--")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"app_config": {"1BAD": "x"}}, "app_config"),
        ({"app_config": {"APP-MODE": "x"}}, "app_config"),
        ({"app_config": {"APP_MESSAGE": "x"}}, "app_config"),
        ({"app_secrets": {"TOKEN": 5}}, "app_secrets"),
        ({"jobs_image": "Not An Image"}, "jobs_image"),
    ],
)
def test_bad_values_are_refused(fields, field):
    with pytest.raises(InvalidArgsError) as raised:
        HelloAppArgs(**fields)
    assert raised.value.field == field


@pytest.mark.parametrize(
    ("schedule", "accepted"),
    [("0 3 * * *", True), ("@daily", True), ("*/15 9-17 * * MON-FRI", True),
     ("0 24 * * *", False), ("0 3 * *", False), ("0 3 * * * *", False), ("at three", False)],
)  # fmt: skip
def test_a_schedule_is_cron_or_refused(schedule, accepted):
    if accepted:
        assert EtlArgs(schedule=schedule).schedule == schedule
    else:
        with pytest.raises(InvalidArgsError) as raised:
            EtlArgs(schedule=schedule)
        assert raised.value.field == "schedule"


CONTEXT = {"context": "demo-orq"}


def test_a_stack_with_three_bad_values_of_these_keys_prints_three_lines():
    values = {
        **CONTEXT,
        "appConfig": json.dumps({"1BAD": "x"}),
        "etlSchedule": "at three",
        "etlTimeZone": "Mars/Olympus",
    }
    with pytest.raises(StackConfigError) as raised:
        load(values)

    lines = str(raised.value).splitlines()
    assert [line.split(":")[1] for line in lines] == ["appConfig", "etlSchedule", "etlTimeZone"]
    assert all(line.startswith("invalid stack config demo-orq:") for line in lines)


def test_secret_settings_must_be_set_as_secrets_and_are_never_shown():
    with pytest.raises(StackConfigError) as raised:
        load({**CONTEXT, "appSecrets": json.dumps({"API_TOKEN": TOKEN})})

    assert "appSecrets" in str(raised.value)
    assert "--secret" in str(raised.value)
    assert TOKEN not in str(raised.value)
    config = load(
        {**CONTEXT, "appSecrets": json.dumps({"API_TOKEN": TOKEN})}, secret_keys={"appSecrets"}
    )
    assert config.app.app_secrets == {"API_TOKEN": TOKEN}


def test_settings_set_with_path_read_as_texts():
    config = load({**CONTEXT, "appConfig": json.dumps({"APP_MODE": "prod", "PORT": 8080})})

    assert config.app.app_config == {"APP_MODE": "prod", "PORT": "8080"}
