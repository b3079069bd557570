"""The simulator: determinism, exact counts, fault rates, and every expectation it claims checked
with the real decoders (stations.formats.report.from_json, stations.formats.hj212.parse) and the
real data."""

from __future__ import annotations

import itertools
import json
import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from stations import parameters
from stations.errors import SimulationError, UnitError
from stations.formats import hj212
from stations.formats.cnemc import read_cnemc
from stations.formats.hj212 import BEIJING, Hj212Error
from stations.formats.report import Report, ReportError, from_json
from stations.registry import Registry, load_registry
from stations.simulation.faults import DEFAULT_FAULTS, FaultRates
from stations.simulation.model import Emission, Simulator, floor_time, simulate
from stations.simulation.profile import DEFAULT_PROFILE, build_profile, load_profile

START = datetime(2021, 4, 1, 0, 0, tzinfo=BEIJING)
COUNT = 10_000
SEED = 11
FAULTS = FaultRates.parse(DEFAULT_FAULTS)
ASSESSED_JSON = ("normal", "spike", "stuck", "maintenance", "late")


@dataclass(frozen=True)
class Decoded:
    """One message read back: JSON report or HJ 212 packet, in the same shape."""

    emission: Emission
    index: int
    station: str
    observed_at: datetime
    values: dict[str, float]
    units: dict[str, str]
    flags: dict[str, str]


@pytest.fixture(scope="module")
def registry() -> Registry:
    return load_registry()


@pytest.fixture(scope="module")
def run(registry: Registry) -> tuple[list[Emission], dict[str, object]]:
    simulation = simulate(registry, count=COUNT, seed=SEED, faults=FAULTS, start=START)
    emissions = list(simulation)
    return emissions, simulation.summary.as_dict()


@pytest.fixture(scope="module")
def emissions(run: tuple[list[Emission], dict[str, object]]) -> list[Emission]:
    return run[0]


@pytest.fixture(scope="module")
def decoded(emissions: list[Emission], registry: Registry) -> list[Decoded]:
    """Every message that decodes as a report or a packet of a registered logger."""
    out = []
    for index, e in enumerate(emissions):
        if e.kind in ("malformed", "unknown_station"):
            continue
        out.append(decode(e, index, registry))
    return out


def decode(e: Emission, index: int, registry: Registry) -> Decoded:
    if e.value.startswith(b"##"):
        packet = hj212.parse(e.value)
        station = registry.by_mn(packet.mn)
        assert packet.data_time is not None
        keys = {code: parameters.by_hj212_code(code).key for code in packet.items}
        return Decoded(
            e,
            index,
            station.id,
            packet.data_time,
            {keys[c]: float(f["Rtd"]) for c, f in packet.items.items()},
            {keys[c]: parameters.get(keys[c]).unit for c in packet.items},
            {keys[c]: f["Flag"] for c, f in packet.items.items()},
        )
    report = from_json(e.value)
    return Decoded(
        e,
        index,
        report.station,
        report.observed_at,
        {k: r.value for k, r in report.readings.items() if r.value is not None},
        {k: r.unit for k, r in report.readings.items()},
        {k: r.flag for k, r in report.readings.items()},
    )


def of_kind(emissions: list[Emission], kind: str) -> Iterator[Emission]:
    return (e for e in emissions if e.kind == kind)


def beijing_minute(moment: datetime) -> int:
    local = moment.astimezone(BEIJING)
    return local.hour * 60 + local.minute


# --- determinism and counts ---------------------------------------------------------------------


def test_same_seed_gives_identical_bytes(registry: Registry) -> None:
    first = list(simulate(registry, count=800, seed=5, faults=FAULTS, start=START))
    second = list(simulate(registry, count=800, seed=5, faults=FAULTS, start=START))
    assert first == second


def test_different_seed_gives_different_messages(registry: Registry) -> None:
    first = list(simulate(registry, count=200, seed=5, faults=FAULTS, start=START))
    second = list(simulate(registry, count=200, seed=6, faults=FAULTS, start=START))
    assert sum(a.value != b.value for a, b in zip(first, second, strict=True)) > 150


@pytest.mark.parametrize("count", [1, 7, 1234])
def test_count_is_exact_and_the_summary_counts_what_was_yielded(
    registry: Registry, count: int
) -> None:
    simulation = simulate(registry, count=count, seed=3, faults=FAULTS, start=START)
    emissions = list(simulation)
    summary = simulation.summary.as_dict()
    assert len(emissions) == count == summary["sent"]
    assert summary["by_kind"] == dict(Counter(e.kind for e in emissions))
    rejected = Counter(e.expect.split(":")[1] for e in emissions if e.expect != "assessed")
    assert summary["expect"] == {
        "assessed": sum(e.expect == "assessed" for e in emissions),
        "rejected": dict(rejected),
    }


