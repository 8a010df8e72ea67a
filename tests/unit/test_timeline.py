"""The timeline of a probe window or a rollout (demo_orq.timeline): pods by version, answers per
second, the picture."""

from __future__ import annotations

from pathlib import Path

import matplotlib.image
import numpy
import pytest

from components.traffic import Answer
from demo_orq.timeline import (
    PodSample,
    bucket,
    draw,
    pod_version,
    ready_by_version,
    versions_in_order,
)
from tests.unit.reports import pod, synthetic_timeline


def test_a_version_is_the_text_and_a_foreign_image():
    assert pod_version(pod("a", text="v2")) == "v2"
    assert pod_version(pod("a", text="v2", image="registry.k8s.io/pause:3.9")) == (
        "v2 [registry.k8s.io/pause:3.9]"
    )
    pods = [pod("a", "v1"), pod("b", "v1"), pod("c", "v2"), pod("d", "v2", ready=False)]
    assert ready_by_version(pods) == {"v1": 2, "v2": 1}


def test_the_timeline_buckets_answers_and_pod_listings_per_second():
    load = [Answer(0.1, 0.010, "a"), Answer(0.5, 0.020, None, "refused"), Answer(1.2, 0.005, "a")]
    samples = [PodSample(0.4, {"v1": 3}), PodSample(1.6, {"v1": 2, "v2": 1})]
    seconds = bucket(load, samples, start=0.0, end=3.5)  # the last half second is left out
    assert [(s.t, s.requests, s.errors) for s in seconds] == [(0, 2, 1), (1, 1, 0), (2, 0, 0)]
    assert seconds[0].p99_ms == pytest.approx(10.0)
    assert seconds[2].p99_ms is None
    assert [s.ready for s in seconds] == [{"v1": 3}, {"v1": 2, "v2": 1}, {"v1": 2, "v2": 1}]
    assert versions_in_order(seconds) == ["v1", "v2"]


def test_the_picture_decodes_and_is_not_blank(tmp_path: Path):
    path = draw(synthetic_timeline(), tmp_path / "t.png", slo_p99_ms=100)
    pixels = matplotlib.image.imread(path)
    assert pixels.shape[0] > 500 and pixels.shape[1] > 800
    assert numpy.std(pixels[..., :3]) > 0.05
    assert len(numpy.unique(pixels.reshape(-1, pixels.shape[-1]), axis=0)) > 20
