"""A real `basin worker` subprocess against the local broker."""

from __future__ import annotations

import base64
import json
import subprocess
import sys

from kafka.admin import KafkaAdminClient

from streams.topics import publish_all
from tests.integration.conftest import REPO, TopicSet
from tests.integration.test_kafka_broker import consume


def report(hour: int) -> bytes:
    return json.dumps(
        {
            "schema": 1,
            "station": "JS-TH-028",
            "observed_at": f"2021-04-01T{hour:02d}:00:00+08:00",
            "received_at": f"2021-04-01T{hour:02d}:03:00+08:00",
            "source": "test",
            "values": {"tp": {"value": 0.048, "unit": "mg/L", "flag": "N"}},
        }
    ).encode()


def test_topics_ensure_creates_then_leaves_topics_alone(kafka: str, topics: TopicSet) -> None:
    env = topics.worker_env(BASIN_TOPIC_PARTITIONS="3")
    cmd = [sys.executable, "-m", "streams", "topics", "ensure"]

    first = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    second = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=120)

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert first.stdout.count("created") == 6  # raw ... alerts and the alert commands
    assert second.stdout.count("exists") == 6 and "created" not in second.stdout
    assert f"{topics.name('rejected')}\t3\texists" in second.stdout.splitlines()
    admin = KafkaAdminClient(bootstrap_servers=kafka)
    try:
        described = admin.describe_topics([topics.name(s) for s in ("raw", "alerts")])
    finally:
        admin.close()
    assert [len(t["partitions"]) for t in described] == [3, 3]


def test_worker_consumes_raw_reports_and_produces_its_output(
    kafka: str, topics: TopicSet, start_worker: object
) -> None:
    topics.create("raw", "assessed", "rejected", "breaches", "alerts")
    good = [(b"JS-TH-028", report(hour)) for hour in (0, 4, 8, 12, 16)]
    bad = [(b"JS-TH-001", b"\x00\xffnot json"), (None, b'{"no": "station"}')]
    publish_all(kafka, topics.name("raw"), good + bad)

    worker = start_worker(topics.worker_env())  # type: ignore[operator]
    worker.wait_ready()

    assessed = consume(kafka, topics.name("assessed"), want=5, timeout_ms=60000)
    rejected = consume(kafka, topics.name("rejected"), want=2, timeout_ms=60000)
    assert worker.stop() == 0, worker.output()[-3000:]

    assert sorted(json.loads(v)["observed_at"][11:13] for _, v, _, _ in assessed) == [
        "00",
        "04",
        "08",
        "12",
        "16",
    ]
    assert {k for k, _, _, _ in assessed} == {b"JS-TH-028"}
    letters = sorted((json.loads(v) for _, v, _, _ in rejected), key=lambda d: d["reason"])
    assert [d["reason"] for d in letters] == ["invalid", "undecodable"]
    assert base64.b64decode(letters[1]["original_b64"]) == b"\x00\xffnot json"
    assert letters[1]["source"]["topic"] == topics.name("raw")
    assert "schema" in letters[0]["detail"]
