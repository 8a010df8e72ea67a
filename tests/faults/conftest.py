"""The fault tests touch the cluster: the user's demo is recorded before the first of them (and
checked after the last test of the session, tests/e2e/test_users_demo_untouched.py), and each
module fails, never skips, when the cluster or the Pulumi CLI is missing."""

from __future__ import annotations

import pytest

from demo_orq.kube import Object
from tests.cluster.helpers import require_cluster
from tests.sandbox import require_pulumi_cli


@pytest.fixture(scope="session")
def cluster_node() -> Object:
    require_pulumi_cli()
    return require_cluster()


@pytest.fixture(autouse=True)
def _record_users_demo_first(request: pytest.FixtureRequest) -> None:
    if request.node.get_closest_marker("faults"):
        request.getfixturevalue("users_demo_before")
        request.getfixturevalue("cluster_node")
