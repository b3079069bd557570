"""The harness cleans up after itself: a test's topics are gone after it."""

from __future__ import annotations

import uuid

from kafka.admin import KafkaAdminClient

from streams.topics import publish_all
from tests.integration.conftest import TopicSet


def topic_names(bootstrap: str) -> set[str]:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        return set(admin.list_topics())
    finally:
        admin.close()


def test_delete_removes_every_topic_of_the_prefix_and_tolerates_gone_ones(kafka: str) -> None:
    topic_set = TopicSet(prefix=f"t-harness-{uuid.uuid4().hex[:8]}", bootstrap=kafka)
    made = topic_set.create("raw", "assessed")
    other = TopicSet(prefix=f"t-harness-{uuid.uuid4().hex[:8]}", bootstrap=kafka)
    (kept,) = other.create("raw")
    auto = f"{topic_set.prefix}-app-table-changelog"  # as a worker names its changelogs
    publish_all(kafka, auto, [(b"k", b"v")])  # created by the broker on first use
    assert {*made, auto, kept} <= topic_names(kafka)

    assert topic_set.delete() == sorted([*made, auto])

    remaining = topic_names(kafka)
    assert not {*made, auto} & remaining and kept in remaining
    assert topic_set.delete() == []  # nothing left: no error
    assert other.delete() == [kept]
