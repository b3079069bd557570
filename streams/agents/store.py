"""The store agent: assessed reports, rule events and alert changes into InfluxDB, at least once.

It takes messages in batches (``BASIN_STORE_BATCH_SIZE`` or ``BASIN_STORE_FLUSH_SECONDS``,
whichever comes first), turns them into points (:mod:`streams.store.points`) and waits until
InfluxDB has stored them (:class:`~streams.store.writer.BatchWriter` retries while it is down:
:class:`~streams.errors.StoreUnavailable`).
Only then does the batch count as processed, so the consumer commits only offsets whose points are
written. While InfluxDB is down the agent waits: the batch stays in memory and nothing more is
taken (backpressure, bounded by the batch size and Faust's stream buffer).

With a :class:`~streams.store.views.Router` (``BASIN_STORE_VIEWS``), each point also goes to the
view bucket of every party the sharing list shares it with in real time, with only the fields it
shares, before the batch counts as processed; the delayed and averaged views are derived on a
timer (:mod:`streams.store.derive`, registered by :func:`register_deriver`).

A message that does not decode into its record (:class:`~stations.errors.MessageError`), or whose
points InfluxDB refuses (HTTP 400, :class:`~streams.errors.DataRejected`), goes to the rejected
topic with its original bytes and the reason (``store_invalid``, ``store_rejected``). Any other
error (a wrong token, org or bucket, a bug) stops the worker loudly instead of being retried.

The agent also reads the rejected topic itself: each dead letter becomes one ``rejected`` point
(:func:`~streams.store.points.rejected_point`; the data-quality board counts them by reason).
A dead letter is never dead-lettered again, or the store's own dead letters could go round for
ever: one that does not decode, or whose point InfluxDB refuses, is logged, counted
(``WriteStats.dropped_dead_letters``) and skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import faust
from influxdb_client import Point, WritePrecision

from alerts.errors import RecordError
from alerts.records import decode_alerts
from stations.errors import MessageError
from stations.formats.assessed import AssessedReport
from stations.formats.records import decode
from stations.registry import Registry
from stations.rules.events import RuleEvent
from streams.deadletter import DeadLetter, Source, dead_letter
from streams.errors import DataRejected, PointError
from streams.gaps import GapGuard
from streams.store.derive import Deriver
from streams.store.influx import classify
from streams.store.points import (
    alert_points,
    assessed_points,
    event_point,
    line_protocol,
    rejected_point,
)
from streams.store.views import Router
from streams.store.writer import BatchWriter

log = logging.getLogger(__name__)


def message_points(
    topic: str, assessed_topic: str, value: bytes | None, alerts_topic: str = ""
) -> list[Point]:
    """The points of one message of the assessed, breaches or alerts topic, its record chosen by
    topic, never guessed from content; PointError when it does not decode into it."""
    try:
        if topic == assessed_topic:
            return assessed_points(decode(value or b"", AssessedReport))
        if topic == alerts_topic:
            return alert_points(decode_alerts(value))
        return [event_point(decode(value or b"", RuleEvent))]
    except (MessageError, RecordError) as exc:
        raise PointError(str(exc)) from exc


def message_lines(
    topic: str, assessed_topic: str, value: bytes | None, alerts_topic: str = ""
) -> list[str]:
    """The line protocol of one message (:func:`message_points`)."""
    return line_protocol(message_points(topic, assessed_topic, value, alerts_topic))


async def write_points(
    writer: BatchWriter,
    points: list[Point],
    router: Router | None,
    precision: str = WritePrecision.S,
) -> None:
    """The points into the main bucket, then into the views they are shared with."""
    ns = precision if precision != WritePrecision.S else None
    await writer.write(line_protocol(points, precision), precision=ns)
    if router is not None:
        for bucket, shared in router.route_all(points).items():
            await writer.write(line_protocol(shared, precision), bucket=bucket, precision=ns)


#: Dead-letters a message: ``reject(message, reason, detail)``.
Reject = Callable[[Any, str, str], Awaitable[None]]


@dataclass
class Storer:
    """What the store agent does with one batch of messages (the agent adds Kafka around it)."""

    writer: BatchWriter
    reject: Reject
    assessed_topic: str
    alerts_topic: str
    rejected_topic: str
    registry: Registry
    router: Router | None = None

    async def store_batch(self, messages: Sequence[Any]) -> None:
        """Write the points of ``messages``; dead-letter those that cannot be (never a dead
        letter: :meth:`store_letters`). Returns once everything that can be is stored."""
        batch: list[tuple[Any, list[Point]]] = []
        letters: list[Any] = []
        for message in messages:
            if message.topic == self.rejected_topic:
                letters.append(message)
                continue
            try:
                points = message_points(
                    message.topic, self.assessed_topic, message.value, self.alerts_topic
                )
                batch.append((message, points))
            except PointError as exc:
                await self.reject(message, "store_invalid", str(exc))
        writer, router = self.writer, self.router
        try:
            await write_points(writer, [point for _, points in batch for point in points], router)
        except DataRejected:
            # find the messages InfluxDB refuses; the others are written one by one
            for message, points in batch:
                try:
                    await write_points(writer, points, router)
                except DataRejected as exc:
                    writer.stats.rejected_lines += len(points)
                    await self.reject(
                        message, "store_rejected", f"InfluxDB refused the points: {exc}"
                    )
        await self.store_letters(letters)

    def _drop(self, message: Any, why: str) -> None:
        self.writer.stats.dropped_dead_letters += 1
        where = Source(message.topic, message.partition, message.offset)
        log.error("dead letter %s not stored (not dead-lettered again): %s", where, why)

    async def store_letters(self, messages: Sequence[Any]) -> None:
        """One ``rejected`` point per dead letter. What cannot be stored is logged and counted,
        never sent to the rejected topic again (the loop guard)."""
        found: list[tuple[Any, Point]] = []
        for message in messages:
            try:
                letter = DeadLetter.from_json(message.value or b"")
            except MessageError as exc:
                self._drop(message, f"not a dead letter: {exc}")
                continue
            found.append((message, rejected_point(letter, self.registry)))
        ns = WritePrecision.NS
        try:
            await write_points(self.writer, [point for _, point in found], self.router, ns)
        except DataRejected:
            for message, point in found:
                try:
                    await write_points(self.writer, [point], self.router, ns)
                except DataRejected as exc:
                    self._drop(message, f"InfluxDB refused its point: {exc}")


def register(
    app: faust.App,
    topics: Any,
    writer: BatchWriter,
    batch_size: int,
    flush_seconds: float,
    registry: Registry,
    reader_options: dict[str, Any] | None = None,
    router: Router | None = None,
) -> None:
    """Declare the store agent on the assessed, breaches, alerts and rejected topics (and the
    views, with a router); ``registry`` tells a dead letter's station and jurisdiction."""
    source = app.topic(
        topics.assessed.get_topic_name(),
        topics.breaches.get_topic_name(),
        topics.alerts.get_topic_name(),
        topics.rejected.get_topic_name(),
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
    )

    async def reject(message: Any, reason: str, detail: str) -> None:
        where = Source(message.topic, message.partition, message.offset)
        letter = dead_letter(message.value, message.key, where, reason, detail)
        await (await topics.rejected.send(key=message.key, value=letter))

    storer = Storer(
        writer,
        reject,
        assessed_topic=topics.assessed.get_topic_name(),
        alerts_topic=topics.alerts.get_topic_name(),
        rejected_topic=topics.rejected.get_topic_name(),
        registry=registry,
        router=router,
    )
    guard = GapGuard(app, reader_options)

    @app.agent(source, name="store")
    async def store(stream: Any) -> None:
        async for events in stream.take_events(batch_size, within=flush_seconds):
            messages: list[Any] = []
            for event in events:  # with what the consumer skipped before each (streams.gaps)
                messages += await guard.missed(event.message)
                messages.append(event.message)
            try:
                await storer.store_batch(messages)
            except Exception as exc:
                # Not an outage (the writer waits those out): a refusal such as a wrong token, or
                # a bug. Retrying cannot help, so the worker stops with the reason and exits
                # non-zero; the batch is not committed and is read again after the fix.
                log.critical("the store stops: %s: %s", type(exc).__name__, exc, exc_info=exc)
                await app.crash(exc)
                raise


def register_deriver(
    app: faust.App, deriver: Deriver, query_api: Any, every: float, lookback: float
) -> None:
    """Derive the delayed and averaged views every ``every`` seconds with a sync ``query_api``
    (in a thread), re-reading the last ``lookback`` hours (idempotent: the same points again). An
    outage or refusal is logged and tried again next time; the views catch up then."""

    @app.timer(interval=every, on_leader=True, name="derive_views")
    async def derive_views() -> None:
        now = datetime.now(UTC)
        try:
            rows = await deriver.run_async(query_api, now, now - timedelta(hours=lookback))
        except Exception as exc:
            error = classify(exc)
            if error is None:
                raise
            log.warning("deriving the views failed, tried again in %.0f s: %s", every, error)
            return
        log.info("derived the views up to %s: %d rows", now.isoformat(), rows)