def test_summary_is_one_json_document_of_the_documented_shape(
    run: tuple[list[Emission], dict[str, object]],
) -> None:
    summary = json.loads(json.dumps(run[1]))
    assert set(summary) == {"sent", "by_kind", "expect", "dropped"}
    assert set(summary["expect"]["rejected"]) == {
        "undecodable",
        "unknown_station",
        "bad_unit",
        "future",
        "duplicate",
    }


# --- fault rates --------------------------------------------------------------------------------


@pytest.mark.parametrize("fault", [name for name, rate in FAULTS.items()])
def test_each_fault_appears_at_its_rate(
    run: tuple[list[Emission], dict[str, object]], fault: str
) -> None:
    emissions, summary = run
    kinds = Counter(e.kind for e in emissions)
    dropped = summary["dropped"]
    assert isinstance(dropped, int)
    slots = len(emissions) - kinds["duplicate"] + dropped  # a duplicate is an extra message
    seen = dropped if fault == "dropout" else kinds[fault]
    rate = getattr(FAULTS, fault)
    expected = rate * slots
    sigma = math.sqrt(slots * rate * (1 - rate))
    # stuck comes in runs of 3-6, so its count varies more than a binomial one
    spread = 3 * sigma * (2 if fault == "stuck" else 1)
    assert abs(seen - expected) <= spread, (fault, seen, expected)


def test_a_fault_a_station_cannot_have_goes_to_the_next_station_that_can(
    registry: Registry,
) -> None:
    # Hydrology gauges have no HJ 212 logger: 12% of the slots cannot be sent as packets.
    simulation = simulate(registry, count=5000, seed=9, faults=FaultRates(hj212=0.5), start=START)
    emissions = list(simulation)
    packets = sum(e.kind == "hj212" for e in emissions)
    assert abs(packets - 0.5 * len(emissions)) <= 3 * math.sqrt(len(emissions) * 0.25)
    assert all(not e.key or not e.key.startswith(b"TBA-HY") for e in emissions if e.kind == "hj212")


def test_without_faults_every_message_is_a_normal_json_report(registry: Registry) -> None:
    simulation = simulate(registry, count=500, seed=2, start=START)
    emissions = list(simulation)
    assert {e.kind for e in emissions} == {"normal"}
    assert simulation.summary.dropped == 0
    assert all(from_json(e.value).station in registry for e in emissions)


# --- each expectation checked with the real decoders --------------------------------------------


def test_assessed_json_reports_are_valid_known_and_use_accepted_units(
    emissions: list[Emission], registry: Registry
) -> None:
    checked = 0
    for e in emissions:
        if e.expect != "assessed" or e.value.startswith(b"##"):
            continue
        report = from_json(e.value)
        station = registry.get(report.station)
        assert e.key == report.station.encode()
        assert e.kind in ASSESSED_JSON
        for key, reading in report.readings.items():
            parameters.get(key).factor(reading.unit)  # raises for an unknown unit
            sensor = station.sensor(key)
            assert sensor is not None and reading.unit == sensor.unit
            assert reading.value is not None and reading.value >= 0
        assert report.observed_at.utcoffset() == timedelta(hours=8)
        assert beijing_minute(report.observed_at) % station.interval_minutes == 0
        delay = report.received_at - report.observed_at
        if e.kind == "late":
            assert delay > timedelta(minutes=station.interval_minutes)
        else:
            assert timedelta(0) < delay <= timedelta(minutes=10)
        flags = set(r.flag for r in report.readings.values())
        assert flags == ({"M"} if e.kind == "maintenance" else {"N"})
        checked += 1
    assert checked > COUNT * 0.8


def test_hj212_packets_parse_and_come_from_registered_loggers(
    emissions: list[Emission], registry: Registry
) -> None:
    packets = list(of_kind(emissions, "hj212"))
    assert packets
    for e in packets:
        packet = hj212.parse(e.value)
        station = registry.by_mn(packet.mn)
        assert e.key == station.id.encode() and e.expect == "assessed"
        assert (packet.st, packet.cn, packet.password) == ("21", "2011", "123456")
        assert packet.data_time is not None
        assert beijing_minute(packet.data_time) % station.interval_minutes == 0
        coded = {p for p in station.parameters if parameters.get(p).hj212_code}
        assert {parameters.by_hj212_code(c).key for c in packet.items} == coded
        for fields in packet.items.values():
            assert fields["Flag"] == "N" and float(fields["Rtd"]) >= 0


