"""The store worker on real Kafka and a real InfluxDB 2.x: every point once, whatever happens."""

from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter
from datetime import datetime
from typing import Any

from stations.formats import hj212
from stations.formats.assessed import AssessedReport
from stations.formats.records import encode
from stations.registry import load_registry
from stations.simulation.faults import DEFAULT_FAULTS, FaultRates
from stations.simulation.model import simulate
from streams.deadletter import Source, dead_letter
from streams.testing.pipeline import TopicReader, expected_outcome, wait_for
from streams.topics import publish_all
from tests.integration.conftest import INFLUX_SH, Influx, TopicSet
from tests.integration.store import (
    expected_points,
    settled_points,
    settled_rejected,
    stored_points,
    wait_for_points,
)

TOPICS = ("raw", "assessed", "rejected", "breaches", "alerts", "commands")


def simulated(count: int, seed: int) -> tuple[list[tuple[bytes | None, bytes]], Counter[str]]:
    """Seeded reports with the default faults, and the points they must give in InfluxDB."""
    start = datetime(2021, 4, 1, tzinfo=hj212.BEIJING)
    faults = FaultRates.parse(DEFAULT_FAULTS)
    emissions = simulate(load_registry(), count=count, seed=seed, faults=faults, start=start)
    messages = [(e.key, e.value) for e in emissions]
    return messages, expected_points(expected_outcome(messages)["docs"])


def test_seeded_simulation_lands_with_the_exact_point_count(
    kafka: str, influx: Influx, topics: TopicSet, start_worker: Any
) -> None:
    topics.create(*TOPICS)
    messages, want = simulated(2000, seed=3)
    assert set(want) == {"water_quality", "hydrology", "qc", "assessment", "breaches"}
    publish_all(kafka, topics.name("raw"), messages)
    env = topics.worker_env(**influx.env())
    worker = start_worker(env, name="worker")
    store = start_worker(env, name="store", command="store")
    assert settled_points(influx, want) == want
    rejected = Counter(expected_outcome(messages)["rejected"])
    assert rejected, "the default faults make dead letters"
    assert settled_rejected(influx, rejected) == rejected  # one point per dead letter
    assert store.stop() == 0, store.output()[-3000:]
    assert worker.stop() == 0, worker.output()[-3000:]


def test_influxdb_down_for_60_s_mid_stream_ends_with_every_point_once(
    kafka: str, influx: Influx, topics: TopicSet, start_worker: Any
) -> None:
    topics.create(*TOPICS)
    messages, want = simulated(3000, seed=4)
    env = topics.worker_env(**influx.env(), BASIN_STORE_RETRY_MAX_SECONDS="5")
    start_worker(env, name="worker")
    store = start_worker(env, name="store", command="store")
    publish_all(kafka, topics.name("raw"), messages[:1000])
    wait_for_points(influx, 1, timeout=120)

    subprocess.run([str(INFLUX_SH), "stop"], check=True, timeout=120)
    try:
        publish_all(kafka, topics.name("raw"), messages[1000:])
        time.sleep(60)
        assert store.proc.poll() is None, "the store waits for InfluxDB, it does not exit"
    finally:
        subprocess.run([str(INFLUX_SH), "start"], check=True, timeout=300)
    assert settled_points(influx, want) == want
    assert "retrying in" in store.output(), "the outage was seen and retried"
    assert store.stop() == 0, store.output()[-3000:]


def test_store_sigkill_between_write_and_commit_leaves_no_duplicates(
    kafka: str, influx: Influx, topics: TopicSet, start_worker: Any
) -> None:
    topics.create(*TOPICS)
    messages, want = simulated(3000, seed=5)
    publish_all(kafka, topics.name("raw"), messages)
    env = topics.worker_env(**influx.env(), BASIN_STORE_BATCH_SIZE="500")
    worker = start_worker(env, name="worker")
    first = start_worker(env, name="store-1", command="store")
    wait_for_points(influx, 2000, timeout=120)
    first.kill()  # written, and at most a commit interval (2.8 s) of it committed
    killed_at = stored_points(influx).total()
    assert 0 < killed_at < want.total(), "killed mid-stream"

    second = start_worker(env, name="store-2", command="store")
    assert settled_points(influx, want) == want
    rejected = Counter(expected_outcome(messages)["rejected"])
    assert settled_rejected(influx, rejected) == rejected  # dead letters read again: no duplicate
    assert second.stop() == 0, second.output()[-3000:]
    assert worker.stop() == 0, worker.output()[-3000:]
    print(f"points at the kill: {killed_at} of {want.total()}")


def test_dead_letters_are_stored_by_reason_and_never_dead_lettered_again(
    kafka: str, influx: Influx, topics: TopicSet, start_worker: Any
) -> None:
    """The store writes each dead letter (its own too) as a ``rejected`` point; one it cannot
    store is logged and skipped, never sent to the rejected topic again (no loop)."""
    topics.create(*TOPICS)
    key = b"JS-TH-028"
    letter = dead_letter(b"##bad", key, Source("wq.reports.raw", 0, 7), "invalid", "bad")
    publish_all(kafka, topics.name("rejected"), [(None, b"not a dead letter"), (key, letter)])
    publish_all(kafka, topics.name("assessed"), [(key, b"{not json")])  # -> store_invalid
    store = start_worker(topics.worker_env(**influx.env()), name="store", command="store")
    want = Counter({"invalid": 1, "store_invalid": 1})
    assert settled_rejected(influx, want) == want
    reader = TopicReader(kafka, topics.name("rejected"))
    wait_for({"rejected": reader}, {"rejected": 3}, timeout=30)
    assert len(reader.records) == 3, "only the store's one dead letter was added"
    assert store.proc.poll() is None, store.output()[-3000:]
    assert "not dead-lettered again" in store.output()
    assert store.stop() == 0, store.output()[-3000:]


def test_a_refused_token_stops_the_store_loudly_instead_of_retrying(
    kafka: str, influx: Influx, topics: TopicSet, start_worker: Any
) -> None:
    """A 401 is no outage: the store logs it, exits non-zero and commits nothing."""
    topics.create(*TOPICS)
    messages, _ = simulated(20, seed=6)
    records = [d for d in expected_outcome(messages)["docs"] if isinstance(d, AssessedReport)]
    publish_all(kafka, topics.name("assessed"), [(d.station.encode(), encode(d)) for d in records])
    env = topics.worker_env(**influx.env() | {"BASIN_INFLUX_TOKEN": "not-the-token"})
    store = start_worker(env, name="store", command="store")
    try:
        store.proc.wait(120)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"the store kept running:\n{store.output()[-3000:]}") from None
    assert store.proc.returncode != 0
    assert "StoreConfigError" in store.output() and "BASIN_INFLUX_TOKEN" in store.output()
    assert "retrying in" not in store.output(), "a refusal is not retried"
    assert stored_points(influx).total() == 0


def test_store_cli_without_token_says_where_to_get_one(tmp_path: Any) -> None:
    env = {"PATH": "/usr/bin:/bin", "BASIN_INFLUX_CREDENTIALS_FILE": str(tmp_path / "none.env")}
    run = subprocess.run(
        [sys.executable, "-m", "streams", "store"], env=env, capture_output=True, timeout=60
    )
    assert run.returncode != 0
    assert b"no InfluxDB token" in run.stderr and b"influxdb.sh start" in run.stderr
