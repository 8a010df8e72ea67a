import pytest

from tests.cluster.helpers import require_cluster


@pytest.fixture(scope="session")
def cluster_node() -> dict:
    """Fails (never skips) every cluster test when the cluster is not reachable."""
    return require_cluster()
