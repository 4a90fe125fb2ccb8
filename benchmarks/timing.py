"""Timing helpers shared by the benchmarks: median and p95 of repeated runs, in ms."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def stats(samples: list[float]) -> dict[str, float]:
    """Median and 95th percentile (nearest rank) of samples in seconds, as milliseconds."""
    ordered = sorted(samples)
    return {"median_ms": round(statistics.median(ordered) * 1000, 2),
            "p95_ms": round(ordered[max(0, int(len(ordered) * 0.95) - 1)] * 1000, 2)}


def timed(work: Callable[[], object], runs: int = 20) -> dict[str, float]:
    """Run `work` `runs` times and summarise its wall time."""
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        samples.append(time.perf_counter() - start)
    return stats(samples)
