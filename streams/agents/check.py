"""The check agent: every raw report ends in exactly one of assessed or rejected.

Decoding, validation, QC, classification and rules are the pure :class:`~stations.assessment.
Assessor`; this agent only moves bytes: it reads ``wq.reports.raw``, keeps each station's recent
history in a table (changelogged to Kafka, partitioned like the raw topic) and writes the assessed
report, the breach and recovery events, or a dead letter.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import faust

from stations.assessment import Assessor, History, Replay
from stations.formats.records import encode
from stations.formats.report import ReportError
from streams.deadletter import Source, dead_letter
from streams.gaps import GapGuard


def register(
    app: faust.App, topics: Any, assessor: Assessor, reader_options: dict[str, Any] | None = None
) -> Any:
    """Declare the history table and the agent; returns the table (for tests and views).

    ``reader_options`` (kafka-python connection options) enable the gap guard: offsets the
    consumer skipped in a raw partition are read directly and processed in order.
    """
    history = app.Table(
        "station-history",
        key_type=bytes,  # bytes keys and values are stored raw
        value_type=bytes,
        partitions=topics.raw.partitions,
        help="Recent accepted reports per station (QC history, duplicate window).",
    )
    guard = GapGuard(app, reader_options)

    async def handle(message: Any) -> None:
        source = Source(message.topic, message.partition, message.offset)
        received = datetime.fromtimestamp(message.timestamp, UTC)
        try:
            report = assessor.check(message.value, received)
            key = report.station.encode()
            outcome = assessor.assess(report, History.from_json(history.get(key)), str(source))
        except Replay:
            return  # redelivered after a restart; its outputs were acknowledged before
        except ReportError as exc:
            letter = dead_letter(message.value, message.key, source, exc.reason, str(exc))
            await topics.rejected.send(key=message.key, value=letter)
            return
        # Outputs first, acknowledged by the broker; only then the history that marks the
        # message as done. A crash in between redelivers the message: same outputs again.
        sent = [await topics.assessed.send(key=key, value=encode(outcome.assessed))]
        for event in outcome.events:
            sent.append(await topics.breaches.send(key=key, value=encode(event)))
        for future in sent:
            await future
        history[key] = outcome.history.to_json()

    @app.agent(topics.raw, name="check")
    async def check(stream: Any) -> None:
        async for event in stream.events():
            for missed in await guard.missed(event.message):
                await handle(missed)
            await handle(event.message)

    return history
