"""The project's Kafka topics: their specification and idempotent creation.

Every topic is keyed by station id: all of one station stays in one partition, in order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from kafka.admin import KafkaAdminClient, NewPartitions, NewTopic
from kafka.errors import KafkaConnectionError, KafkaError, KafkaTimeoutError

from streams.errors import KafkaUnavailableError, TopicError
from streams.settings import Settings

TOPIC_EXISTS = 36  # Kafka error code TOPIC_ALREADY_EXISTS


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    replication_factor: int
    config: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class TopicState:
    name: str
    partitions: int
    action: str  # "created", "exists", "grown"


def project_topics(settings: Settings) -> list[TopicSpec]:
    """The topics of the design card with the configured partitions and retention."""
    retention = (("retention.ms", str(settings.topic_retention_hours * 3600 * 1000)),)
    return [
        TopicSpec(name, settings.topic_partitions, settings.topic_replication_factor, retention)
        for name in settings.topics
    ]


def admin_client(settings: Settings, **extra: Any) -> KafkaAdminClient:
    options = settings.kafka_client_options() | extra
    try:
        return KafkaAdminClient(**options)
    except (KafkaTimeoutError, KafkaConnectionError) as exc:
        raise KafkaUnavailableError(
            f"no Kafka broker answers at {settings.kafka_bootstrap_servers}; start the local "
            "one with `make up` or set BASIN_KAFKA_BOOTSTRAP_SERVERS"
        ) from exc


def ensure_topics(admin: KafkaAdminClient, specs: Iterable[TopicSpec]) -> list[TopicState]:
    """Create the missing topics, grow those with fewer partitions than asked; never shrink."""
    specs = list(specs)
    try:
        result = admin.create_topics(
            [
                NewTopic(s.name, s.partitions, s.replication_factor, topic_configs=dict(s.config))
                for s in specs
            ],
            raise_errors=False,
            wait_for_metadata=True,
        )
        errors = {
            t["name"]: t for t in result["topics"] if t["error_code"] not in (0, TOPIC_EXISTS)
        }
        if errors:
            detail = "; ".join(f"{n}: {t['error_message']}" for n, t in errors.items())
            raise TopicError(f"could not create topics: {detail}")
        created = {t["name"] for t in result["topics"] if t["error_code"] == 0}
        described = {
            t["name"]: len(t["partitions"]) for t in admin.describe_topics([s.name for s in specs])
        }
        states = []
        grow = {}
        for spec in specs:
            have = described[spec.name]
            if spec.name in created:
                states.append(TopicState(spec.name, have, "created"))
            elif have < spec.partitions:
                grow[spec.name] = NewPartitions(total_count=spec.partitions)
                states.append(TopicState(spec.name, spec.partitions, "grown"))
            else:
                states.append(TopicState(spec.name, have, "exists"))
        if grow:
            admin.create_partitions(grow)
        return states
    except KafkaError as exc:
        raise TopicError(f"Kafka refused the topic request: {exc}") from exc


def publish_all(bootstrap: str, topic: str, messages: Iterable[tuple[bytes | None, bytes]]) -> None:
    """Send (key, value) messages with acks=all and wait until the broker has them all (tests,
    benchmarks and one-off loads; the CLI commands keep their own producers for progress)."""
    from kafka import KafkaProducer

    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20)
    try:
        for key, value in messages:
            producer.send(topic, key=key, value=value)
        producer.flush(timeout=120)
    finally:
        producer.close()
