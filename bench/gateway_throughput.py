"""Frames/s through `basin gateway` vs. a bare asyncio server, and memory per idle connection.

    .venv/bin/python -m bench.gateway_throughput [--loggers 200] [--reports 20] [--idle 5000]

Needs the local Kafka (`make up`). In one run, on fresh topics:
1. (a) bare: an asyncio server that only frames (the session layer's Framer), produces each frame's
   bytes with the same producer settings (acks=all, idempotent) and writes the 9014 after the ack;
2. (b) gateway: the real server (streams.gateway.server.Gateway) in the same process, with the
   registry, password check, metrics, limits and first-connection checks;
   in both, ``--loggers`` clients each send ``--reports`` hourly reports, one at a time, each after
   the previous one's 9014 (a logger waits for its answer): frames/s = answered reports / seconds.
3. memory: a `basin gateway` subprocess; its RSS (/proc/PID/status) before and after ``--idle``
   idle connections are open, divided by their number.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiokafka import AIOKafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic

from stations.formats.hj212 import build
from stations.formats.hj212_session import Frame, Framer, data_answer
from stations.registry import load_registry
from streams.gateway.run import make_producer
from streams.gateway.secrets import Secrets
from streams.gateway.server import Gateway
from streams.settings import Settings

REGISTRY = load_registry()
LINKS = [(s.hj212.mn, s.hj212.password_ref) for s in REGISTRY.stations if s.hj212]
T0 = datetime(2026, 4, 1, tzinfo=UTC)


def _password(ref: str) -> str:
    return "pw" + ref.rsplit("-", 1)[-1]


def _reports(i: int, count: int) -> list[bytes]:
    mn, ref = LINKS[i % len(LINKS)]
    start = T0 + timedelta(days=i)
    out = []
    for h in range(count):
        at = start + timedelta(hours=h)
        header = {"QN": at.strftime("%Y%m%d%H%M%S000"), "ST": "21", "CN": "2061"}
        header |= {"PW": _password(ref), "MN": mn, "Flag": "5"}
        out.append(build(header, at, {"w01001": {"Avg": "7.2", "Flag": "N"}}))
    return out


async def _logger(port: int, packets: list[bytes]) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for packet in packets:
        writer.write(packet)
        await reader.readuntil(b"\r\n")
    writer.close()
    return len(packets)


async def _drive(port: int, loggers: int, reports: int) -> float:
    started = time.perf_counter()
    done = await asyncio.gather(*(_logger(port, _reports(i, reports)) for i in range(loggers)))
    seconds = time.perf_counter() - started
    assert sum(done) == loggers * reports
    return sum(done) / seconds


async def bare(settings: Settings, loggers: int, reports: int) -> float:
    producer = make_producer(settings)
    await producer.start()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        framer = Framer()
        while data := await reader.read(4096):
            for item in framer.feed(data):
                if isinstance(item, Frame):
                    await producer.send_and_wait(settings.topic_raw, item.raw)
                    writer.write(data_answer(item.packet))
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0, backlog=4096)
    try:
        return await _drive(server.sockets[0].getsockname()[1], loggers, reports)
    finally:
        server.close()
        await producer.stop()


async def gateway(settings: Settings, secrets: Secrets, loggers: int, reports: int) -> float:
    producer: AIOKafkaProducer = make_producer(settings)
    await producer.start()

    async def publish(
        topic: str, value: bytes, key: bytes | None, headers: list[tuple[str, bytes]]
    ) -> None:
        await producer.send_and_wait(topic, value, key=key, headers=headers)

    server = Gateway(settings, REGISTRY, secrets, publish)
    await server.start(0)
    try:
        return await _drive(server.port, loggers, reports)
    finally:
        await server.stop()
        await producer.stop()


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def idle_memory(env: dict[str, str], count: int) -> tuple[int, float]:
    port = _free_port()
    env = env | {"BASIN_GATEWAY_PORT": str(port), "BASIN_GATEWAY_METRICS_PORT": "0"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streams", "gateway"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.2)
        time.sleep(1)
        before = _rss_kib(proc.pid)
        sockets = [socket.create_connection(("127.0.0.1", port)) for _ in range(count)]
        time.sleep(3)
        after = _rss_kib(proc.pid)
        for sock in sockets:
            sock.close()
        return count, (after - before) / count
    finally:
        proc.terminate()
        proc.wait(30)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loggers", type=int, default=200)
    parser.add_argument("--reports", type=int, default=20)
    parser.add_argument("--idle", type=int, default=5000)
    args = parser.parse_args()
    prefix = f"bench-gw-{uuid.uuid4().hex[:8]}"
    bootstrap = os.environ.get("BASIN_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    names = [f"{prefix}.raw", f"{prefix}.rejected"]
    admin.create_topics([NewTopic(n, 4, 1) for n in names], wait_for_metadata=True)
    with tempfile.TemporaryDirectory() as tmp:
        secrets_file = Path(tmp) / "secrets"
        secrets_file.write_text("".join(f"{ref}={_password(ref)}\n" for _, ref in LINKS))
        secrets_file.chmod(0o600)
        env = {k: v for k, v in os.environ.items() if not k.startswith("BASIN_")}
        env |= {
            "BASIN_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "BASIN_TOPIC_RAW": names[0],
            "BASIN_TOPIC_REJECTED": names[1],
            "BASIN_GATEWAY_SECRETS_PATH": str(secrets_file),
            "BASIN_GATEWAY_TIME_DRIFT_SECONDS": "0",
        }
        settings = Settings(
            _env_file=None,
            kafka_bootstrap_servers=bootstrap,
            topic_raw=names[0],
            topic_rejected=names[1],
            gateway_time_drift_seconds=0,
            gateway_max_frames_per_second=10_000,
        )
        secrets = Secrets(secrets_file)
        try:
            a = asyncio.run(bare(settings, args.loggers, args.reports))
            b = asyncio.run(gateway(settings, secrets, args.loggers, args.reports))
            print(f"loggers {args.loggers} x reports {args.reports}")
            print(f"(a) bare framer + producer: {a:,.0f} frames/s")
            print(f"(b) basin gateway:          {b:,.0f} frames/s  ({b / a:.0%} of (a))")
            limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
            count = min(args.idle, limit - 200)
            opened, per = idle_memory(env, count)
            print(f"idle connections {opened}: {per:.1f} KiB RSS per connection (fd limit {limit})")
        finally:
            admin.delete_topics(names)
            admin.close()


if __name__ == "__main__":
    main()
