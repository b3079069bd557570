"""The seeded simulation run the simulator's tests share (one per package run)."""

from __future__ import annotations

import pytest

from stations.registry import Registry, load_registry
from stations.simulation.model import Emission, simulate
from tests.unit.stations.simulation.reading import COUNT, FAULTS, SEED, START, Decoded, decode


@pytest.fixture(scope="package")
def registry() -> Registry:
    return load_registry()


@pytest.fixture(scope="package")
def run(registry: Registry) -> tuple[list[Emission], dict[str, object]]:
    simulation = simulate(registry, count=COUNT, seed=SEED, faults=FAULTS, start=START)
    emissions = list(simulation)
    return emissions, simulation.summary.as_dict()


@pytest.fixture(scope="package")
def emissions(run: tuple[list[Emission], dict[str, object]]) -> list[Emission]:
    return run[0]


@pytest.fixture(scope="package")
def decoded(emissions: list[Emission], registry: Registry) -> list[Decoded]:
    """Every message that decodes as a report or a packet of a registered logger."""
    out = []
    for index, e in enumerate(emissions):
        if e.kind in ("malformed", "unknown_station"):
            continue
        out.append(decode(e, index, registry))
    return out
