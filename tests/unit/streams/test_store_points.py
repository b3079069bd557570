"""Assessed reports and events as InfluxDB points: tags, fields, second precision, no NaN."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from stations.assessment import Assessor, History
from stations.formats.assessed import AssessedReport
from stations.formats.records import encode
from stations.formats.report import Reading, Report
from stations.jurisdictions import Jurisdiction
from stations.quality.limits import load_qc_limits
from stations.registry import load_registry
from stations.rules.config import load_rules
from stations.rules.events import EventKind, RuleEvent, Severity, event_id
from streams.agents.store import message_lines
from streams.errors import PointError
from streams.store.points import assessed_points, event_point, line_protocol


def assessed(values: dict[str, tuple[float | None, str, str]]) -> AssessedReport:
    registry = load_registry()
    assessor = Assessor(registry, load_qc_limits(registry=registry), load_rules(registry=registry))
    at = datetime(2021, 4, 6, 8, tzinfo=UTC)
    report = Report(
        station="JS-TH-028",
        observed_at=at,
        received_at=at,
        source="test",
        readings={k: Reading(v, unit, flag) for k, (v, unit, flag) in values.items()},
    )
    return assessor.assess(report, History()).assessed


GOOD = {
    "ph": (7.9, "dimensionless", "N"),
    "do": (8.2, "mg/L", "N"),
    "codmn": (4.1, "mg/L", "N"),
    "nh3n": (0.21, "mg/L", "N"),
    "tp": (0.062, "mg/L", "N"),
}


def test_one_point_per_parameter_and_one_assessment_with_station_tags() -> None:
    lines = line_protocol(assessed_points(assessed(GOOD)))
    wq = [line for line in lines if line.startswith("water_quality,")]
    assert len(wq) == 5
    tp = next(line for line in wq if "parameter=tp" in line)
    assert tp.startswith("water_quality,basin=")
    assert "station=JS-TH-028" in tp and "station_name=西山" in tp and "jurisdiction=JS" in tp
    assert "value=0.062" in tp and "qc=1i" in tp and "class=4i" in tp  # lake TP 0.05-0.1: Ⅳ
    assert tp.endswith(" 1617696000"), "second precision"
    (assessment,) = [line for line in lines if line.startswith("assessment,")]
    assert "class=4i" in assessment and 'limiting="tp"' in assessment
    assert "target_met=true" in assessment  # lake target Ⅳ
    assert not [line for line in lines if line.startswith("qc,")], "all good: no QC points"


def test_missing_and_flagged_values_are_never_numbers_and_say_why() -> None:
    values = GOOD | {"tp": (None, "mg/L", "N"), "nh3n": (0.3, "mg/L", "M")}
    lines = line_protocol(assessed_points(assessed(values)))
    tp = next(
        line for line in lines if line.startswith("water_quality,") and "parameter=tp" in line
    )
    assert "value=" not in tp and "qc=9i" in tp and "nan" not in tp.lower()
    qc = {
        line.split("parameter=")[1].split(",")[0].split(" ")[0]: line
        for line in lines
        if line.startswith("qc,")
    }
    assert set(qc) == {"tp", "nh3n"}
    assert "flag=4i" in qc["nh3n"] and "maintenance" in qc["nh3n"]
    assessment = next(line for line in lines if line.startswith("assessment,"))
    assert " class=" not in assessment and ",class=" not in assessment, "no class without all five"
    assert "target_met" not in assessment


def test_event_point_and_bad_documents() -> None:
    at = datetime(2021, 4, 6, 8, tzinfo=UTC)
    event = RuleEvent(
        id=event_id("JS-TH-028", "target-class", EventKind.BREACH, at.isoformat()),
        kind=EventKind.BREACH,
        station="JS-TH-028",
        station_name="西山",
        rule="target-class",
        parameter="class",
        observed=5.0,
        limit=4.0,
        severity=Severity.WARNING,
        jurisdictions=(Jurisdiction.JS, Jurisdiction.TBA),
        observed_at=at,
        message="超标",
        since=at,
        statistic="latest",
    )
    (line,) = line_protocol([event_point(event)])
    assert line.startswith("breaches,kind=breach,parameter=class,rule=target-class")
    assert 'jurisdictions="JS,TBA"' in line and line.endswith(" 1617696000")
    assert message_lines("b", "a", encode(event)) == [line]
    doc = json.loads(encode(event)) | {"observed_at": "yesterday"}
    with pytest.raises(PointError, match="field 'observed_at'"):
        message_lines("b", "a", json.dumps(doc).encode())
    with pytest.raises(PointError, match="not UTF-8 JSON"):
        message_lines("a", "a", b"\xff{")
    with pytest.raises(PointError, match="missing required field `station`"):
        message_lines("a", "a", json.dumps({"observed_at": "2021-04-06T08:00:00+00:00"}).encode())


def test_alert_changes_and_deliveries_become_points() -> None:
    from pathlib import Path

    from alerts.records import decode_alerts
    from streams.store.points import alert_points

    messages = Path(__file__).parents[2] / "data" / "messages" / "alerts"

    def lines_of(name: str) -> list[str]:
        return line_protocol(alert_points(decode_alerts((messages / name).read_bytes())))

    class_line, tp_line = lines_of("changes-firing.json")
    assert tp_line.startswith("alerts,change=firing,jurisdiction=SH,parameter=tp,rule=tpq-tp,")
    assert (
        "station_name=太浦河桥" in tp_line and "tier=1i" in tp_line and "observed=0.31" in tp_line
    )
    assert 'state="firing"' in tp_line and "notified=true" in tp_line
    at = json.loads((messages / "changes-firing.json").read_bytes())["changes"][1]["at"]
    assert tp_line.endswith(f" {int(datetime.fromisoformat(at).timestamp())}")  # its time, in s
    assert class_line.startswith("alerts,change=firing,jurisdiction=SH,parameter=class,")
    (late,) = lines_of("changes-unsuppressed.json")  # firing-unsuppressed is a firing
    assert late.startswith("alerts,change=firing,") and "SH-CJ-011" in late
    assert all(
        line.startswith("alerts,change=escalated,") for line in lines_of("changes-escalated.json")
    )

    (line,) = lines_of("delivery-failed.json")
    assert line.startswith("alert_deliveries,ok=false,receiver=sh-t1,station=SH-CJ-009 ")
    assert "attempts=2i" in line and "connection error" in line
    (line,) = lines_of("delivery-ok.json")
    assert line.startswith("alert_deliveries,ok=true,receiver=js-t1,") and 'errors=""' in line
    with pytest.raises(PointError, match="alert document: Object missing required field"):
        message_lines("c", "a", b'{"kind": "changes"}', alerts_topic="c")
    with pytest.raises(PointError, match=r"alert document: .* at `\$.kind`"):
        message_lines("c", "a", b'{"kind": "change"}', alerts_topic="c")
