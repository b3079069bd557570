"""The check agent on the real broker: real published results through a real worker."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from datetime import datetime
from typing import Any

from stations.assessment import REJECT_REASONS
from stations.formats import hj212
from stations.formats.assessed import AssessedReport
from stations.registry import load_registry
from stations.rules.events import RuleEvent
from stations.simulation.faults import DEFAULT_FAULTS, FaultRates
from stations.simulation.model import simulate
from streams.deadletter import DeadLetter
from streams.testing.pipeline import (
    TopicReader,
    expected_outcome,
    published_reports,
    wait_for,
)
from streams.topics import publish_all
from tests.integration.conftest import REPO, TopicSet

TOPICS = ("raw", "assessed", "rejected", "breaches", "alerts", "commands")


def readers(kafka: str, topics: TopicSet) -> dict[str, TopicReader]:
    return {name: TopicReader(kafka, topics.name(name)) for name in TOPICS[1:4]}


def check_outcome(found: dict[str, TopicReader], expected: dict[str, Any], exact: bool) -> int:
    """Everything expected is there; with ``exact`` nothing twice, else only identical copies of
    the same message (at-least-once after a crash). Returns the number of such copies."""
    assessed = found["assessed"].decoded(AssessedReport)
    unique = {(d.station, d.observed_at): d for d in assessed}
    assert len(unique) == expected["assessed"], "every accepted report is there"
    letters = {d.source: d for d in found["rejected"].decoded(DeadLetter)}
    assert dict(Counter(d.reason for d in letters.values())) == expected["rejected"]
    breaches = found["breaches"].decoded(RuleEvent)
    events = {d.id: d for d in breaches}
    assert sorted(events) == expected["events"], "the same breaches and recoveries"
    copies = len(assessed) - len(unique) + len(breaches) - len(events)
    copies += len(found["rejected"].records) - len(letters)
    if exact:
        assert copies == 0, "nothing twice"
    for doc in assessed:
        assert doc == unique[(doc.station, doc.observed_at)], "a repeat is an exact copy"
    for doc in breaches:
        assert doc == events[doc.id], "a repeated event is an exact copy"
    return copies


def test_published_results_through_the_worker(
    kafka: str, topics: TopicSet, start_worker: Any
) -> None:
    topics.create(*TOPICS)
    messages = published_reports()
    expected = expected_outcome(messages)
    assert expected["rejected"] == {"duplicate": 83}  # the scrape's repeated midnight rows
    publish_all(kafka, topics.name("raw"), messages)

    worker = start_worker(topics.worker_env())
    found = readers(kafka, topics)
    wait_for(found, {"assessed": expected["assessed"], "rejected": 83}, timeout=180)
    assert worker.stop() == 0, worker.output()[-3000:]

    check_outcome(found, expected, exact=True)
    order: dict[str, list[str]] = {}
    for record in found["assessed"].records:
        order.setdefault(record.key.decode(), []).append(record.value)
    for station, values in order.items():
        times = [v.split(b'"observed_at":"')[1][:25] for v in values]
        assert times == sorted(times), f"reports of {station} out of order"


def test_sigkill_mid_stream_loses_nothing_and_repeats_only_exact_copies(
    kafka: str, topics: TopicSet, start_worker: Any
) -> None:
    topics.create(*TOPICS)
    messages = published_reports()
    expected = expected_outcome(messages)
    publish_all(kafka, topics.name("raw"), messages)
    found = readers(kafka, topics)

    first = start_worker(topics.worker_env(), name="first")
    deadline = time.monotonic() + 120
    while found["assessed"].poll() < 200 and time.monotonic() < deadline:
        pass
    first.kill()
    assert 200 <= len(found["assessed"].records) < expected["assessed"], "killed mid-stream"

    second = start_worker(topics.worker_env(), name="second")
    wait_for(found, {"assessed": expected["assessed"], "rejected": 83}, timeout=180)
    assert second.stop() == 0, second.output()[-3000:]
    copies = check_outcome(found, expected, exact=False)
    print(f"identical copies redelivered after SIGKILL: {copies}")


def test_seeded_simulation_with_faults_gives_the_expected_counts(
    kafka: str, topics: TopicSet, start_worker: Any
) -> None:
    topics.create(*TOPICS)
    cmd = [sys.executable, "-m", "streams", "simulate", "--count", "3000", "--seed", "11"]
    cmd += ["--start", "2021-04-01T00:00:00+08:00", "--topic", topics.name("raw")]
    run = subprocess.run(cmd, cwd=REPO, env=topics.worker_env(), capture_output=True, timeout=300)
    assert run.returncode == 0, run.stderr.decode()
    summary = json.loads(run.stdout.decode().strip().splitlines()[-1])
    assert summary["sent"] == 3000 and summary["seed"] == 11
    # every reason the simulator can provoke (it sends no schema-invalid JSON)
    assert set(summary["expect"]["rejected"]) == set(REJECT_REASONS) - {"invalid"}
    registry = load_registry()
    start = datetime(2021, 4, 1, tzinfo=hj212.BEIJING)
    faults = FaultRates.parse(DEFAULT_FAULTS)  # the CLI's default
    emissions = simulate(registry, count=3000, seed=11, faults=faults, start=start)
    replay = [(e.key, e.value) for e in emissions]
    expected = expected_outcome(replay)
    assert expected["assessed"] == summary["expect"]["assessed"]
    assert expected["rejected"] == summary["expect"]["rejected"]

    worker = start_worker(topics.worker_env())
    found = readers(kafka, topics)
    rejected = sum(summary["expect"]["rejected"].values())
    wait_for(found, {"assessed": expected["assessed"], "rejected": rejected}, timeout=300)
    assert worker.stop() == 0, worker.output()[-3000:]
    check_outcome(found, expected, exact=True)


def assigned_raw_partitions(worker: Any, raw_topic: str) -> set[int]:
    """The raw partitions a worker held after its last rebalance, read from the assignment table
    Faust logs (rows like ``| <topic> | {0-1} |``)."""
    held: set[int] = set()
    for line in worker.output().splitlines():
        cells = [cell.strip() for cell in line.split("|")]
        if len(cells) == 4 and cells[1] == raw_topic and cells[2].startswith("{"):
            held = set()
            for part in cells[2].strip("{}").split(","):
                low, _, high = part.partition("-")
                held.update(range(int(low), int(high or low) + 1))
    return held


def test_two_workers_split_the_partitions_and_process_everything_once(
    kafka: str, topics: TopicSet, start_worker: Any
) -> None:
    topics.create(*TOPICS)
    start = datetime(2021, 4, 1, tzinfo=hj212.BEIJING)
    emissions = simulate(load_registry(), count=8000, seed=5, faults=FaultRates(), start=start)
    messages = [(e.key, e.value) for e in emissions]
    expected = expected_outcome(messages)
    publish_all(kafka, topics.name("raw"), messages)
    found = readers(kafka, topics)
    first = start_worker(topics.worker_env(), name="first")
    wait_for(found, {"assessed": 1000}, timeout=120)

    # the second joins while the first is busy: the rebalance happens mid-stream
    second = start_worker(topics.worker_env(), name="second")
    second.wait_ready()
    assert len(found["assessed"].records) < expected["assessed"], "joined mid-stream"
    rejected = sum(expected["rejected"].values())
    wait_for(found, {"assessed": expected["assessed"], "rejected": rejected}, timeout=300)
    held = [assigned_raw_partitions(w, topics.name("raw")) for w in (first, second)]
    assert held[0] and held[1] and not held[0] & held[1], f"split: {held}"
    assert held[0] | held[1] == set(range(topics.partitions)), f"split: {held}"
    assert first.stop() == 0, first.output()[-3000:]
    assert second.stop() == 0, second.output()[-3000:]
    for worker in (first, second):  # the gap guard says when it had to step in
        for line in worker.output().splitlines():
            if "skipped by the consumer" in line:
                print(f"{worker.log.stem}: {line.strip()}")
    check_outcome(found, expected, exact=True)
