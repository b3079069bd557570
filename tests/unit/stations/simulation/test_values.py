"""Simulated values against the real published data: ranges, daily cycles, levels, decimals
and units."""

from __future__ import annotations

import itertools
import statistics
from collections import defaultdict
from pathlib import Path

import pytest

from stations.formats import hj212
from stations.formats.cnemc import read_cnemc
from stations.formats.hj212 import BEIJING
from stations.registry import Registry, load_registry
from stations.simulation.faults import FaultRates
from stations.simulation.model import simulate
from tests.unit.stations.simulation.reading import (
    START,
    Decoded,
    decode,
)

# --- plausibility against the real published data ----------------------------------------------


def real_values(cnemc_dir: Path, registry: Registry) -> dict[tuple[str, str], list[float]]:
    values: dict[tuple[str, str], list[float]] = defaultdict(list)
    for path in sorted(cnemc_dir.glob("*.csv")):
        for row in read_cnemc(path, year=2021):
            body = registry.by_name(row.section).water_body.value
            for key, value in row.values.items():
                values[(body, key)].append(value)
    return values


@pytest.mark.parametrize("key", ["tp", "tn", "nh3n", "codmn", "do", "ph", "temp", "cond"])
@pytest.mark.parametrize("body", ["lake", "river"])
def test_simulated_medians_lie_within_the_real_range(
    decoded: list[Decoded], registry: Registry, cnemc_dir: Path, key: str, body: str
) -> None:
    real = real_values(cnemc_dir, registry)[(body, key)]
    simulated = [
        d.values[key]
        for d in decoded
        if d.emission.kind == "normal"
        and key in d.values
        and registry.get(d.station).water_body.value == body
    ]
    assert len(simulated) > 100
    low, high = sorted(real)[len(real) // 20], sorted(real)[-len(real) // 20]
    assert low <= statistics.median(simulated) <= high


def test_water_temperature_peaks_in_the_afternoon_as_in_the_real_data(
    decoded: list[Decoded], registry: Registry, cnemc_dir: Path
) -> None:
    def afternoon_minus_night(pairs: list[tuple[int, float]]) -> float:
        at = defaultdict(list)
        for hour, value in pairs:
            at[hour].append(value)
        return statistics.mean(at[16]) - statistics.mean(at[4])

    real = [
        (row.observed_at.hour, row.values["temp"])
        for path in sorted(cnemc_dir.glob("*.csv"))
        for row in read_cnemc(path, year=2021)
        if row.observed_at is not None and "temp" in row.values
    ]
    simulated = [
        (d.observed_at.astimezone(BEIJING).hour, d.values["temp"])
        for d in decoded
        if d.emission.kind == "normal" and "temp" in d.values
    ]
    assert afternoon_minus_night(real) > 0.3
    assert afternoon_minus_night(simulated) > 0.3


def test_taihu_levels_wander_slowly_between_3_2_and_3_6_metres(
    decoded: list[Decoded], registry: Registry
) -> None:
    levels = [
        (d.observed_at, d.values["level"])
        for d in decoded
        if d.emission.kind == "normal" and d.station == "TBA-HY-001"
    ]
    assert len(levels) > 200
    values = [v for _, v in sorted(levels)]
    assert 3.2 <= statistics.median(values) <= 3.6
    assert all(3.0 < v < 3.8 for v in values)
    steps = [abs(b - a) for a, b in itertools.pairwise(values)]
    assert statistics.median(steps) <= 0.02  # centimetres per hour, not decimetres


def test_values_carry_the_published_decimals(decoded: list[Decoded]) -> None:
    # As printed by the national publishing system (e.g. 西山: 17.6, 7.48, 9.32, 440.2, 0.048).
    decimals = {"temp": 1, "ph": 2, "do": 2, "cond": 1, "codmn": 2, "nh3n": 3, "tp": 3, "tn": 2}
    for d in decoded:
        if d.emission.value.startswith(b"##"):
            continue
        for key, places in decimals.items():
            if key in d.values:
                assert round(d.values[key], places) == d.values[key], (key, d.values[key])


OTHER_UNITS = """
version: 1
stations:
  - id: JS-TH-001
    name: 西山
    jurisdiction: JS
    basin: 太湖流域
    water_body: lake
    kind: water_quality
    target_class: 4
    parameters:
      tp: {unit: μg/L, range: [0, 10000]}
      chla: {unit: μg/L, range: [0, 500]}
    hj212: {mn: "320000TH0001", password_ref: hj212/JS-TH-001}
  - id: TBA-HY-001
    name: 测试水位
    jurisdiction: TBA
    basin: 太湖流域
    water_body: lake
    kind: hydrology
    interval_minutes: 60
    parameters:
      level: {unit: cm, range: [-500, 2000]}
      flow: {unit: m3/s, range: [-2000, 2000]}
    hydrology: {flow_min: 10, flow_max: 90}
"""


def test_values_are_in_each_stations_own_unit_and_hj212_sends_canonical_ones() -> None:
    registry = load_registry(text=OTHER_UNITS)
    faults = FaultRates(hj212=0.5)
    emissions = list(simulate(registry, count=400, seed=4, faults=faults, start=START))
    tp_ug: list[float] = []
    chla_ug: list[float] = []
    tp_packet: list[float] = []
    levels: list[float] = []
    flows: list[float] = []
    for e in emissions:
        if e.kind == "hj212":
            packet = hj212.parse(e.value)
            tp_packet.append(float(packet.items["w21011"]["Rtd"]))
            continue
        d = decode(e, 0, registry)
        if "tp" in d.values:
            assert d.units == {"tp": "μg/L", "chla": "μg/L"}
            tp_ug.append(d.values["tp"])
            chla_ug.append(d.values["chla"])
        else:
            assert d.units == {"level": "cm", "flow": "m3/s"}
            levels.append(d.values["level"])
            flows.append(d.values["flow"])
    assert 20 <= statistics.median(tp_ug) <= 200  # 西山 TP is about 0.05-0.08 mg/L
    assert 0.02 <= statistics.median(tp_packet) <= 0.2  # mg/L in packets
    assert 320 <= statistics.median(levels) <= 360 and all(v == round(v) for v in levels)
    assert 20 <= statistics.median(flows) <= 100
    assert 1 <= statistics.median(chla_ug) <= 40 and all(v == round(v) for v in chla_ug)
