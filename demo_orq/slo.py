"""The service level objectives that `python -m demo_orq report` marks each figure against."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Slo:
    """The objectives of a stack (`sloAvailabilityPercent`, `sloP99Ms`)."""

    availability_percent: float = 99.9
    """Share of requests answered with a 200, over a probe window."""
    p99_ms: int = 500
    """Latency that 99% of the requests stay under."""
