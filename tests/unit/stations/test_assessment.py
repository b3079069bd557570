"""The check path of one raw message, without Kafka: what is accepted, what is refused and why."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from stations.assessment import Assessor, History, Replay
from stations.formats import hj212
from stations.formats.assessed import AssessedValue
from stations.formats.report import Reading, Report, ReportError
from stations.jurisdictions import Jurisdiction
from stations.quality.checks import QCFlag
from stations.quality.limits import load_qc_limits
from stations.registry import Registry, load_registry
from stations.rules.config import load_rules
from stations.rules.events import EventKind, RuleEvent

RECEIVED = datetime(2021, 4, 1, 4, 5, tzinfo=hj212.BEIJING)
# 西山 (JS-TH-028, lake, target Ⅳ), 04-01 04:00 as published: class Ⅲ, limited by TP 0.048.
XISHAN = {"ph": 7.48, "do": 9.32, "codmn": 1.88, "nh3n": 0.110, "tp": 0.048, "tn": 1.98}


@pytest.fixture(scope="module")
def registry() -> Registry:
    return load_registry()


@pytest.fixture(scope="module")
def assessor(registry: Registry) -> Assessor:
    return Assessor(registry, load_qc_limits(registry=registry), load_rules(registry=registry))


def report_bytes(hour: int = 4, flag: str = "N", **change: object) -> bytes:
    """A raw report of 西山 as the record encodes it, with top-level fields changed as given."""
    observed = datetime(2021, 4, 1, tzinfo=hj212.BEIJING) + timedelta(hours=hour)
    readings = {
        k: Reading(v, "dimensionless" if k == "ph" else "mg/L", flag) for k, v in XISHAN.items()
    }
    report = Report("JS-TH-028", observed, observed + timedelta(minutes=5), "test", readings)
    doc = json.loads(report.to_json()) | change
    return json.dumps(doc).encode()


@pytest.mark.parametrize(
    ("raw", "reason", "words"),
    [
        (None, "undecodable", "empty"),
        (b"\xff\xfe", "undecodable", "UTF-8 JSON"),
        (b"[1, 2]", "undecodable", "got `array`"),
        (report_bytes(station=""), "invalid", "'station'"),
        (report_bytes(schema=2), "invalid", "field 'schema': Invalid enum value 2"),
        (b'{"station": "JS-TH-028"}', "invalid", "missing required field `schema`"),
        (
            report_bytes(observed_at="2021-04-01T04:00:00"),
            "invalid",
            "field 'observed_at': Expected `datetime` with a timezone",
        ),
        (
            report_bytes(values={"tp": {"value": "0.1", "unit": "mg/L"}}),
            "invalid",
            "values.tp.value",
        ),
        (
            report_bytes(station="ZJ-XX-999"),
            "unknown_station",
            "'ZJ-XX-999' is not in the registry",
        ),
        (report_bytes(values={"tp": {"value": 0.1, "unit": "NTU"}}), "bad_unit", "values.tp"),
        (report_bytes(values={"zinc": {"value": 0.1, "unit": "mg/L"}}), "invalid", "values.zinc"),
        (
            report_bytes(received_at="2021-04-01T02:00:00+08:00"),
            "future",
            "after received_at",
        ),
    ],
)
def test_refused_messages_name_the_reason_and_the_field(
    assessor: Assessor, raw: bytes | None, reason: str, words: str
) -> None:
    with pytest.raises(ReportError, match=words) as info:
        assessor.check(raw, RECEIVED)
    assert info.value.reason == reason


def test_a_report_is_qc_checked_classed_and_compared_with_its_target(assessor: Assessor) -> None:
    report = assessor.check(report_bytes(), RECEIVED)
    outcome = assessor.assess(report, History())
    doc = outcome.assessed
    assert (doc.station, doc.station_name, doc.jurisdiction) == (
        "JS-TH-028",
        "西山",
        Jurisdiction.JS,
    )
    assert (doc.water_class, doc.class_name, doc.limiting) == (3, "Ⅲ类", ("tp",))
    assert (doc.target_class, doc.target_met) == (4, True)
    assert doc.values["tp"] == AssessedValue(
        value=0.048,
        unit="mg/L",
        flag="N",
        qc=QCFlag.GOOD,
        reasons=(),
        water_class=3,  # lake TP column: 0.025 < 0.048 <= 0.05
    )
    assert doc.values["tn"].water_class == 5  # lake TN 1.98: Ⅳ 1.5 < x <= Ⅴ 2.0, reported apart
    assert doc.late is False
    assert outcome.history.times == [report.observed_at.timestamp()]


def test_maintenance_values_are_kept_but_never_classed(assessor: Assessor) -> None:
    outcome = assessor.assess(assessor.check(report_bytes(flag="M"), RECEIVED), History())
    assert outcome.assessed.water_class is None
    assert {v.qc for v in outcome.assessed.values.values()} == {QCFlag.FAIL}
    assert outcome.assessed.values["tp"].value == 0.048
    assert outcome.assessed.values["tp"].water_class is None
    assert "maintenance" in outcome.assessed.values["tp"].reasons[0]


def test_the_same_station_and_time_twice_is_a_duplicate(assessor: Assessor) -> None:
    first = assessor.assess(assessor.check(report_bytes(), RECEIVED), History())
    again = History.from_json(first.history.to_json())
    with pytest.raises(ReportError, match="already reported") as info:
        assessor.assess(assessor.check(report_bytes(), RECEIVED), again)
    assert info.value.reason == "duplicate"


def test_a_late_report_is_assessed_and_marked_but_does_not_enter_the_history(
    assessor: Assessor,
) -> None:
    history = History()
    for hour in (8, 12):
        history = assessor.assess(assessor.check(report_bytes(hour), RECEIVED), history).history
    late = assessor.assess(assessor.check(report_bytes(4), RECEIVED), history)
    assert late.assessed.late is True
    assert late.assessed.water_class == 3
    assert late.events == ()
    assert len(late.history.times) == 2 and len(late.history.seen) == 3


def test_history_is_bounded(registry: Registry) -> None:
    small = Assessor(
        registry, load_qc_limits(registry=registry), load_rules(registry=registry), history_size=3
    )
    history = History()
    for hour in range(0, 40, 4):
        history = small.assess(small.check(report_bytes(hour), RECEIVED), history).history
    assert len(history.times) == 3
    assert all(len(v) == 3 for v in history.values.values())


def test_hj212_packets_are_decoded_by_mn(assessor: Assessor, registry: Registry) -> None:
    mn = registry.get("JS-TH-028").hj212.mn  # type: ignore[union-attr]
    when = datetime(2021, 4, 1, 4, tzinfo=hj212.BEIJING)
    items = {
        "w21011": {"Rtd": "0.048", "Flag": "N"},
        "w01009": {"Rtd": "9.32", "Flag": "N"},
        "ele01": {"Rtd": "1"},
    }
    raw = hj212.build({"ST": "21", "CN": "2011", "PW": "123456", "MN": mn}, when, items)
    report = assessor.check(raw, RECEIVED)
    assert report.station == "JS-TH-028" and report.source == "hj212"
    assert report.readings["tp"].value == 0.048 and report.readings["do"].value == 9.32
    assert set(report.readings) == {"tp", "do"}  # ele01 is no water parameter


def test_hj212_problems_are_refused(assessor: Assessor) -> None:
    packets = (b"##0435QN=broken", b"##0105ST=21;CN=2011;MN=NOPE;CP=&&DataTime=20210401040000&&")
    with pytest.raises(ReportError) as info:
        assessor.check(packets[0], RECEIVED)
    assert info.value.reason == "undecodable"
    data = packets[1][6:]
    unknown = b"##%04d%s%04X\r\n" % (len(data), data, hj212.crc16(data))
    with pytest.raises(ReportError, match="MN 'NOPE'") as info:
        assessor.check(unknown, RECEIVED)
    assert info.value.reason == "unknown_station"


def test_persistent_breach_fires_once_conditions_hold_and_names_the_parties(
    assessor: Assessor,
) -> None:
    """Class worse than target for enough consecutive results gives a breach event."""
    bad = dict(XISHAN, nh3n=1.8)  # NH3-N class Ⅴ at a target-Ⅳ lake section
    history = History()
    events: list[RuleEvent] = []
    for hour in range(0, 48, 4):
        values = {k: {"value": v, "unit": "mg/L"} for k, v in bad.items()}
        values["ph"]["unit"] = "dimensionless"
        raw = report_bytes(hour, values=values)
        outcome = assessor.assess(assessor.check(raw, RECEIVED + timedelta(hours=48)), history)
        history = outcome.history
        events.extend(outcome.events)
    breaches = [e for e in events if e.kind is EventKind.BREACH and e.rule == "target-class"]
    assert breaches, events
    assert breaches[0].jurisdictions == (Jurisdiction.JS, Jurisdiction.TBA)
    assert breaches[0].observed == 5 and breaches[0].limit == 4
    assert len({e.id for e in events}) == len(events)


def test_a_redelivered_message_is_a_replay_not_a_duplicate(assessor: Assessor) -> None:
    report = assessor.check(report_bytes(), RECEIVED)
    done = assessor.assess(report, History(), "wq.reports.raw[3]@17").history
    restored = History.from_json(done.to_json())
    with pytest.raises(Replay, match=r"wq.reports.raw\[3\]@17"):
        assessor.assess(report, restored, "wq.reports.raw[3]@17")
    with pytest.raises(ReportError, match="already reported"):
        assessor.assess(report, restored, "wq.reports.raw[3]@18")
