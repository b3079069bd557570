"""Fixtures of the stations tests: the project's test data and small hand-made stations.

Tests take what they need as fixtures (``data_dir``, ``station_factory``...); nothing imports
this module, so it cannot clash with another conftest.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from stations.jurisdictions import Jurisdiction
from stations.registry import (
    Boundary,
    HydrologyLimits,
    Registry,
    Sensor,
    Station,
    StationKind,
    load_registry,
)
from stations.standard.gb3838 import WaterBody

DATA = Path(__file__).resolve().parents[2] / "data"
CNEMC_DIR = DATA / "cnemc-2021-04" / "江苏省"
SECTIONS_CSV = DATA / "taihu_sections.csv"


@pytest.fixture(scope="session")
def shipped_registry() -> Registry:
    return load_registry()


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def cnemc_dir() -> Path:
    return CNEMC_DIR


@pytest.fixture(scope="session")
def sections_csv() -> Path:
    return SECTIONS_CSV


@pytest.fixture
def station_factory() -> Callable[..., Station]:
    def factory(**kwargs: Any) -> Station:
        return _make_station(**kwargs)

    return factory


def _make_station(
    *,
    station_id: str = "JS-TH-900",
    name: str = "测试断面",
    jurisdiction: Jurisdiction = Jurisdiction.JS,
    water_body: WaterBody = WaterBody.RIVER,
    kind: StationKind = StationKind.WATER_QUALITY,
    target_class: int | None = 3,
    boundary: Boundary | None = None,
    hydrology: HydrologyLimits | None = None,
    parameters: tuple[str, ...] = ("ph", "do", "codmn", "nh3n", "tp", "tn"),
) -> Station:
    units = {"ph": "dimensionless", "level": "m", "flow": "m3/s"}
    return Station(
        id=station_id,
        name=name,
        jurisdiction=jurisdiction,
        basin="太湖流域",
        water_body=water_body,
        kind=kind,
        interval_minutes=240,
        sensors=tuple(Sensor(p, units.get(p, "mg/L"), (0.0, 100.0)) for p in parameters),
        target_class=target_class,
        boundary=boundary,
        hydrology=hydrology,
    )