def test_undecodable_messages_fail_both_decoders(emissions: list[Emission]) -> None:
    malformed = list(of_kind(emissions, "malformed"))
    assert malformed
    packet_like = 0
    for e in malformed:
        assert e.expect == "rejected:undecodable"
        with pytest.raises(ReportError) as caught:
            from_json(e.value)
        assert caught.value.reason == "undecodable"
        with pytest.raises(Hj212Error):
            hj212.parse(e.value)
        packet_like += e.value.startswith(b"##")
    assert 0 < packet_like < len(malformed)  # broken packets and broken JSON or noise


def test_unknown_station_reports_parse_but_name_no_registered_station(
    emissions: list[Emission], registry: Registry
) -> None:
    unknown = list(of_kind(emissions, "unknown_station"))
    assert unknown
    for e in unknown:
        report = from_json(e.value)
        assert report.station not in registry
        assert e.key == report.station.encode()
        assert e.expect == "rejected:unknown_station"


def test_bad_unit_reports_have_exactly_one_unit_their_parameter_refuses(
    emissions: list[Emission], registry: Registry
) -> None:
    wrong = list(of_kind(emissions, "wrong_unit"))
    assert wrong
    for e in wrong:
        report = from_json(e.value)
        assert report.station in registry and e.expect == "rejected:bad_unit"
        refused = []
        for key, reading in report.readings.items():
            try:
                parameters.get(key).factor(reading.unit)
            except UnitError:
                refused.append(key)
        assert len(refused) == 1


def test_a_duplicate_repeats_an_earlier_assessed_report(decoded: list[Decoded]) -> None:
    first_seen: dict[tuple[str, datetime], Decoded] = {}
    duplicates = 0
    for d in decoded:
        slot = (d.station, d.observed_at)
        if d.emission.kind == "duplicate":
            earlier = first_seen[slot]
            assert earlier.emission.expect == "assessed"
            assert earlier.emission.value == d.emission.value
            assert d.emission.expect == "rejected:duplicate"
            duplicates += 1
        else:
            assert slot not in first_seen, "only a duplicate may repeat a station and time"
            first_seen[slot] = d
    assert duplicates


def test_future_reports_are_observed_more_than_an_hour_after_reception(
    emissions: list[Emission], registry: Registry
) -> None:
    future = list(of_kind(emissions, "future"))
    assert future
    for e in future:
        report = from_json(e.value)
        assert report.station in registry and e.expect == "rejected:future"
        assert report.observed_at - report.received_at > timedelta(hours=1)


def test_a_late_report_comes_after_a_later_report_of_its_station(
    decoded: list[Decoded],
) -> None:
    newest: dict[str, datetime] = {}
    late = 0
    for d in decoded:
        if d.emission.expect != "assessed":
            continue
        if d.emission.kind == "late":
            assert d.observed_at < newest[d.station]
            late += 1
        else:
            assert d.observed_at > newest.get(d.station, START - timedelta(days=1))
            newest[d.station] = d.observed_at
    assert late


def test_a_stuck_sensor_repeats_one_value_over_three_or_more_consecutive_reports(
    decoded: list[Decoded], registry: Registry
) -> None:
    assert check_stuck_runs(decoded, registry) >= 5


def test_stuck_runs_stay_apart_even_when_nearly_every_slot_is_stuck(registry: Registry) -> None:
    emissions = list(
        simulate(registry, count=3000, seed=8, faults=FaultRates(stuck=0.9), start=START)
    )
    decoded = [decode(e, i, registry) for i, e in enumerate(emissions)]
    assert sum(d.emission.kind == "stuck" for d in decoded) > 2000
    assert check_stuck_runs(decoded, registry) > 300


def check_stuck_runs(decoded: list[Decoded], registry: Registry) -> int:
    """Assert each run of a station's consecutive stuck reports repeats a value; count runs."""
    by_station: dict[str, list[Decoded]] = defaultdict(list)
    for d in decoded:
        if d.emission.kind == "stuck":
            by_station[d.station].append(d)
    last = {d.station: d.observed_at for d in decoded}
    runs = 0
    for station_id, reports in by_station.items():
        interval = timedelta(minutes=registry.get(station_id).interval_minutes)
        reports.sort(key=lambda d: d.observed_at)
        groups: list[list[Decoded]] = [[reports[0]]]
        for d in reports[1:]:
            if d.observed_at - groups[-1][-1].observed_at == interval:
                groups[-1].append(d)
            else:
                groups.append([d])
        for group in groups:
            if group[-1].observed_at == last[station_id] and len(group) < 3:
                continue  # cut short by the end of the run
            assert len(group) >= 3
            common = set.intersection(*({(k, v) for k, v in d.values.items()} for d in group))
            assert common, f"{station_id}: no parameter repeats over {len(group)} reports"
            runs += 1
    return runs


