"""Suite-wide: what the user deployed is recorded before the first test that touches the cluster
and checked after the last one (tests/e2e/test_users_demo_untouched.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.users_demo import UsersDemo, load, snapshot

USERS_DEMO_BEFORE = "DEMO_ORQ_USERS_DEMO_BEFORE"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "after_all: runs after every other test of the session (checks what they left)"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: item.get_closest_marker("after_all") is not None)


@pytest.fixture(scope="session")
def users_demo_before() -> UsersDemo:
    """The user's demo (stack dev, namespace demo) as it was before the suite changed anything:
    recorded by scripts/test.sh before its pytest processes started, else now."""
    recorded = os.environ.get(USERS_DEMO_BEFORE)
    return load(Path(recorded)) if recorded else snapshot()


@pytest.fixture(autouse=True)
def _record_users_demo_before_the_cluster_is_touched(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("cluster") or request.node.get_closest_marker("e2e"):
        request.getfixturevalue("users_demo_before")
