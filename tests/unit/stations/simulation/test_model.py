"""The simulator: determinism, exact counts, fault rates, and every expectation it claims checked
with the real decoders (stations.formats.report.from_json, stations.formats.hj212.parse)."""

from __future__ import annotations

import json
import math
import statistics
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from stations import parameters
from stations.errors import SimulationError, UnitError
from stations.formats import hj212
from stations.formats.cnemc import read_cnemc
from stations.formats.hj212 import BEIJING, Hj212Error
from stations.formats.report import Report, ReportError, from_json
from stations.registry import Registry
from stations.simulation.faults import DEFAULT_FAULTS, FaultRates
from stations.simulation.model import Emission, Simulator, floor_time, simulate
from stations.simulation.profile import DEFAULT_PROFILE, build_profile, load_profile
from tests.unit.stations.simulation.reading import (
    ASSESSED_JSON,
    COUNT,
    FAULTS,
    START,
    Decoded,
    beijing_minute,
    decode,
    of_kind,
)


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
