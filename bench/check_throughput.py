"""Check-agent throughput against a bare deserialising consumer, in one run on the local broker.

    .venv/bin/python -m bench.check_throughput [--count 20000] [--seed 1]

1. Fills a fresh topic with ``--count`` simulated ten-parameter water-quality reports (no faults),
   keyed by station as the stations send them.
2. (a) baseline: an aiokafka consumer reads the topic from the start and only deserialises each
   value (``json.loads``).
3. (b) check path: the same consumer, and for each message what the check agent does: decode and
   validate (:meth:`Assessor.check`), load the station's history from the table (a dict here, as
   the memory store), QC + classify + rules (:meth:`Assessor.assess`), serialise the assessed
   report, the events and the new history.

Both run in this one process, one after the other, on one core. Prints both rates and the ratio
(b)/(a); ``--profile`` adds where (b) spends its time.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import pstats
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer
from kafka.admin import KafkaAdminClient, NewTopic

from stations.assessment import Assessor, History
from stations.formats import hj212
from stations.formats.records import encode
from stations.formats.report import from_json
from stations.quality.limits import load_qc_limits
from stations.registry import load_registry
from stations.rules.config import load_rules
from stations.simulation.faults import FaultRates
from stations.simulation.model import simulate
from streams.topics import publish_all

PARTITIONS = 8


def ten_parameter_reports(count: int, seed: int) -> list[tuple[bytes, bytes]]:
    """``count`` simulated reports of the water-quality stations, ten values each."""
    registry = load_registry()
    start = datetime(2021, 4, 1, tzinfo=hj212.BEIJING)
    out: list[tuple[bytes, bytes]] = []
    budget = count * 2
    for emission in simulate(registry, count=budget, seed=seed, faults=FaultRates(), start=start):
        if emission.key is not None and len(from_json(emission.value).readings) == 10:
            out.append((emission.key, emission.value))
            if len(out) == count:
                return out
    raise SystemExit(f"the simulation gave only {len(out)} ten-parameter reports")


def fill(bootstrap: str, topic: str, messages: list[tuple[bytes, bytes]]) -> None:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        admin.create_topics([NewTopic(topic, PARTITIONS, 1)], timeout_ms=30_000)
    finally:
        admin.close()
    publish_all(bootstrap, topic, messages)


async def consume(bootstrap: str, topic: str, count: int, handle: Callable[[Any], None]) -> float:
    """Read ``count`` messages from the start of ``topic`` calling ``handle`` on each; the
    seconds from the first message to the last (start-up and group join excluded)."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"bench-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        max_partition_fetch_bytes=4 * 1024 * 1024,
    )
    await consumer.start()
    try:
        seen = 0
        started = 0.0
        while seen < count:
            batches = await consumer.getmany(timeout_ms=1000, max_records=2000)
            for records in batches.values():
                if records and not seen:
                    started = time.perf_counter()
                for record in records:
                    handle(record)
                    seen += 1
        return time.perf_counter() - started
    finally:
        await consumer.stop()


def check_path() -> Callable[[Any], None]:
    """What the check agent does with one message, minus producing the outputs."""
    registry = load_registry()
    assessor = Assessor(registry, load_qc_limits(registry=registry), load_rules(registry=registry))
    table: dict[bytes, bytes] = {}

    def handle(record: Any) -> None:
        received = datetime.fromtimestamp(record.timestamp / 1000, UTC)
        report = assessor.check(record.value, received)
        key = report.station.encode()
        source = f"{record.topic}[{record.partition}]@{record.offset}"
        outcome = assessor.assess(report, History.from_json(table.get(key)), source)
        encode(outcome.assessed)
        for event in outcome.events:
            encode(event)
        table[key] = outcome.history.to_json()

    return handle


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bootstrap", default="127.0.0.1:9092")
    parser.add_argument("--count", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--profile", action="store_true", help="profile (b) after the run")
    parser.add_argument("--sort", default="cumulative", help="profile order (pstats key)")
    args = parser.parse_args()

    messages = ten_parameter_reports(args.count, args.seed)
    topic = f"bench-check-{uuid.uuid4().hex[:8]}"
    fill(args.bootstrap, topic, messages)
    size = sum(len(v) for _, v in messages) / len(messages)
    print(f"topic {topic}: {args.count} ten-parameter reports, {size:.0f} bytes each on average")

    bare = asyncio.run(consume(args.bootstrap, topic, args.count, lambda r: json.loads(r.value)))
    checked = asyncio.run(consume(args.bootstrap, topic, args.count, check_path()))
    rate_a, rate_b = args.count / bare, args.count / checked
    print(f"(a) bare aiokafka consumer, json.loads : {rate_a:10.0f} msg/s")
    print(f"(b) check agent path (validate+assess) : {rate_b:10.0f} msg/s")
    print(f"ratio (b)/(a): {rate_b / rate_a:.1%}  ({1e6 / rate_b:.0f} µs per report on (b))")

    if args.profile:
        profiler = cProfile.Profile()
        handle = check_path()
        profiler.enable()
        asyncio.run(consume(args.bootstrap, topic, args.count, handle))
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(args.sort).print_stats(30)
        print(out.getvalue())


if __name__ == "__main__":
    main()
