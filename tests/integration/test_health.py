"""GET /health of a real `basin worker` and a real `basin store` (streams/health.py)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from streams.health import fetch_health
from streams.topics import publish_all
from tests.integration.conftest import Influx, TopicSet
from tests.integration.test_kafka_broker import consume
from tests.integration.test_worker import report

TOPICS = ("raw", "assessed", "rejected", "breaches", "alerts", "commands")


def health_until(
    url: str, settled: Callable[[dict[str, Any]], bool], timeout: float = 60
) -> dict[str, Any]:
    """Poll a /health URL until it answers 200 with a document ``settled`` accepts."""
    deadline = time.monotonic() + timeout
    while True:
        status, document = fetch_health(url)
        if status == 200 and settled(document):
            return document
        assert time.monotonic() < deadline, f"not settled in {timeout} s: {status} {document}"
        time.sleep(0.2)


def caught_up(topic: str) -> Callable[[dict[str, Any]], bool]:
    return lambda document: set(document["lag"][topic].values()) == {0}


def test_the_worker_answers_200_with_its_partitions_and_their_lag(
    kafka: str, topics: TopicSet, start_worker: Any
) -> None:
    topics.create(*TOPICS)
    raw = topics.name("raw")
    publish_all(kafka, raw, [(b"JS-TH-028", report(hour)) for hour in (0, 4, 8)])
    worker = start_worker(topics.worker_env())

    ready = worker.wait_ready()

    every = list(range(topics.partitions))
    assert ready["ready"] is True and ready["app"] == topics.prefix
    reads = ("raw", "assessed", "alerts", "commands")  # no changelog: read only in a recovery
    assert ready["partitions"] == {topics.name(suffix): every for suffix in reads}
    assert set(ready["lag"][raw]) == {str(p) for p in every}
    assert len(consume(kafka, topics.name("assessed"), want=3, timeout_ms=60000)) == 3
    settled = health_until(worker.health_url, caught_up(raw))
    assert sorted(settled["highwater"][raw].values()) == [0] * (topics.partitions - 1) + [3], (
        "the three reports of one station are in one partition"
    )
    assert worker.stop() == 0, worker.output()[-3000:]


def test_the_store_answers_200_with_its_partitions_and_their_lag(
    kafka: str, influx: Influx, topics: TopicSet, start_worker: Any
) -> None:
    topics.create(*TOPICS)
    assessed = topics.name("assessed")
    publish_all(kafka, assessed, [(b"JS-TH-028", b"not json")] * 2)
    store = start_worker(topics.worker_env(**influx.env()), name="store", command="store")

    ready = store.wait_ready()

    every = list(range(topics.partitions))
    assert ready["ready"] is True and ready["app"] == f"{topics.prefix}-store"
    assert ready["partitions"] == {
        topics.name(s): every for s in ("assessed", "breaches", "alerts", "rejected")
    }
    assert len(consume(kafka, topics.name("rejected"), want=2, timeout_ms=60000)) == 2
    settled = health_until(store.health_url, caught_up(assessed))
    assert sum(settled["highwater"][assessed].values()) == 2
    assert set(settled["lag"][topics.name("breaches")].values()) == {0}
    assert store.stop() == 0, store.output()[-3000:]
