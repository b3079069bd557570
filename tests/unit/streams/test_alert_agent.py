"""The alert and notify agents under faust's ``agent.test_context()``: the real agents, tables and
handlers, with recording sends instead of a broker and a recording notifier."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from types import SimpleNamespace
from typing import Any
from uuid import uuid4

import faust
import pytest
import pytest_asyncio

from alerts.records import (
    AckCommand,
    AlertChanges,
    AlertState,
    ReceiverDelivery,
    Transition,
    What,
    decode_alerts,
    encode,
)
from streams.agents import alert
from tests.unit.streams.alerting import (
    REGISTRY,
    START,
    TP_ALERT,
    TPQ,
    Delivered,
    Flushes,
    Sent,
    assessed,
    config,
)

T1 = (START + timedelta(hours=1, minutes=5)).timestamp()
NAMES = ("raw", "assessed", "rejected", "breaches", "alerts", "commands")


class Worker:
    """A Faust app with the alert agents registered on topics whose sends are recorded."""

    def __init__(self) -> None:
        """Build it within the test's event loop."""
        self.app = faust.App(f"test-alerts-{uuid4().hex[:8]}", broker="kafka://127.0.0.1:1")
        self.sent: dict[str, Sent] = {}
        topics = {}
        for name in NAMES:
            topic = self.app.topic(
                f"wq.{name}",
                key_type=bytes,
                value_type=bytes,
                key_serializer="raw",
                value_serializer="raw",
                partitions=4,
            )
            self.sent[name] = Sent()
            topic.send = self._sender(self.sent[name])  # type: ignore[method-assign]
            topics[name] = topic
        self.topics = SimpleNamespace(**topics)
        self.delivered = Delivered()
        self.flushes = Flushes()
        self.app.producer.flush = self.flushes  # type: ignore[method-assign]
        notifiers = SimpleNamespace(deliver=self.delivered)
        self.states, self.notified = alert.register(
            self.app, self.topics, REGISTRY, config(), notifiers, tick_seconds=3600.0
        )

    @staticmethod
    def _sender(sent: Sent) -> Any:
        async def send(key: bytes | None = None, value: bytes = b"", **_: Any) -> Any:
            await sent(key, value)
            future: Any = asyncio.get_running_loop().create_future()
            future.set_result(None)
            return future

        return send

    def close(self) -> None:
        """Close the event loop of the consumer thread the stream created (never started: the
        test context reads from a channel, not from Kafka)."""
        consumer = self.app._consumer
        if consumer is not None:
            consumer._thread.thread_loop.close()

    def documents(self, name: str = "alerts") -> list[Any]:
        return [decode_alerts(value) for _, value in self.sent[name].messages]


@pytest_asyncio.fixture
async def worker() -> AsyncIterator[Worker]:
    """A worker built within the test's event loop."""
    built = Worker()
    yield built
    built.close()


async def put(agent: Any, topic: str, value: bytes, **options: Any) -> Any:
    """``agent.put`` of a message read from ``topic`` (the alert agent reads two topics, so
    faust's test wrapper cannot name the topic itself)."""
    original = agent.to_message

    def to_message(*args: Any, **kwargs: Any) -> Any:
        message = original(*args, **kwargs)
        message.topic = topic
        return message

    agent.to_message = to_message
    try:
        return await agent.put(value, **options)
    finally:
        agent.to_message = original


