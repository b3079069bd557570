from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from streams.deadletter import DeadLetter, Source, dead_letter


def test_dead_letter_keeps_original_bytes_reason_and_source() -> None:
    raw = b"##0109ST=32;\xff\x00broken"
    when = datetime(2021, 4, 1, 4, 0, tzinfo=UTC)
    doc = dead_letter(
        raw, b"JS-TH-001", Source("wq.reports.raw", 3, 1207), "undecodable", "bad", when
    )
    letter = DeadLetter.from_json(doc)
    assert letter.original == raw and letter.key == b"JS-TH-001"
    assert letter.reason == "undecodable" and letter.detail == "bad"
    assert letter.source == Source("wq.reports.raw", 3, 1207)
    assert letter.rejected_at == when
    assert str(Source("wq.reports.raw", 3, 1207)) == "wq.reports.raw[3]@1207"
    parsed = json.loads(doc)
    assert list(parsed) == sorted(parsed), "keys sorted, as before the record"
    assert parsed["source"] == {"offset": 1207, "partition": 3, "topic": "wq.reports.raw"}
    assert parsed["original_b64"] == "IyMwMTA5U1Q9MzI7/wBicm9rZW4="


def test_dead_letter_of_an_empty_message() -> None:
    doc = dead_letter(None, None, Source("t", 0, 0), "undecodable", "empty")
    letter = DeadLetter.from_json(doc)
    assert letter.original is None and letter.key is None
    assert json.loads(doc)["key_b64"] is None


MESSAGES = Path(__file__).resolve().parents[2] / "data" / "messages"


@pytest.mark.parametrize("name", ["deadletter.json", "deadletter-empty.json"])
def test_todays_dead_letters_decode_and_encode_back_the_same(name: str) -> None:
    raw = (MESSAGES / name).read_bytes()
    letter = DeadLetter.from_json(raw)
    again = json.loads(letter.to_json())
    before = json.loads(raw)
    assert datetime.fromisoformat(again.pop("rejected_at")) == datetime.fromisoformat(
        before.pop("rejected_at")
    )
    assert again == before


def test_the_dead_letter_as_it_was_written() -> None:
    letter = DeadLetter.from_json((MESSAGES / "deadletter.json").read_bytes())
    assert letter.original == b"##0109ST=32;\xff\x00broken" and letter.key == b"JS-TH-001"
    assert str(letter.source) == "wq.reports.raw[3]@1207"
    assert letter.rejected_at == datetime(2021, 4, 1, 4, 0, 7, 123456, tzinfo=UTC)
