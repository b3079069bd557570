"""The alert and notify agents and the alert clock: thin loops over the handlers of
:mod:`streams.agents.alert_handlers`, wired here to Faust tables and topics.

- **alert** reads ``wq.reports.assessed`` (each report carries its evaluation's rule events) and
  ``wq.alerts.commands`` (acknowledgements, silences, clock ticks), both keyed by station, in one
  stream, so one station's state is changed by one input at a time. Its
  :class:`~streams.agents.alert_handlers.AlertHandler` keeps each station's
  :class:`~alerts.lifecycle.StationAlerts` in the ``alert-state`` table and sends the changes of
  one input to ``wq.alerts`` as one ``changes`` document.
- **notify** reads the ``changes`` documents of ``wq.alerts``; its
  :class:`~streams.agents.alert_handlers.NotifyHandler` delivers them and writes a ``delivery``
  document per receiver back to ``wq.alerts``; delivered pairs are kept in ``alert-notified``.
- the **clock** (on the leader only) sends a tick to every partition of the commands topic;
  each tick visits the stations whose state lives in that partition.

Each agent yields what it sent for each message (faust's ``agent.test_context()`` collects it).
What a message can get wrong is dead-lettered (alert) or skipped (notify) by the handlers; any
other exception is a bug, and the worker stops with it (like the store).
The HTTP API and the console are in :mod:`streams.agents.alert_views`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import faust

from alerts.config import AlertsConfig
from alerts.notifiers import Notifiers
from alerts.records import TickCommand, encode
from stations.registry import Registry
from streams.agents import alert_views
from streams.agents.alert_handlers import AlertHandler, DeliveredLog, NotifyHandler, Send
from streams.gaps import GapGuard

log = logging.getLogger(__name__)

_T = TypeVar("_T")


@dataclass(frozen=True)
class Partitioning:
    """Which stations live in which partition (Kafka's default partitioner: murmur2 of the key),
    so a clock tick read from partition p visits exactly the stations whose state is there."""

    by_partition: Mapping[int, tuple[str, ...]]

    @classmethod
    def of(cls, stations: Iterable[str], partitions: int) -> Partitioning:
        from kafka.partitioner.default import murmur2

        table: dict[int, list[str]] = {p: [] for p in range(partitions)}
        for station in stations:
            table[(murmur2(station.encode()) & 0x7FFFFFFF) % partitions].append(station)
        return cls({p: tuple(ids) for p, ids in table.items()})


def acknowledged(topic: Any) -> Send:
    """Send to ``topic`` and wait until the broker has the message."""

    async def send(key: bytes | None, value: bytes) -> None:
        await (await topic.send(key=key, value=value))

    return send


def queued(topic: Any) -> Send:
    """Send to ``topic`` through the producer's buffer (not waiting for the broker)."""

    async def send(key: bytes | None, value: bytes) -> None:
        await topic.send(key=key, value=value)

    return send


async def _or_stop(app: faust.App, agent: str, handling: Awaitable[_T]) -> _T:
    """The handler's outcome; an exception it lets through is a bug (what a message can get
    wrong is dead-lettered by the handler): the worker stops with it and exits non-zero, and the
    message, not committed, is read again after the fix."""
    try:
        return await handling
    except Exception as exc:
        log.critical("the %s agent stops: %s: %s", agent, type(exc).__name__, exc, exc_info=exc)
        await app.crash(exc)
        raise


def register(
    app: faust.App,
    topics: Any,
    registry: Registry,
    config: AlertsConfig,
    notifiers: Notifiers,
    tick_seconds: float,
    reader_options: dict[str, Any] | None = None,
) -> tuple[Any, Any]:
    """Declare the tables, agents, clock and web views; returns (state table, notified table).
    ``reader_options`` enable the gap guard (:mod:`streams.gaps`) of both agents."""
    partitions = topics.raw.partitions
    states = app.Table(
        "alert-state",
        key_type=bytes,
        value_type=bytes,
        partitions=partitions,
        help="Alert lifecycle state per station.",
    )
    notified = app.Table(
        "alert-notified",
        key_type=bytes,
        value_type=bytes,
        partitions=partitions,
        help="(change id, receiver) pairs delivered per station.",
    )
    inputs = app.topic(
        topics.assessed.get_topic_name(),
        topics.commands.get_topic_name(),
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
    )
    alerting = AlertHandler(
        registry,
        config,
        states,
        send=acknowledged(topics.alerts),
        reject=queued(topics.rejected),
        assessed_topic=topics.assessed.get_topic_name(),
        by_partition=Partitioning.of((s.id for s in registry), partitions).by_partition,
    )

    async def flush() -> None:
        await app.producer.flush()

    notifying = NotifyHandler(
        config, notifiers.deliver, DeliveredLog(notified, flush), send=queued(topics.alerts)
    )
    alert_guard = GapGuard(app, reader_options)
    notify_guard = GapGuard(app, reader_options)

    @app.agent(inputs, name="alert")
    async def alert(stream: Any) -> AsyncIterator[list[Any]]:
        async for event in stream.events():
            sent = []
            for message in [*await alert_guard.missed(event.message), event.message]:
                sent += await _or_stop(app, "alert", alerting.handle(message))
            yield sent

    @app.agent(topics.alerts, name="notify")
    async def notify(stream: Any) -> AsyncIterator[list[Any]]:
        async for event in stream.events():
            recorded = []
            for message in [*await notify_guard.missed(event.message), event.message]:
                recorded += await _or_stop(app, "notify", notifying.handle(message.value))
            yield recorded

    @app.timer(interval=tick_seconds, on_leader=True)
    async def clock() -> None:
        tick = encode(TickCommand(at=time.time()))
        for partition in range(partitions):
            await topics.commands.send(value=tick, partition=partition)

    alert_views.register(app, topics.commands, registry, states)
    return states, notified
