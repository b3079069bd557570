"""Dead letters: what cannot be used is kept with its original bytes and the reason.

A :class:`DeadLetter` travels on the rejected topic as JSON with sorted keys::

    {"detail": "field 'schema': Invalid value 2", "key_b64": "SlMtVEgtMDAx",
     "original_b64": "eyJzY2hlbWEiOjJ9", "reason": "invalid",
     "rejected_at": "2021-04-01T04:00:07.123456Z",
     "source": {"offset": 1207, "partition": 3, "topic": "wq.reports.raw"}}

``reason`` is a short stable code (``undecodable``, ``unknown_station`` ...) to count by;
``detail`` says what was wrong and where, for a person; the key and the value are kept exactly
(base64, null when the message had none). Pure: no Kafka imports.
"""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec

from stations.formats.records import AwareDatetime, Name, Record, decode, encode


class Source(msgspec.Struct, frozen=True):
    """Where a message was read: topic[partition]@offset."""

    topic: str
    partition: int
    offset: int

    def __str__(self) -> str:
        return f"{self.topic}[{self.partition}]@{self.offset}"


class DeadLetter(Record, frozen=True):
    """A message that cannot be used, why, where it was read and its exact bytes."""

    reason: Name
    detail: str
    source: Source
    key: bytes | None = msgspec.field(name="key_b64")
    original: bytes | None = msgspec.field(name="original_b64")
    rejected_at: AwareDatetime

    def to_json(self) -> bytes:
        return encode(self, sorted_keys=True)

    @classmethod
    def from_json(cls, raw: bytes) -> DeadLetter:
        """Decode a rejected-topic document; MessageError when it is not one."""
        return decode(raw, cls)


def dead_letter(
    original: bytes | None,
    key: bytes | None,
    source: Source,
    reason: str,
    detail: str,
    rejected_at: datetime | None = None,
) -> bytes:
    """The rejected-topic document of a message (``rejected_at``: now unless given)."""
    return DeadLetter(
        reason=reason,
        detail=detail,
        source=source,
        key=key,
        original=original,
        rejected_at=rejected_at or datetime.now(UTC),
    ).to_json()