@pytest.mark.asyncio
async def test_the_alert_agent_fires_and_acknowledges_through_its_table(worker: Worker) -> None:
    first, second = assessed(TPQ, [0.30, 0.31])
    async with worker.app.agents["alert"].test_context() as agent:
        await put(agent, "wq.assessed", first, key=TPQ.encode(), timestamp=T1 - 3600)
        await put(agent, "wq.assessed", second, key=TPQ.encode(), timestamp=T1)
        ack = AckCommand(station=TPQ, alert=TP_ALERT, by="张三", note="", at=T1 + 60)
        await put(agent, "wq.commands", encode(ack), key=TPQ.encode())
        results = [agent.results[i] for i in range(3)]
    pending, fired, acked = worker.documents()
    assert results == [[pending], [fired], [acked]]
    assert all(isinstance(doc, AlertChanges) for doc in (pending, fired, acked))
    assert [c.what for c in fired.changes] == [What(Transition.FIRING)]
    assert [c.what for c in acked.changes] == [What(Transition.ACKNOWLEDGED)]
    assert json.loads(worker.states[TPQ.encode()])["alerts"][0]["state"] == AlertState.ACKNOWLEDGED
    assert worker.sent["rejected"].messages == []


@pytest.mark.asyncio
async def test_the_alert_agent_dead_letters_a_bad_command_and_goes_on(worker: Worker) -> None:
    (first,) = assessed(TPQ, [0.30])
    async with worker.app.agents["alert"].test_context() as agent:
        await put(agent, "wq.commands", b'{"kind":"ack","station":"SH-CJ-009"}', key=b"k")
        await put(agent, "wq.assessed", first, key=TPQ.encode(), timestamp=T1 - 3600)
    ((key, letter),) = worker.sent["rejected"].messages
    assert key == b"k" and json.loads(letter)["reason"] == "alert_input"
    assert "missing required field" in json.loads(letter)["detail"]
    (pending,) = worker.documents()
    assert isinstance(pending, AlertChanges) and pending.station == TPQ


@pytest.mark.asyncio
async def test_the_notify_agent_delivers_once_per_receiver_and_never_twice(worker: Worker) -> None:
    first, second = assessed(TPQ, [0.30, 0.31])
    async with worker.app.agents["alert"].test_context() as agent:
        await put(agent, "wq.assessed", first, key=TPQ.encode(), timestamp=T1 - 3600)
        await put(agent, "wq.assessed", second, key=TPQ.encode(), timestamp=T1)
    changes = [value for _, value in worker.sent["alerts"].messages]
    async with worker.app.agents["notify"].test_context() as agent:
        for value in changes:
            await agent.put(value, key=TPQ.encode())
        await agent.put(changes[-1], key=TPQ.encode())  # a replay
        results = [agent.results[i] for i in range(3)]
    assert results[0] == [] and results[2] == []  # pending pages nobody; the replay nobody again
    assert sorted(r.receiver for r in results[1]) == ["js-t1", "sh-t1", "tba-t1"]
    assert sorted(worker.delivered.receivers) == ["js-t1", "sh-t1", "tba-t1"]
    deliveries = worker.documents()[len(changes) :]
    assert deliveries == results[1] and all(isinstance(d, ReceiverDelivery) for d in deliveries)
    assert worker.flushes.count == 3
    remembered = json.loads(worker.notified[TPQ.encode()])
    assert sorted(k.split(">")[1] for k in remembered) == ["js-t1", "sh-t1", "tba-t1"]


@pytest.mark.asyncio
async def test_a_bug_in_the_alert_agent_stops_the_worker(
    worker: Worker, monkeypatch: pytest.MonkeyPatch
) -> None:
    crashes: list[BaseException] = []

    async def crash(exc: BaseException) -> None:
        crashes.append(exc)

    def broken(*args: Any) -> None:
        raise TypeError("a bug")

    monkeypatch.setattr(worker.app, "crash", crash)
    monkeypatch.setattr("alerts.lifecycle.StationAlerts.evaluation", broken)
    (first,) = assessed(TPQ, [0.30])
    with pytest.raises(TypeError, match="a bug"):
        async with worker.app.agents["alert"].test_context() as agent:
            await put(agent, "wq.assessed", first, key=TPQ.encode(), timestamp=T1)
    assert [str(exc) for exc in crashes] == ["a bug"]
    assert worker.sent["rejected"].messages == [] and worker.sent["alerts"].messages == []
