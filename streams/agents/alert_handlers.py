"""What the alert and notify agents do with one message, given their transports.

The handlers hold no Kafka or Faust object: a table is any mutable mapping of bytes, and each
outbound transport is an async callable (:class:`Send` for a topic, :class:`Deliver` for the
notifiers). ``streams.agents.alert`` wires them to Faust tables and topics; unit tests drive them
with dicts and recording transports.

- :class:`AlertHandler` applies assessed reports and commands to each station's
  :class:`~alerts.lifecycle.StationAlerts` and sends the changes of one input as one ``changes``
  document, before storing the state (a crash in between repeats the same changes, same ids).
  An input that is not a valid record, or a command the state refuses, becomes a dead letter.
- :class:`NotifyHandler` routes a ``changes`` document to the receivers on duty, delivers, and
  records each receiver's outcome as a ``delivery`` document. :class:`DeliveredLog` remembers
  the (change id, receiver) pairs delivered, flushed before anything else happens, so a restart
  or a replay pages nobody twice.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping, Sequence
from datetime import UTC, datetime
from typing import Protocol

from alerts.channels import Channel, Message
from alerts.commands import silence_of
from alerts.config import AlertsConfig
from alerts.errors import CommandRefusedError, RecordError
from alerts.lifecycle import Policy, StationAlerts, iso
from alerts.messages import render
from alerts.records import (
    AckCommand,
    AlertChanges,
    Change,
    ChannelDelivery,
    Command,
    ReceiverDelivery,
    SilenceCommand,
    TickCommand,
    decode_alerts,
    decode_command,
    encode,
)
from alerts.routing import max_tier, plan
from stations.errors import MessageError, UnknownStationError
from stations.formats.assessed import AssessedReport
from stations.formats.records import decode
from stations.registry import Registry
from streams.deadletter import Source, dead_letter

log = logging.getLogger(__name__)

#: Changes delivered per station that are remembered, to never deliver one twice.
DELIVERED_KEEP = 2000


class Send(Protocol):
    """Write ``value`` under ``key`` to a topic; returns when the transport took it."""

    async def __call__(self, key: bytes | None, value: bytes) -> None: ...


class Deliver(Protocol):
    """Deliver a message to a receiver over a channel, never raising (the notifiers)."""

    async def __call__(
        self, receiver: str, channel: Channel, message: Message
    ) -> ChannelDelivery: ...


class Input(Protocol):
    """A message read from a topic (a Faust message, or one the gap guard read)."""

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def timestamp(self) -> float: ...
    @property
    def key(self) -> bytes | None: ...
    @property
    def value(self) -> bytes | None: ...


def policy_of(config: AlertsConfig) -> Policy:
    """The lifecycle's timing from the alerts configuration, its tiers from the rotas."""
    timing = config.timing
    return Policy(
        repeat=timing.repeat,
        escalate=timing.escalate,
        silent_intervals=timing.silent_intervals,
        hysteresis=timing.hysteresis,
        max_tier=functools.partial(max_tier, config),
    )


class AlertHandler:
    """Assessed reports and alert commands -> the stations' states and ``changes`` documents.

    ``states`` is the ``alert-state`` table (station id -> :meth:`StationAlerts.to_json`);
    ``send`` writes a ``changes`` document to ``wq.alerts`` and returns once the broker has it;
    ``reject`` writes a dead letter. A clock tick read from partition p visits the stations
    ``by_partition[p]`` (those whose state lives there).
    """

    def __init__(
        self,
        registry: Registry,
        config: AlertsConfig,
        states: MutableMapping[bytes, bytes],
        send: Send,
        reject: Send,
        assessed_topic: str,
        by_partition: Mapping[int, Sequence[str]],
    ) -> None:
        self.registry = registry
        self.policy = policy_of(config)
        self.states = states
        self.send = send
        self.reject = reject
        self.assessed_topic = assessed_topic
        self.by_partition = by_partition

    async def handle(self, message: Input) -> list[AlertChanges]:
        """Apply one message of the assessed or the commands topic (chosen by topic, never
        guessed from content); the ``changes`` documents sent. An invalid record, a refused
        command or an unknown station goes to the dead letters; any other error is a bug and
        propagates."""
        try:
            if message.topic == self.assessed_topic:
                return await self.report(message.value, message.timestamp)
            return await self.command(decode_command(message.value), message.partition)
        except (RecordError, MessageError, CommandRefusedError, UnknownStationError) as exc:
            source = Source(message.topic, message.partition, message.offset)
            log.warning("alert input %s refused: %s", source, exc)
            letter = dead_letter(message.value, message.key, source, "alert_input", str(exc))
            await self.reject(message.key, letter)
            return []

    async def report(self, value: bytes | None, received: float) -> list[AlertChanges]:
        """An assessed report (with its rule events) the check agent wrote at ``received``: the
        alert clock is the time the system learned of it."""
        report = decode(value or b"", AssessedReport)
        state = self.load(report.station)
        changes = state.evaluation(report, received, self.policy)
        group = f"{state.station}@{report.observed_at.isoformat()}"
        return await self.emit(state, group, changes)

    async def command(self, command: Command, partition: int) -> list[AlertChanges]:
        """An acknowledgement, a silence or a clock tick (read from ``partition``)."""
        if isinstance(command, TickCommand):
            return await self.tick(command.at, partition)
        state = self.load(command.station)
        if isinstance(command, AckCommand):
            changes = state.acknowledge(command.alert, command.by, command.note, command.at)
            return await self.emit(state, f"{state.station}@ack:{iso(command.at)}", changes)
        assert isinstance(command, SilenceCommand)
        state.add_silence(silence_of(command))
        return await self.emit(state, "", [])

    async def tick(self, now: float, partition: int) -> list[AlertChanges]:
        """Time passed for the stations of ``partition`` that reported at least once."""
        sent: list[AlertChanges] = []
        for station in self.by_partition.get(partition, ()):
            if self.states.get(station.encode()) is None:
                continue  # never reported: cannot fall silent
            state = self.load(station)
            changes = state.tick(now, self.policy)
            if changes:
                sent += await self.emit(state, f"{station}@tick:{iso(now)}", changes)
        return sent

    def load(self, station: str) -> StationAlerts:
        """The state of ``station`` (a fresh one for a station nothing happened at yet)."""
        raw = self.states.get(station.encode())
        if raw is not None:
            return StationAlerts.from_json(raw)
        return StationAlerts.of(self.registry.get(station))

    async def emit(
        self, state: StationAlerts, group: str, changes: Sequence[Change]
    ) -> list[AlertChanges]:
        """Send the changes (if any) as one document, then store the state."""
        key = state.station.encode()
        sent = []
        if changes:
            doc = AlertChanges(state.station, state.name, group, changes[-1].at, tuple(changes))
            await self.send(key, encode(doc))
            sent.append(doc)
        self.states[key] = state.to_json()
        return sent


