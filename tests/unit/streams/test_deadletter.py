from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from stations.registry import Registry, load_registry
from stations.report import ReportError
from streams.agents.check import check_report
from streams.deadletter import Source, dead_letter, original_bytes


def test_dead_letter_keeps_original_bytes_reason_and_source() -> None:
    raw = b"##0109ST=32;\xff\x00broken"
    when = datetime(2021, 4, 1, 4, 0, tzinfo=UTC)
    doc = dead_letter(
        raw, b"JS-TH-001", Source("wq.reports.raw", 3, 1207), "undecodable", "bad", when
    )
    parsed = json.loads(doc)
    assert original_bytes(doc) == raw
    assert parsed["reason"] == "undecodable"
    assert parsed["source"] == {"topic": "wq.reports.raw", "partition": 3, "offset": 1207}
    assert parsed["rejected_at"] == "2021-04-01T04:00:00+00:00"
    assert str(Source("wq.reports.raw", 3, 1207)) == "wq.reports.raw[3]@1207"


def test_dead_letter_of_an_empty_message() -> None:
    doc = dead_letter(None, None, Source("t", 0, 0), "undecodable", "empty")
    assert original_bytes(doc) is None
    assert json.loads(doc)["key_b64"] is None


@pytest.fixture(scope="module")
def registry() -> Registry:
    return load_registry()


def report_bytes(**change: object) -> bytes:
    doc: dict[str, object] = {
        "schema": 1,
        "station": "JS-TH-028",
        "observed_at": "2021-04-01T04:00:00+08:00",
        "received_at": "2021-04-01T04:02:00+08:00",
        "source": "test",
        "values": {"tp": {"value": 0.048, "unit": "mg/L", "flag": "N"}},
    }
    doc.update(change)
    return json.dumps(doc).encode()


@pytest.mark.parametrize(
    ("raw", "reason", "words"),
    [
        (None, "undecodable", "empty"),
        (b"\xff\xfe", "undecodable", "UTF-8 JSON"),
        (b"[1, 2]", "undecodable", "got list"),
        (report_bytes(station=""), "invalid", "'station'"),
        (report_bytes(schema=2), "invalid", "'schema' must be 1"),
        (report_bytes(observed_at="2021-04-01T04:00:00"), "invalid", "no UTC offset"),
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
    ],
)
def test_check_report_says_what_is_wrong(
    raw: bytes | None, reason: str, words: str, registry: Registry
) -> None:
    with pytest.raises(ReportError, match=words) as info:
        check_report(raw, registry)
    assert info.value.reason == reason


def test_check_report_accepts_a_known_station(registry: Registry) -> None:
    report = check_report(report_bytes(), registry)
    assert report.station == "JS-TH-028"
    assert report.readings["tp"].value == 0.048
    assert report.observed_at.utcoffset() == timedelta(hours=8)
    assert check_report(report.to_json(), registry) == report
