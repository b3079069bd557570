"""The check agent: every raw report ends in exactly one of assessed or rejected.

At this stage it decodes the report (JSON schema 1, see stations.report) and checks that the
station is in the registry; QC, classification and breach rules plug in here.
"""

from __future__ import annotations

from typing import Any

import faust

from stations.registry import Registry
from stations.report import Report, ReportError, from_json
from streams.deadletter import Source, dead_letter


def check_report(raw: bytes | None, registry: Registry) -> Report:
    """The report in ``raw``, or ReportError with the dead-letter reason and what is wrong."""
    if raw is None:
        raise ReportError("undecodable", "empty message (no value)")
    report = from_json(raw)
    if report.station not in registry:
        raise ReportError("unknown_station", f"station {report.station!r} is not in the registry")
    return report


def register(app: faust.App, topics: Any, registry: Registry) -> None:
    @app.agent(topics.raw, name="check")
    async def check(stream: Any) -> None:
        async for event in stream.events():
            message = event.message
            try:
                report = check_report(message.value, registry)
            except ReportError as exc:
                source = Source(message.topic, message.partition, message.offset)
                letter = dead_letter(message.value, message.key, source, exc.reason, str(exc))
                await topics.rejected.send(key=message.key, value=letter)
                continue
            await topics.assessed.send(key=report.station.encode(), value=report.to_json())
