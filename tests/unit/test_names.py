"""The names of the objects each strategy adds come from one place."""

from components.names import (
    DEPLOYMENT_SUFFIXES,
    NAME_LENGTH,
    SERVICE_SUFFIXES,
    role_deployment_name,
    role_service_name,
)
from components.values import DEPLOYMENT_NAME, SERVICE_NAME


def test_each_role_adds_its_suffix_and_the_app_none():
    assert role_deployment_name("hello-api", "app") == "hello-api"
    assert role_deployment_name("hello-api", "blue") == "hello-api-blue"
    assert role_deployment_name("hello-api", "canary") == "hello-api-canary"
    assert role_service_name("hello-svc", "app") == "hello-svc"
    assert role_service_name("hello-svc", "preview") == "hello-svc-preview"
    assert DEPLOYMENT_SUFFIXES == ("-blue", "-green", "-canary", "-frontend")
    assert role_service_name("hello-svc", "green") == "hello-svc-green"
    assert SERVICE_SUFFIXES == (
        "-preview", "-canary", "-stable", "-blue", "-green", "-tls", "-http", "-alerts", "-frontend"
    )  # fmt: skip


def test_the_apps_names_leave_room_for_the_longest_suffix():
    assert NAME_LENGTH == 54  # 63, less -frontend
    assert DEPLOYMENT_NAME.accepts("a" * NAME_LENGTH)
    assert not DEPLOYMENT_NAME.accepts("a" * (NAME_LENGTH + 1))
    assert SERVICE_NAME.accepts("s" * NAME_LENGTH)
    assert not SERVICE_NAME.accepts("s" * (NAME_LENGTH + 1))
