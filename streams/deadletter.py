"""Dead letters: what cannot be used is kept with its original bytes and the reason.

Pure: builds the JSON document written to the rejected topic; no Kafka imports.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass(frozen=True)
class Source:
    """Where a message was read: topic[partition]@offset."""

    topic: str
    partition: int
    offset: int

    def __str__(self) -> str:
        return f"{self.topic}[{self.partition}]@{self.offset}"


def dead_letter(
    original: bytes | None,
    key: bytes | None,
    source: Source,
    reason: str,
    detail: str,
    rejected_at: datetime | None = None,
) -> bytes:
    """The rejected-topic document: reason code, human detail, source and the exact bytes.

    ``reason`` is a short stable code (``undecodable``, ``unknown_station`` ...) to count by;
    ``detail`` says what was wrong and where, for a person.
    """
    when = rejected_at or datetime.now(UTC)
    doc = {
        "reason": reason,
        "detail": detail,
        "source": {"topic": source.topic, "partition": source.partition, "offset": source.offset},
        "key_b64": base64.b64encode(key).decode("ascii") if key is not None else None,
        "original_b64": base64.b64encode(original).decode("ascii")
        if original is not None
        else None,
        "rejected_at": when.isoformat(),
    }
    return json.dumps(doc, ensure_ascii=False, sort_keys=True).encode("utf-8")


def original_bytes(document: bytes) -> bytes | None:
    """The original message bytes kept in a dead-letter document."""
    encoded = json.loads(document)["original_b64"]
    return None if encoded is None else base64.b64decode(encoded)
