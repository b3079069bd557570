"""The local broker does what the pipeline relies on: round trips, commits, durability."""

from __future__ import annotations

import asyncio
import json

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from kafka import KafkaConsumer, TopicPartition

from streams.topics import publish_all
from tests.integration.conftest import TopicSet, kafka_script


def consume(
    bootstrap: str, topic: str, want: int, group: str | None = None, timeout_ms: int = 15000
) -> list[tuple[bytes, bytes, int, int]]:
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=timeout_ms,
    )
    got = []
    try:
        for record in consumer:
            got.append((record.key, record.value, record.partition, record.offset))
            if len(got) >= want:
                break
        if group is not None:
            consumer.commit()
    finally:
        consumer.close()
    return got


def reports(n: int, station: str = "JS-TH-001") -> list[tuple[bytes, bytes]]:
    return [
        (
            station.encode(),
            json.dumps({"station": station, "seq": i, "tp": 0.05 + i / 1000}).encode(),
        )
        for i in range(n)
    ]


def test_kafka_python_round_trip_keeps_bytes_and_per_key_order(
    kafka: str, topics: TopicSet
) -> None:
    (topic,) = topics.create("raw")
    sent = reports(50, "JS-TH-001") + reports(50, "ZJ-TH-002")
    publish_all(kafka, topic, sent)

    got = consume(kafka, topic, want=100)

    assert sorted((k, v) for k, v, _, _ in got) == sorted(sent)
    for station in (b"JS-TH-001", b"ZJ-TH-002"):
        mine = [(json.loads(v)["seq"], p) for k, v, p, _ in got if k == station]
        assert [seq for seq, _ in mine] == list(range(50)), "per-station order must hold"
        assert len({p for _, p in mine}) == 1, "one station, one partition"


def test_aiokafka_round_trip(kafka: str, topics: TopicSet) -> None:
    (topic,) = topics.create("raw")
    sent = reports(20, "SH-TH-003")

    async def run() -> list[tuple[bytes | None, bytes | None]]:
        producer = AIOKafkaProducer(bootstrap_servers=kafka, acks="all")
        await producer.start()
        try:
            for key, value in sent:
                await producer.send_and_wait(topic, value=value, key=key)
        finally:
            await producer.stop()
        consumer = AIOKafkaConsumer(topic, bootstrap_servers=kafka, auto_offset_reset="earliest")
        await consumer.start()
        got = []
        try:
            async with asyncio.timeout(30):
                async for record in consumer:
                    got.append((record.key, record.value))
                    if len(got) == len(sent):
                        break
        finally:
            await consumer.stop()
        return got

    assert asyncio.run(run()) == sent


def test_consumer_group_resumes_after_its_last_commit(kafka: str, topics: TopicSet) -> None:
    (topic,) = topics.create("raw", partitions=1)
    publish_all(kafka, topic, reports(10))

    first = consume(kafka, topic, want=4, group=topics.group)
    assert [json.loads(v)["seq"] for _, v, _, _ in first] == [0, 1, 2, 3]

    publish_all(kafka, topic, reports(2, "AH-TH-004"))
    rest = consume(kafka, topic, want=8, group=topics.group)
    assert [json.loads(v)["seq"] for _, v, _, _ in rest] == [4, 5, 6, 7, 8, 9, 0, 1]
    assert rest[0][3] == 4, "resumes at the committed offset, not at the start"

    consumer = KafkaConsumer(bootstrap_servers=kafka, group_id=topics.group)
    try:
        committed = consumer.committed(TopicPartition(topic, 0))
    finally:
        consumer.close()
    assert committed == 12


def test_messages_survive_a_broker_restart(kafka: str, topics: TopicSet) -> None:
    (topic,) = topics.create("raw", partitions=2)
    sent = reports(30, "JS-TH-005")
    publish_all(kafka, topic, sent)

    kafka_script("stop")
    kafka_script("start")

    got = consume(kafka, topic, want=30, timeout_ms=30000)
    assert [(k, v) for k, v, _, _ in got] == sent
    assert got[0][3] == 0, "read again from offset 0 after the restart"


def test_gap_reader_returns_exactly_the_skipped_offsets(kafka: str, topics: TopicSet) -> None:
    from streams.gaps import Gap, read_range

    (topic,) = topics.create("raw")
    publish_all(kafka, topic, reports(40, "JS-TH-001"))  # one key: one partition, offsets 0..39
    partition = consume(kafka, topic, want=40)[0][2]

    missed = read_range({"bootstrap_servers": [kafka]}, Gap(topic, partition, 12, 20))

    assert [m.offset for m in missed] == list(range(12, 20))
    assert [json.loads(m.value or b"")["seq"] for m in missed] == list(range(12, 20))
    assert all(m.key == b"JS-TH-001" and m.timestamp > 1e9 for m in missed)
