"""Guard against offsets the consumer skipped.

faust-streaming 0.15.3 can skip messages of a partition a worker keeps across a rebalance: after
the seek back to the committed offset, a message prefetched before the rebalance arrives first,
its ``_drain_messages`` marks the offsets below it as a gap (acknowledged) and then drops the
re-fetched messages below its read offset. Nothing reaches the agent, and the commit moves past
them: they would be lost.

The raw topic is never compacted and has no transactional producers, so its offsets are
contiguous (the same holds for the topics the project's agents write: no compaction, no
transactions): a jump from offset n to m > n + 1 in one partition means n + 1 .. m - 1 were
skipped. :class:`OffsetGaps` finds such jumps (pure); :func:`read_range` reads the skipped
messages directly from the partition (no consumer group) and :class:`GapGuard` hands them to the
agent to process before m. A false alarm is harmless: a message processed twice is recognised as
a replay (check agent), changes nothing (alert agent: the same input twice) or overwrites itself
(store).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Gap:
    """Offsets ``start`` .. ``end - 1`` of one partition never reached the agent."""

    topic: str
    partition: int
    start: int
    end: int

    def __str__(self) -> str:
        return f"{self.topic}[{self.partition}]@{self.start}..{self.end - 1}"


@dataclass
class OffsetGaps:
    """The next offset expected per partition a worker holds."""

    expected: dict[tuple[str, int], int] = field(default_factory=dict)

    def seen(self, topic: str, partition: int, offset: int) -> Gap | None:
        """Record a delivered message; the skipped range before it, if any. Redeliveries (offsets
        below the expected one) are not gaps."""
        tp = (topic, partition)
        expected = self.expected.get(tp)
        if expected is not None and offset < expected:
            return None
        self.expected[tp] = offset + 1
        if expected is not None and offset > expected:
            return Gap(topic, partition, expected, offset)
        return None

    def keep(self, held: set[tuple[str, int]]) -> None:
        """After a rebalance: forget the partitions no longer held. Another worker may process
        them meanwhile, so a later jump on them is not a gap of ours."""
        for tp in list(self.expected):
            if tp not in held:
                del self.expected[tp]


@dataclass(frozen=True)
class RawMessage:
    """A message read outside Faust, shaped like the parts of a Faust message the agent uses."""

    topic: str
    partition: int
    offset: int
    timestamp: float  # seconds since the epoch, like faust's Message.timestamp
    key: bytes | None
    value: bytes | None


def read_range(options: dict[str, Any], gap: Gap, timeout: float = 60.0) -> list[RawMessage]:
    """The messages at the gap's offsets, read with kafka-python from the partition itself
    (blocking; run it in a thread). Raises TimeoutError if they cannot all be read in time."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(**options, group_id=None, enable_auto_commit=False)
    try:
        tp = TopicPartition(gap.topic, gap.partition)
        consumer.assign([tp])
        consumer.seek(tp, gap.start)
        found: list[RawMessage] = []
        deadline = time.monotonic() + timeout
        while consumer.position(tp) < gap.end:
            if time.monotonic() > deadline:
                raise TimeoutError(f"could not read {gap} within {timeout:.0f} s")
            for record in consumer.poll(timeout_ms=500).get(tp, []):
                if record.offset < gap.end:
                    found.append(
                        RawMessage(
                            record.topic,
                            record.partition,
                            record.offset,
                            record.timestamp / 1000.0,
                            record.key,
                            record.value,
                        )
                    )
        return found
    finally:
        consumer.close()


class GapGuard:
    """Per agent: the messages the consumer skipped before the one it delivers now."""

    def __init__(self, app: Any, reader_options: dict[str, Any] | None) -> None:
        self.gaps = OffsetGaps()
        self.reader_options = reader_options

        async def held(app: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
            assigned: set[Any] = args[0]
            self.gaps.keep({(tp.topic, tp.partition) for tp in assigned})

        self._held = held  # signals keep strong references, but keep ours too
        app.on_partitions_assigned.connect(held)

    async def missed(self, message: Any) -> list[RawMessage]:
        """The skipped messages before ``message`` (usually none), oldest first."""
        gap = self.gaps.seen(message.topic, message.partition, message.offset)
        if gap is None:
            return []
        if self.reader_options is None:
            log.error("offsets %s were skipped by the consumer and no reader is set", gap)
            return []
        log.warning("offsets %s were skipped by the consumer: reading them directly", gap)
        try:
            return await asyncio.to_thread(read_range, self.reader_options, gap)
        except Exception:  # a crash loop would lose more than this range
            log.exception("could not read the skipped offsets %s", gap)
            return []
