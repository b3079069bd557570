"""Dead letters in InfluxDB: one ``rejected`` point per dead letter (tags, fields, time), the same
point for the same dead letter, only in the owner's view, and never a dead letter of a dead letter
(the loop guard of the store)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from influxdb_client import WritePrecision

from stations.formats.records import encode
from stations.registry import Registry, load_registry
from stations.sharing.config import load_sharing
from streams.agents.store import Storer
from streams.deadletter import DeadLetter, Source, dead_letter
from streams.errors import DataRejected
from streams.store.points import DETAIL_CHARS, REJECTED, line_protocol, rejected_point
from streams.store.views import Router, point_parts
from streams.store.writer import BatchWriter

MESSAGES = Path(__file__).parents[2] / "data" / "messages"
AT = datetime(2021, 4, 1, 4, 0, 7, 123456, tzinfo=UTC)
RAW = Source("wq.reports.raw", 3, 1207)


@cache
def registry() -> Registry:
    return load_registry()


def letter(
    key: bytes | None = b"JS-TH-028",
    original: bytes | None = b"##junk",
    source: Source = RAW,
    reason: str = "undecodable",
    detail: str = "HJ 212: bad CRC",
) -> DeadLetter:
    return DeadLetter.from_json(dead_letter(original, key, source, reason, detail, AT))


def test_a_dead_letter_is_one_point_tagged_by_reason_station_and_jurisdiction() -> None:
    shipped = DeadLetter.from_json((MESSAGES / "deadletter.json").read_bytes())
    name, tags, fields = point_parts(rejected_point(shipped, registry()))
    assert name == REJECTED == "rejected"
    assert dict(tags) == {"reason": "undecodable", "station": "JS-TH-001", "jurisdiction": "JS"}
    assert dict(fields) == {
        "source": "wq.reports.raw[3]@1207",
        "detail": "HJ 212: bad CRC",
        "count": 1,
    }
    (line,) = line_protocol([rejected_point(shipped, registry())], WritePrecision.NS)
    # rejected at 2021-04-01T04:00:07.123456Z; the offset's last three digits as nanoseconds
    assert line.endswith(" 1617249607123456207")


def test_without_a_key_the_station_comes_from_the_original_document() -> None:
    point = rejected_point(letter(key=None, original=b'{"station": "ZJ-TH-001"}'), registry())
    assert dict(point_parts(point)[1]) == {
        "reason": "undecodable",
        "station": "ZJ-TH-001",
        "jurisdiction": "ZJ",
    }


def test_an_unknown_or_missing_station_is_no_tag() -> None:
    for key, original in [
        (b"JS-TH-999", b'{"station": "JS-TH-999"}'),  # unknown_station: whatever was sent
        (None, None),
        (b"\xff\xfe", b"\xff not json"),
    ]:
        point = rejected_point(letter(key, original, reason="unknown_station"), registry())
        assert dict(point_parts(point)[1]) == {"reason": "unknown_station"}
    shipped = DeadLetter.from_json((MESSAGES / "deadletter-empty.json").read_bytes())
    assert dict(point_parts(rejected_point(shipped, registry()))[1]) == {"reason": "store_invalid"}


def test_a_long_detail_is_truncated() -> None:
    point = rejected_point(letter(detail="x" * 5000), registry())
    detail = point_parts(point)[2]["detail"]
    assert len(detail) == DETAIL_CHARS and detail.endswith("…")


def test_the_same_dead_letter_is_the_same_point_and_two_are_two() -> None:
    raw = dead_letter(b"##junk", b"JS-TH-028", RAW, "undecodable", "bad CRC", AT)
    first = line_protocol([rejected_point(DeadLetter.from_json(raw), registry())], "ns")
    again = line_protocol([rejected_point(DeadLetter.from_json(raw), registry())], "ns")
    assert first == again  # a redelivery overwrites: same tags, same time, same fields
    other = letter(source=Source(RAW.topic, RAW.partition, RAW.offset + 1))  # same microsecond
    assert (
        line_protocol([rejected_point(other, registry())], "ns")[0].split()[-1]
        != (first[0].split()[-1])
    )


def test_a_dead_letter_goes_only_to_its_owners_view() -> None:
    router = Router(load_sharing(registry=registry()), "basinwatch")
    for key, owner in [(b"JS-TH-028", "basinwatch-js"), (b"ZJ-TH-001", "basinwatch-zj")]:
        assert set(router.route(rejected_point(letter(key), registry()))) == {owner}
    assert router.route(rejected_point(letter(b"JS-TH-999"), registry())) == {}


@dataclass
class Message:
    topic: str
    value: bytes | None
    key: bytes | None = None
    partition: int = 0
    offset: int = 0


@dataclass
class Influx:
    """A recording send: refuses (400) every write holding a line with ``refuse`` in it."""

    refuse: str = "\x00"
    writes: list[tuple[list[str], str | None, str | None]] = field(default_factory=list)

    async def __call__(
        self, lines: Sequence[str], bucket: str | None = None, precision: str | None = None
    ) -> None:
        if any(self.refuse in line for line in lines):
            raise DataRejected("unable to parse", 400)
        self.writes.append((list(lines), bucket, precision))

    def lines(self, measurement: str) -> list[str]:
        return [
            line for lines, _, _ in self.writes for line in lines if line.startswith(measurement)
        ]

    def reasons(self) -> list[str]:
        return [re.search(r",reason=([^, ]+)", line)[1] for line in self.lines("rejected")]


@dataclass
class Harness:
    influx: Influx
    storer: Storer
    rejects: list[tuple[str, str]]


def harness(refuse: str = "\x00", router: Router | None = None) -> Harness:
    influx = Influx(refuse)
    rejects: list[tuple[str, str]] = []

    async def reject(message: Any, reason: str, detail: str) -> None:
        rejects.append((message.topic, reason))

    storer = Storer(
        BatchWriter(influx),
        reject,
        assessed_topic="assessed",
        alerts_topic="alerts",
        rejected_topic="rejected",
        registry=registry(),
        router=router,
    )
    return Harness(influx, storer, rejects)


def letters(*reasons: str) -> list[Message]:
    return [
        Message("rejected", encode(letter(reason=r, source=Source("raw", 0, i))), b"JS-TH-028")
        for i, r in enumerate(reasons)
    ]


def test_the_store_writes_dead_letters_with_nanosecond_precision() -> None:
    h = harness()
    asyncio.run(h.storer.store_batch(letters("undecodable", "invalid", "invalid")))
    assert [(bucket, precision) for _, bucket, precision in h.influx.writes] == [(None, "ns")]
    assert h.influx.reasons() == ["undecodable", "invalid", "invalid"]
    assert len({line.split()[-1] for line in h.influx.lines("rejected")}) == 3
    assert h.rejects == []


def test_with_views_a_dead_letter_is_also_written_to_the_owners_view() -> None:
    h = harness(router=Router(load_sharing(registry=registry()), "basinwatch"))
    asyncio.run(h.storer.store_batch(letters("undecodable")))
    assert [(bucket, precision) for _, bucket, precision in h.influx.writes] == [
        (None, "ns"),
        ("basinwatch-js", "ns"),
    ]


def test_a_dead_letter_that_does_not_decode_is_counted_never_dead_lettered() -> None:
    h = harness()
    bad = [Message("rejected", b"not a dead letter", offset=5), Message("rejected", None)]
    asyncio.run(h.storer.store_batch([*bad, *letters("invalid")]))
    assert h.rejects == []  # the loop guard: nothing goes back to the rejected topic
    assert h.storer.writer.stats.dropped_dead_letters == 2
    assert len(h.influx.lines("rejected")) == 1  # the good one is stored


def test_a_dead_letter_influxdb_refuses_is_counted_never_dead_lettered() -> None:
    h = harness(refuse="reason=store_rejected")
    batch = [*letters("store_rejected", "invalid"), Message("assessed", b"{}", b"JS-TH-028")]
    asyncio.run(h.storer.store_batch(batch))
    # the assessed message that does not decode is dead-lettered as before; the dead letter whose
    # point InfluxDB refuses is not, and the other dead letter is written one by one
    assert h.rejects == [("assessed", "store_invalid")]
    assert h.storer.writer.stats.dropped_dead_letters == 1
    assert h.influx.reasons() == ["invalid"]
