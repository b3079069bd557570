"""The check agent: every raw report ends in exactly one of assessed or rejected.

At this stage it decodes (JSON object naming its station) and forwards; validation and assessment
against the domain core plug in here.
"""

from __future__ import annotations

import json
from typing import Any

import faust

from streams.deadletter import Source, dead_letter


class DecodeError(ValueError):
    """The bytes are not a station report; ``reason`` is the dead-letter reason code."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


def decode_report(raw: bytes | None) -> dict[str, Any]:
    """A report from its JSON bytes, or DecodeError saying what is wrong."""
    if raw is None:
        raise DecodeError("undecodable", "empty message (no value)")
    try:
        doc = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DecodeError("undecodable", f"not UTF-8 JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise DecodeError("undecodable", f"expected a JSON object, got {type(doc).__name__}")
    station = doc.get("station")
    if not isinstance(station, str) or not station:
        raise DecodeError("invalid", "field 'station' is missing or not a non-empty string")
    return doc


def register(app: faust.App, topics: Any) -> None:
    @app.agent(topics.raw, name="check")
    async def check(stream: Any) -> None:
        async for event in stream.events():
            message = event.message
            try:
                report = decode_report(message.value)
            except DecodeError as exc:
                source = Source(message.topic, message.partition, message.offset)
                letter = dead_letter(message.value, message.key, source, exc.reason, str(exc))
                await topics.rejected.send(key=message.key, value=letter)
                continue
            key = report["station"].encode("utf-8")
            await topics.assessed.send(
                key=key, value=json.dumps(report, ensure_ascii=False).encode("utf-8")
            )
