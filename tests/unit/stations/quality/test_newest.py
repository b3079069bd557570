"""The newest-value checks give exactly the array checks' flags at the last positions."""

from __future__ import annotations

import numpy as np
import pytest

from stations.quality.checks import QCFlag
from stations.quality.limits import CHECKS, load_qc_limits
from stations.quality.newest import NEWEST
from stations.registry import load_registry


def random_series(rng: np.random.Generator, size: int) -> tuple[list[float], list[float]]:
    """Values with missing points, flat runs, spikes and repeated times."""
    values = rng.normal(5.0, 2.0, size).round(rng.integers(0, 3))
    kinds = rng.random(size)
    values[kinds < 0.15] = np.nan
    if size > 4 and rng.random() < 0.5:  # a stuck sensor
        start = int(rng.integers(0, size - 3))
        values[start:] = values[start] if not np.isnan(values[start]) else 1.0
    values[(kinds > 0.9) & ~np.isnan(values)] *= 10  # spikes
    steps = rng.choice([0.0, 600.0, 3600.0, 14400.0], size, p=[0.05, 0.15, 0.4, 0.4])
    seconds = 1.6e9 + np.cumsum(steps)
    return [float(v) for v in values], [float(t) for t in seconds]


def test_every_array_check_has_a_newest_twin() -> None:
    assert set(NEWEST) == set(CHECKS)


@pytest.mark.parametrize("seed", range(40))
def test_newest_flags_equal_the_array_checks_at_the_last_positions(seed: int) -> None:
    rng = np.random.default_rng(seed)
    registry = load_registry()
    limits = load_qc_limits(registry=registry)
    station = registry.get("JS-TH-028")
    configs = [c for p in station.parameters for c in limits.checks_for(station, p)]
    compared = 0
    for size in (1, 2, 3, 5, 12, 42):
        values, seconds = random_series(rng, size)
        for config in configs:
            flags = config.run(np.array(values), np.array(seconds))
            last, before = config.run_newest(values, seconds)
            assert last == QCFlag(int(flags[-1])), (config.describe(), values, seconds)
            if config.name == "spike_test" and size >= 2:
                assert before == QCFlag(int(flags[-2])), (config.describe(), values)
            compared += 1
    assert compared == 6 * len(configs)
    assert {c.name for c in configs} == set(CHECKS), "the station runs every kind of check"