def test_a_spike_puts_one_parameter_far_from_the_stations_usual_level(
    decoded: list[Decoded],
) -> None:
    usual: dict[tuple[str, str], list[float]] = defaultdict(list)
    for d in decoded:
        if d.emission.kind == "normal":
            for key, value in d.values.items():
                usual[(d.station, key)].append(value)
    median = {slot: statistics.median(values) for slot, values in usual.items()}
    additive = {"ph": 1.5, "temp": 6.0, "level": 0.4}

    def far(d: Decoded) -> list[str]:
        out = []
        for key, value in d.values.items():
            m = median[(d.station, key)]
            if key in additive:
                if abs(value - m) >= additive[key]:
                    out.append(key)
            elif m > 0 and value / m >= 4:
                out.append(key)
        return out

    spikes = [d for d in decoded if d.emission.kind == "spike"]
    normal = [d for d in decoded if d.emission.kind == "normal"]
    assert spikes and all(far(d) for d in spikes)
    assert sum(1 for d in normal if far(d)) < 0.05 * len(normal)


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


# --- fault specs, times, real-time rounds, profile ----------------------------------------------


def test_fault_spec_parses_and_refuses_what_is_wrong() -> None:
    rates = FaultRates.parse(DEFAULT_FAULTS)
    assert rates.hj212 == 0.1 and rates.unknown_station == 0.005
    assert FaultRates.parse(rates.spec()) == rates
    assert FaultRates.parse("none") == FaultRates() == FaultRates.parse("")
    for bad, words in [
        ("spikes=0.1", "NAME one of"),
        ("spike=abc", "not a number"),
        ("spike=1.5", "between 0 and 1"),
        ("spike=0.6,hj212=0.6", "more than 1"),
        ("spike=0.1,spike=0.2", "twice"),
        ("spike", "NAME=RATE"),
    ]:
        with pytest.raises(SimulationError, match=words):
            FaultRates.parse(bad)


def test_start_is_floored_to_the_step_and_rounds_follow_each_stations_interval(
    registry: Registry,
) -> None:
    simulator = Simulator(registry, seed=1, start=START + timedelta(minutes=75))
    assert simulator.step_minutes == 60  # 240-minute water quality, 60-minute gauges
    assert simulator.next_slot == START + timedelta(hours=1)
    first = [from_json(e.value) for e in simulator.next_round()]
    assert {r.station for r in first} == {"TBA-HY-001", "TBA-HY-002", "TBA-HY-003"}
    for _ in range(2):
        simulator.next_round()
    fourth = list(simulator.next_round())
    assert len(fourth) == len(registry)
    assert floor_time(datetime(2021, 4, 1, 7, 59, tzinfo=BEIJING), 240) == START + timedelta(
        hours=4
    )


def test_realtime_rounds_are_received_now_and_start_at_the_current_interval(
    registry: Registry,
) -> None:
    before = datetime.now(BEIJING)
    simulator = Simulator(registry, seed=1)
    assert simulator.next_slot <= before < simulator.next_slot + timedelta(hours=4)
    assert beijing_minute(simulator.next_slot) % 240 == 0
    now = datetime(2030, 1, 1, 12, 0, 30, tzinfo=BEIJING)
    reports: list[Report] = [from_json(e.value) for e in simulator.next_round(now)]
    assert reports and all(r.received_at == now for r in reports)


def test_the_shipped_profile_is_the_one_the_real_data_gives(
    cnemc_dir: Path, registry: Registry
) -> None:
    rows = [row for path in sorted(cnemc_dir.glob("*.csv")) for row in read_cnemc(path, year=2021)]
    rebuilt = json.loads(json.dumps(build_profile(rows, registry, source="")))
    shipped = load_profile(DEFAULT_PROFILE)
    assert {k: v for k, v in shipped.items() if k != "source"} == {
        k: v for k, v in rebuilt.items() if k != "source"
    }
    real_tp = [r.values["tp"] for r in rows if "tp" in r.values]
    lake_tp = shipped["water_bodies"]["lake"]["tp"]
    assert min(real_tp) <= lake_tp["min"] <= lake_tp["median"] <= lake_tp["max"] <= max(real_tp)
