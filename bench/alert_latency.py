"""Latency from a breaching station report to its notification at a real local receiver.

    .venv/bin/python -m bench.alert_latency [--stations 60] [--cycles 3] [--gap 0.02]

Needs the local Kafka (`make up`). A `basin worker` subprocess runs on fresh topics with the
alerts configuration of the alert tests (every receiver a webhook to an HTTP server in this
process). Each station
sends hourly reports (the last 20 hours) cycling through bad (TP 0.35 mg/L: worse than its
target class) and good (TP 0.05) results: each cycle fires the target-class alert (the second
bad result in a row) and resolves it (the second good one). Reports are produced one at a time,
``--gap`` seconds apart, and the time each was produced is kept.

Latency = arrival of the first notification carrying the change - production of the report that
caused it (both wall clock on this machine). Prints count, median, p90, p99 and max for firing
and for all-clear notifications.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kafka import KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic

from stations.registry import load_registry
from stations.station import StationKind
from streams.errors import NotHealthy
from streams.health import wait_healthy
from streams.settings import Settings
from streams.testing.alerting import alerts_yaml, reports
from streams.testing.receivers import HttpReceiver

REPO = Path(__file__).resolve().parents[1]
PATTERN = (0.35, 0.35, 0.35, 0.05, 0.05, 0.05)  # one firing and one all-clear per cycle


def messages(stations: int, cycles: int) -> list[tuple[str, datetime, int, bytes]]:
    registry = load_registry()
    chosen = [
        s
        for s in registry
        if s.kind is StationKind.WATER_QUALITY and s.target_class and s.target_class <= 4
    ][:stations]
    steps = len(PATTERN) * cycles
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=steps)
    out = []
    for step in range(steps):  # round-robin over stations, in time order per station
        at = start + timedelta(hours=step)
        for station in chosen:
            ((_, value),) = reports(station.id, [PATTERN[step % len(PATTERN)]], at, full=True)
            out.append((station.id, at, step // len(PATTERN) + 1, value))
    return out


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stations", type=int, default=60)
    parser.add_argument("--cycles", type=int, default=3)
    parser.add_argument("--gap", type=float, default=0.02)
    args = parser.parse_args()
    settings = Settings()
    prefix = f"bench-alerts-{uuid.uuid4().hex[:8]}"
    web_port = 6098
    health_url = f"http://127.0.0.1:{web_port}/health"
    names = ("raw", "assessed", "rejected", "breaches", "alerts", "alert_commands")
    topics = {k: f"{prefix}.{k}" for k in names}
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    try:
        admin.create_topics([NewTopic(t, 8, 1) for t in topics.values()])
    finally:
        admin.close()
    receiver = HttpReceiver()
    work = Path(tempfile.mkdtemp(prefix="bench-alerts-"))
    alerts_yaml(work / "alerts.yaml", receiver)
    env = {k: v for k, v in os.environ.items() if not k.startswith("BASIN_")}
    env.update({f"BASIN_TOPIC_{k.upper()}": v for k, v in topics.items()})
    env.update(
        BASIN_KAFKA_BOOTSTRAP_SERVERS=settings.kafka_bootstrap_servers,
        BASIN_APP_ID=prefix,
        BASIN_ALERTS_PATH=str(work / "alerts.yaml"),
        BASIN_ALERTS_TICK_SECONDS="3600",
        BASIN_WORKER_WEB_PORT=str(web_port),
        BASIN_WORKER_DATA_DIR=str(work / "data"),
    )
    sent: dict[tuple[str, str], tuple[float, int]] = {}
    with (work / "worker.log").open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streams", "worker"], cwd=REPO, env=env, stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            try:
                wait_healthy(health_url, 120, alive=lambda: proc.poll() is None)
            except NotHealthy as exc:
                log_file = work / "worker.log"
                raise SystemExit(f"the worker did not start ({exc}): see {log_file}") from exc
            producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, acks=1)
            plan = messages(args.stations, args.cycles)
            for station, at, cycle, value in plan:
                producer.send(topics["raw"], key=station.encode(), value=value).get(timeout=30)
                sent[(station, at.isoformat())] = (time.time(), cycle)
                time.sleep(args.gap)
            producer.close()
            expected = args.stations * args.cycles * 2  # a firing and an all-clear per cycle
            deadline = time.monotonic() + 300
            while count_changes(receiver) < expected and time.monotonic() < deadline:
                time.sleep(0.5)
        finally:
            proc.terminate()
            proc.wait(60)
            receiver.close()
    report(receiver, sent, len(plan))


def arrivals(receiver: HttpReceiver) -> dict[str, tuple[float, dict]]:
    """The first arrival of every change (by change id)."""
    first: dict[str, tuple[float, dict]] = {}
    for request in receiver.requests:
        for change in json.loads(request.body)["data"]["changes"]:
            if change["id"] not in first:
                first[change["id"]] = (request.wall, change)
    return first


def count_changes(receiver: HttpReceiver) -> int:
    return sum(1 for _, c in arrivals(receiver).values() if c["alert"]["rule"] == "target-class")


def report(
    receiver: HttpReceiver, sent: dict[tuple[str, str], tuple[float, int]], reports: int
) -> None:
    latency: dict[str, list[float]] = {"firing": [], "resolved": []}
    by_cycle: dict[tuple[str, int], list[float]] = {}
    for arrived, change in arrivals(receiver).values():
        alert = change["alert"]
        if alert["rule"] != "target-class" or change["what"] not in latency:
            continue
        produced, cycle = sent[(alert["station"], alert["observed_at"])]
        latency[change["what"]].append((arrived - produced) * 1000)
        by_cycle.setdefault((change["what"], cycle), []).append((arrived - produced) * 1000)
    print(f"{reports} reports produced one at a time; {len(receiver.requests)} notifications")
    for what, values in latency.items():
        if not values:
            print(f"{what:9}: none arrived")
            continue
        print(
            f"{what:9}: n={len(values):4d}  median {statistics.median(values):7.1f} ms  "
            f"p90 {percentile(values, 0.9):7.1f} ms  p99 {percentile(values, 0.99):7.1f} ms  "
            f"max {max(values):7.1f} ms"
        )
    for (what, cycle), values in sorted(by_cycle.items()):
        median = statistics.median(values)
        print(f"  {what:9} cycle {cycle}: n={len(values):4d}  median {median:7.1f} ms")


if __name__ == "__main__":
    main()
