"""Points/s through the store worker vs. influxdb-client's own batched write, in one run.

    .venv/bin/python -m bench.store_throughput [--count 3000] [--seed 2]

Needs the local Kafka and InfluxDB (`make up`).
1. Assesses ``--count`` simulated reports with the pure check path; the assessed reports and the
   rule events are the input, and their points are what must land.
2. (a) baseline: influxdb-client's batching write API (batch 2000, as the store) writes the
   points' line protocol into a fresh bucket; timed until it has flushed.
3. (b) store worker: a `basin store` subprocess is started on fresh topics and waits ready; the
   documents are then produced to its topics and timed until InfluxDB counts every point in a
   second fresh bucket. This includes Kafka and the worker's batching, conversion and commits.

Prints points/s of both and the ratio (b)/(a).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from influxdb_client import InfluxDBClient, WriteOptions, WritePrecision
from kafka.admin import KafkaAdminClient, NewTopic

from stations.formats import hj212
from stations.formats.assessed import AssessedReport
from stations.formats.records import encode
from stations.registry import load_registry
from stations.rules.events import RuleEvent
from stations.simulation.faults import FaultRates
from stations.simulation.model import simulate
from streams.errors import NotHealthy
from streams.health import wait_healthy
from streams.settings import Settings
from streams.store.points import line_protocol, record_points
from streams.testing.pipeline import expected_outcome
from streams.topics import publish_all

REPO = Path(__file__).resolve().parents[1]


def documents(count: int, seed: int) -> list[AssessedReport | RuleEvent]:
    start = datetime(2021, 4, 1, tzinfo=hj212.BEIJING)
    emissions = simulate(load_registry(), count=count, seed=seed, faults=FaultRates(), start=start)
    return list(expected_outcome([(e.key, e.value) for e in emissions])["docs"])


@contextmanager
def bucket(client: InfluxDBClient, org: str) -> Iterator[str]:
    name = f"bench-{uuid.uuid4().hex[:8]}"
    created = client.buckets_api().create_bucket(bucket_name=name, org=org)
    try:
        yield name
    finally:
        client.buckets_api().delete_bucket(created)


def count_points(client: InfluxDBClient, org: str, name: str) -> int:
    flux = (
        f'from(bucket: "{name}") |> range(start: 0) '
        '|> filter(fn: (r) => r._field == "qc" or r._field == "flag" or r._field == "late" '
        'or r._field == "id") |> group() |> count()'
    )
    tables = client.query_api().query(flux, org=org)
    return sum(int(r.values["_value"]) for t in tables for r in t)


def baseline(client: InfluxDBClient, org: str, name: str, lines: list[str]) -> float:
    options = WriteOptions(batch_size=2000, flush_interval=1000, max_retries=0)
    started = time.perf_counter()
    with client.write_api(write_options=options) as api:
        api.write(bucket=name, org=org, record=lines, write_precision=WritePrecision.S)
    return time.perf_counter() - started


def through_store(
    settings: Settings,
    client: InfluxDBClient,
    name: str,
    docs: list[AssessedReport | RuleEvent],
    points: int,
) -> float:
    prefix = f"bench-store-{uuid.uuid4().hex[:8]}"
    web_port = 6099
    health_url = f"http://127.0.0.1:{web_port}/health"
    topics = {k: f"{prefix}.{k}" for k in ("raw", "assessed", "rejected", "breaches", "alerts")}
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    try:
        admin.create_topics([NewTopic(t, 8, 1) for t in topics.values()])
    finally:
        admin.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BASIN_")}
    env.update({f"BASIN_TOPIC_{k.upper()}": v for k, v in topics.items()})
    env.update(
        BASIN_KAFKA_BOOTSTRAP_SERVERS=settings.kafka_bootstrap_servers,
        BASIN_STORE_APP_ID=prefix,
        BASIN_INFLUX_BUCKET=name,
        BASIN_INFLUX_TOKEN=settings.influx_token_value(),
        BASIN_STORE_WEB_PORT=str(web_port),
        BASIN_WORKER_DATA_DIR=tempfile.mkdtemp(prefix="bench-store-"),
    )
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streams", "store"],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            try:
                wait_healthy(health_url, 120, alive=lambda: proc.poll() is None)
            except NotHealthy as exc:
                log.seek(0)
                tail = log.read()[-3000:].decode(errors="replace")
                raise SystemExit(f"the store worker did not start: {exc}\n{tail}") from exc
            assessed = [
                (d.station.encode(), encode(d)) for d in docs if isinstance(d, AssessedReport)
            ]
            events = [(d.station.encode(), encode(d)) for d in docs if isinstance(d, RuleEvent)]
            started = time.perf_counter()
            publish_all(settings.kafka_bootstrap_servers, topics["assessed"], assessed)
            publish_all(settings.kafka_bootstrap_servers, topics["breaches"], events)
            while count_points(client, settings.influx_org, name) < points:
                if time.perf_counter() - started > 600:
                    raise SystemExit("the store did not write every point in 600 s")
                time.sleep(0.5)
            return time.perf_counter() - started
        finally:
            proc.terminate()
            proc.wait(60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=2)
    args = parser.parse_args()
    settings = Settings()
    docs = documents(args.count, args.seed)
    lines = [line for doc in docs for line in line_protocol(record_points(doc))]
    client = InfluxDBClient(
        url=settings.influx_url,
        token=settings.influx_token_value(),
        org=settings.influx_org,
        timeout=60_000,
    )
    with (
        client,
        bucket(client, settings.influx_org) as first,
        bucket(client, settings.influx_org) as second,
    ):
        seconds_a = baseline(client, settings.influx_org, first, lines)
        points = count_points(client, settings.influx_org, first)
        seconds_b = through_store(settings, client, second, docs, points)
    rate_a, rate_b = points / seconds_a, points / seconds_b
    print(f"{len(docs)} documents, {len(lines)} lines, {points} distinct points")
    print(f"(a) influxdb-client batched write : {rate_a:10.0f} points/s")
    print(f"(b) through Kafka and basin store : {rate_b:10.0f} points/s")
    print(f"ratio (b)/(a): {rate_b / rate_a:.1%}")


if __name__ == "__main__":
    main()
