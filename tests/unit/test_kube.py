"""What demo_orq.kube reads from Kubernetes objects without a cluster: resource quantities."""

from __future__ import annotations

import pytest

from demo_orq.kube import quantity


@pytest.mark.parametrize(
    "text, expected",
    [("250m", 0.25), ("1", 1.0), ("1234567n", 0.001234567), ("64Mi", 64 * 2**20),
     ("12288Ki", 12 * 2**20), ("1e3", 1000.0), ("1G", 1e9)],
)  # fmt: skip
def test_kubernetes_quantities_in_base_units(text, expected):
    assert quantity(text) == pytest.approx(expected)


def test_a_bad_quantity_is_refused():
    with pytest.raises(ValueError, match="not a Kubernetes quantity: '12Qi'"):
        quantity("12Qi")
