"""The /health document of the worker and the store worker, and the client that waits for it."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiokafka.errors import IllegalStateError

from streams.health import (
    NotHealthy,
    PartitionState,
    app_health,
    health_document,
    http_status,
    is_ready,
    wait_healthy,
)


def test_the_document_lists_partitions_by_topic_and_the_lag_of_each() -> None:
    states = [
        PartitionState("wq.reports.raw", 1, highwater=120, position=108),
        PartitionState("wq.alerts", 0, highwater=7, position=7),
        PartitionState("wq.reports.raw", 0, highwater=50, position=50),
        PartitionState("wq.reports.raw", 2, highwater=None, position=3),
    ]

    document = health_document("basinwatch", True, states, leader=True)

    assert document == {
        "app": "basinwatch",
        "ready": True,
        "leader": True,
        "partitions": {"wq.alerts": [0], "wq.reports.raw": [0, 1, 2]},
        "lag": {"wq.alerts": {"0": 0}, "wq.reports.raw": {"0": 0, "1": 12, "2": None}},
        "highwater": {"wq.alerts": {"0": 7}, "wq.reports.raw": {"0": 50, "1": 120, "2": None}},
    }
    assert json.loads(json.dumps(document)) == document


def test_no_assignment_gives_empty_maps() -> None:
    assert health_document("store", False, []) == {
        "app": "store",
        "ready": False,
        "leader": False,
        "partitions": {},
        "lag": {},
        "highwater": {},
    }


def test_ready_answers_200_anything_else_503() -> None:
    assert http_status({"ready": True}) == 200
    assert http_status({"ready": False}) == 503
    assert http_status({}) == 503


def test_a_position_past_a_stale_highwater_is_no_negative_lag() -> None:
    assert PartitionState("t", 0, highwater=10, position=12).lag == 0
    assert PartitionState("t", 0, highwater=10, position=None).lag is None


@dataclass(frozen=True)
class TP:
    topic: str
    partition: int


class FakeEvent:
    def __init__(self, is_set: bool) -> None:
        self._set = is_set

    def is_set(self) -> bool:
        return self._set


@dataclass
class FakeConsumer:
    """Faust's consumer API as /health uses it: assignment, highwaters, position."""

    highwater: dict[TP, int]
    position_of: dict[TP, int]
    revoked: set[TP] = field(default_factory=set)

    def assignment(self) -> set[TP]:
        return set(self.highwater) | set(self.position_of)

    async def highwaters(self, *tps: TP) -> dict[TP, int]:
        return {tp: self.highwater[tp] for tp in tps if tp in self.highwater}

    async def position(self, tp: TP) -> int:
        if tp in self.revoked:
            raise IllegalStateError(f"{tp} is not assigned")
        return self.position_of[tp]


@dataclass
class FakeAgent:
    channel: Any


@dataclass
class FakeTopic:
    topics: tuple[str, ...]


class FakeApp:
    """What /health reads of a Faust app: its id, agents, consumer, tables and rebalance state."""

    def __init__(self, consumer: FakeConsumer, *, recovered: bool = True) -> None:
        self.consumer = consumer
        self.conf = type("Conf", (), {"id": "basinwatch"})()
        self.agents = {"check": FakeAgent(FakeTopic(("raw",))), "loop": FakeAgent(object())}
        recovery = type("Recovery", (), {"completed": FakeEvent(recovered)})()
        self.tables = type("Tables", (), {"recovery": recovery})()
        self.rebalancing = False
        self.in_recovery = False

    def is_leader(self) -> bool:
        return True


def test_the_app_document_takes_highwater_minus_position_of_what_the_agents_read() -> None:
    raw0, raw1 = TP("raw", 0), TP("raw", 1)
    changelog, leader = TP("basinwatch-h-changelog", 0), TP("basinwatch-__assignor-__leader", 0)
    consumer = FakeConsumer(
        highwater={raw0: 40, raw1: 9, changelog: 500, leader: 0},
        position_of={raw0: 31, raw1: 9, changelog: 2, leader: 0},
    )

    document = asyncio.run(app_health(FakeApp(consumer)))

    assert document == {
        "app": "basinwatch",
        "ready": True,
        "leader": True,
        "partitions": {"raw": [0, 1]},
        "lag": {"raw": {"0": 9, "1": 0}},
        "highwater": {"raw": {"0": 40, "1": 9}},
    }


def test_a_partition_revoked_while_asked_has_an_unknown_lag() -> None:
    raw0, raw1 = TP("raw", 0), TP("raw", 1)
    consumer = FakeConsumer(highwater={raw0: 4, raw1: 4}, position_of={raw0: 4, raw1: 1})
    consumer.revoked.add(raw1)

    document = asyncio.run(app_health(FakeApp(consumer)))

    assert document["lag"] == {"raw": {"0": 0, "1": None}}


def test_ready_only_after_recovery_and_outside_a_rebalance() -> None:
    app = FakeApp(FakeConsumer({}, {}))
    assert is_ready(app)
    app.rebalancing = True
    assert not is_ready(app)
    app.rebalancing, app.in_recovery = False, True
    assert not is_ready(app)
    assert not is_ready(FakeApp(FakeConsumer({}, {}), recovered=False))


class HealthServer:
    """A real local HTTP server answering /health with 503 a given number of times, then 200."""

    def __init__(self, not_ready_times: int) -> None:
        self.remaining = not_ready_times
        self.requests = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.requests += 1
                ready = owner.remaining <= 0
                owner.remaining -= 1
                body = json.dumps({"ready": ready, "partitions": {}, "lag": {}}).encode()
                self.send_response(200 if ready else 503)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/health"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def not_ready_twice() -> Iterator[HealthServer]:
    server = HealthServer(not_ready_times=2)
    yield server
    server.close()


def test_wait_healthy_polls_through_503_until_200(not_ready_twice: HealthServer) -> None:
    document = wait_healthy(not_ready_twice.url, timeout=10, interval=0.01)

    assert document["ready"] is True
    assert not_ready_twice.requests == 3


def test_wait_healthy_gives_up_at_the_deadline_with_the_last_answer() -> None:
    server = HealthServer(not_ready_times=10**6)
    try:
        with pytest.raises(NotHealthy, match=r"not ready within 0.3 s; last: HTTP 503"):
            wait_healthy(server.url, timeout=0.3, interval=0.05)
    finally:
        server.close()


def test_wait_healthy_stops_when_the_process_is_gone() -> None:
    with pytest.raises(NotHealthy, match="exited before it was ready"):
        wait_healthy("http://127.0.0.1:9/health", timeout=30, alive=lambda: False)
