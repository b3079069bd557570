from __future__ import annotations

import json
from datetime import UTC, datetime

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