class DeliveredLog:
    """The (change id, receiver) pairs delivered per station, in the ``alert-notified`` table;
    :meth:`remember` flushes them to Kafka before anything else happens."""

    def __init__(
        self,
        table: MutableMapping[bytes, bytes],
        flush: Callable[[], Awaitable[None]],
        keep: int = DELIVERED_KEEP,
    ) -> None:
        self.table = table
        self.flush = flush
        self.keep = keep

    @staticmethod
    def key(change_id: str, receiver: str) -> str:
        return f"{change_id}>{receiver}"

    def keys_of(self, station: str) -> list[str]:
        """The pairs delivered for ``station``, oldest first."""
        return list(json.loads(self.table.get(station.encode()) or b"[]"))

    async def remember(self, station: str, keys: Iterable[str]) -> None:
        """Add ``keys`` (the oldest forgotten beyond ``keep``) and flush."""
        delivered = self.keys_of(station)
        known = set(delivered)
        merged = delivered + [k for k in keys if k not in known]
        self.table[station.encode()] = json.dumps(merged[-self.keep :]).encode()
        await self.flush()


class NotifyHandler:
    """``changes`` documents -> notifications to the receivers on duty -> ``delivery`` documents.

    ``deliver`` is the notifiers' transport (retrying, never raising); ``delivered`` remembers
    what was delivered; ``send`` writes each receiver's ``delivery`` document to ``wq.alerts``.
    """

    def __init__(
        self,
        config: AlertsConfig,
        deliver: Deliver,
        delivered: DeliveredLog,
        send: Send,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.deliver = deliver
        self.delivered = delivered
        self.send = send
        self.clock = clock

    async def handle(self, value: bytes | None) -> list[ReceiverDelivery]:
        """Notify of one ``wq.alerts`` document (delivery documents are the handler's own)."""
        try:
            doc = decode_alerts(value)
        except RecordError as exc:
            log.warning("notify skips a document the store will reject: %s", exc)
            return []
        if not isinstance(doc, AlertChanges):
            return []
        return await self.notify(doc)

    async def notify(self, doc: AlertChanges) -> list[ReceiverDelivery]:
        """Deliver the changes to every receiver on duty that was not told of them yet."""
        recorded = []
        for receiver, changes in plan(doc, self.config):
            known = set(self.delivered.keys_of(doc.station))
            fresh = [c for c in changes if DeliveredLog.key(c.id, receiver.name) not in known]
            if not fresh:
                continue
            message = render(fresh, receiver.name, self.config.board_url)
            results = await asyncio.gather(
                *(self.deliver(receiver.name, ch, message) for ch in receiver.channels)
            )
            ok = any(result.ok for result in results)
            if ok:  # remembered before anything else happens
                keys = [DeliveredLog.key(c.id, receiver.name) for c in fresh]
                await self.delivered.remember(doc.station, keys)
            record = ReceiverDelivery(
                station=doc.station,
                group=doc.group,
                receiver=receiver.name,
                receiver_name=self.config.display_name(receiver),
                changes=tuple(c.id for c in fresh),
                title=message.title,
                ok=ok,
                at=datetime.fromtimestamp(self.clock(), UTC),
                deliveries=tuple(results),
            )
            await self.send(doc.station.encode(), encode(record))
            recorded.append(record)
        return recorded
