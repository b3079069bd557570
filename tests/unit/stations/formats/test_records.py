"""The typed records against the documents on the topics now (tests/data/messages, written by the
code before the records): each decodes, encodes back to the same document, and the assessor still
writes them."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest

from stations import parameters
from stations.assessment import Assessor, History
from stations.errors import MessageError
from stations.formats import hj212
from stations.formats.assessed import AssessedReport
from stations.formats.records import decode, encode
from stations.formats.report import Reading, Report
from stations.jurisdictions import Jurisdiction
from stations.quality.checks import QCFlag
from stations.quality.limits import load_qc_limits
from stations.registry import Registry, load_registry
from stations.rules.config import load_rules
from stations.rules.events import EventKind, RuleEvent, Severity

MESSAGES = Path(__file__).resolve().parents[3] / "data" / "messages"
RECORDS: dict[str, type[msgspec.Struct]] = {
    "report": Report,
    "assessed": AssessedReport,
    "event": RuleEvent,
}


def documents(prefix: str) -> list[Path]:
    found = sorted(MESSAGES.glob(f"{prefix}*.json"))
    assert found, prefix
    return found


def same(doc: Any) -> Any:
    """A JSON document with its times as instants (``Z`` and ``+00:00`` are the same time)."""
    if isinstance(doc, dict):
        return {key: same(value) for key, value in doc.items()}
    if isinstance(doc, list):
        return [same(value) for value in doc]
    if isinstance(doc, str) and len(doc) >= 20 and doc[4] == "-" and doc[10] == "T":
        return datetime.fromisoformat(doc)
    return doc


@pytest.mark.parametrize("prefix", sorted(RECORDS))
def test_todays_documents_decode_and_encode_back_the_same(prefix: str) -> None:
    for path in documents(prefix):
        raw = path.read_bytes()
        record = decode(raw, RECORDS[prefix])
        assert same(json.loads(encode(record))) == same(json.loads(raw)), path.name


def test_the_station_report_is_byte_for_byte_what_it_was() -> None:
    raw = (MESSAGES / "report.json").read_bytes().strip()
    assert decode(raw, Report).to_json() == raw


def test_fields_read_from_todays_documents() -> None:
    breach = decode((MESSAGES / "assessed-breach.json").read_bytes(), AssessedReport)
    assert (breach.station, breach.jurisdiction, breach.water_class) == ("JS-TH-028", "JS", 6)
    assert breach.values["tp"].qc is QCFlag.GOOD and breach.values["tp"].water_class == 6
    assert breach.good("tp") == 0.25 and breach.values["temp"].water_class is None
    assert [e.kind for e in breach.events] == [EventKind.PENDING, EventKind.BREACH]
    window = decode((MESSAGES / "event-breach-window.json").read_bytes(), RuleEvent)
    assert (window.kind, window.statistic, window.severity) == (
        EventKind.BREACH,
        "mean over 24 h",
        Severity.WARNING,
    )
    assert window.jurisdictions == (Jurisdiction.JS, Jurisdiction.TBA)
    assert window.side is None, "written before events said their side"
    late = decode((MESSAGES / "assessed-late.json").read_bytes(), AssessedReport)
    assert late.late and late.events == () and late.values["chla"].value is None


@pytest.mark.parametrize(
    ("name", "change", "words"),
    [
        ("event-breach.json", {"kind": "alarm"}, "field 'kind': Invalid enum value 'alarm'"),
        ("event-breach.json", {"since": None}, "'since' and 'statistic' come with a breach only"),
        ("event-pending.json", {"observed_at": "2021-04-01T12:00:00"}, "field 'observed_at'"),
        ("assessed-none.json", {"jurisdiction": "XX"}, "field 'jurisdiction'"),
        ("assessed-none.json", {"class": 7}, "field 'class': Expected `int` <= 6"),
    ],
)
def test_a_document_that_breaks_its_record_is_refused_naming_the_field(
    name: str, change: dict[str, Any], words: str
) -> None:
    doc = json.loads((MESSAGES / name).read_bytes()) | change
    kind = RECORDS[name.split("-")[0]]
    with pytest.raises(MessageError, match=words):
        decode(json.dumps(doc).encode(), kind)


def test_a_renamed_or_missing_field_is_refused() -> None:
    doc = json.loads((MESSAGES / "event-recovery.json").read_bytes())
    doc["rule_id"] = doc.pop("rule")
    with pytest.raises(MessageError, match="missing required field `rule`"):
        decode(json.dumps(doc).encode(), RuleEvent)
    doc = json.loads((MESSAGES / "assessed-none.json").read_bytes())
    doc["values"]["tp"]["qc"] = "good"
    with pytest.raises(MessageError, match=r"field 'values\.tp\.qc'"):
        decode(json.dumps(doc).encode(), AssessedReport)
    doc = json.loads((MESSAGES / "assessed-breach.json").read_bytes())
    doc["events"][1]["severity"] = "urgent"
    with pytest.raises(MessageError, match=r"field 'events\[1\]\.severity': Invalid enum"):
        decode(json.dumps(doc).encode(), AssessedReport)


# The inputs the documents were captured from (tests/data/messages/README.md).
XISHAN = {"temp": 14.2, "ph": 7.48, "do": 9.32, "cond": 512.0, "turb": 21.0, "codmn": 1.88,
          "nh3n": 0.110, "tp": 0.048, "tn": 1.98, "chla": 0.012, "algae": 2.1e6}  # fmt: skip


def report(
    station: str, hour: int, values: dict[str, float], flag: str = "N", nulls: tuple[str, ...] = ()
) -> Report:
    observed = datetime(2021, 4, 1, tzinfo=hj212.BEIJING) + timedelta(hours=hour)
    readings = {
        key: Reading(
            None if key in nulls else value,
            parameters.get(key).unit,
            flag if key != "tn" else "N",
        )
        for key, value in values.items()
    }
    received = observed + timedelta(minutes=3, seconds=12)
    return Report(station, observed, received, "simulate", readings)


def replay(assessor: Assessor) -> list[bytes]:
    """Every assessed report and rule event the capture's inputs give, encoded."""
    out: list[bytes] = []

    def assess(rep: Report, history: History, source: str) -> None:
        outcome = assessor.assess(assessor.check(rep.to_json(), rep.received_at), history, source)
        out.append(encode(outcome.assessed))
        out.extend(encode(event) for event in outcome.events)

    xishan = History()
    for i, hour in enumerate(range(0, 52, 4)):
        tp = 0.25 if hour in (16, 20, 24) else XISHAN["tp"]
        assess(report("JS-TH-028", hour, XISHAN | {"tp": tp}), xishan, f"p@{i}")
    assess(report("JS-TH-028", 2, XISHAN, nulls=("chla",)), xishan, "late")
    hydrology = History()
    assess(report("TBA-HY-001", 0, {"level": 4.8}, flag="M"), hydrology, "h@0")
    assess(report("TBA-HY-001", 1, {"level": 4.9}), hydrology, "h@1")
    window = History()
    for i, hour in enumerate(range(0, 24, 4)):
        assess(report("JS-TH-028", hour, XISHAN | {"tp": 0.09}), window, f"w@{i}")
    return out


def without_side(doc: dict[str, Any]) -> dict[str, Any]:
    """A document without the rule events' ``side``, the one field added since the capture."""
    for event in doc.get("events", [doc]):
        assert event.pop("side") in ("max", "min")
    return doc


def test_the_assessor_still_writes_these_documents(registry: Registry) -> None:
    assessor = Assessor(registry, load_qc_limits(registry=registry), load_rules(registry=registry))
    written = [same(without_side(json.loads(raw))) for raw in replay(assessor)]
    for path in documents("assessed") + documents("event"):
        assert same(json.loads(path.read_bytes())) in written, path.name
    assert decode((MESSAGES / "report.json").read_bytes(), Report) == report("JS-TH-028", 0, XISHAN)


@pytest.fixture(scope="module")
def registry() -> Registry:
    return load_registry()
