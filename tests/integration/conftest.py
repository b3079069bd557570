"""Integration tests run against real servers started by the project's own deploy/local scripts.

A server that cannot be started fails the session: these tests are never skipped. The broker's
address comes from the session fixture ``kafka``; every topic a test makes (through
:class:`TopicSet`, ``basin topics ensure`` or a worker's changelogs) starts with the test's
prefix and is deleted after it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import UnknownTopicOrPartitionError

from streams.errors import NotHealthy
from streams.health import wait_healthy

REPO = Path(__file__).resolve().parents[2]
KAFKA_SH = REPO / "deploy" / "local" / "kafka.sh"
INFLUX_SH = REPO / "deploy" / "local" / "influxdb.sh"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).is_relative_to(Path(__file__).parent):
            item.add_marker(pytest.mark.integration)


def kafka_script(action: str) -> None:
    server_script(KAFKA_SH, action)


def server_script(script: Path, action: str) -> None:
    """Run a deploy/local script; the test fails (never skips) when it does."""
    result = subprocess.run(
        [str(script), action], capture_output=True, text=True, timeout=3600, check=False
    )
    if result.returncode != 0:
        pytest.fail(
            f"deploy/local/{script.name} {action} failed (exit {result.returncode}):\n"
            f"{result.stdout}\n{result.stderr}",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def kafka() -> str:
    """The local broker, installed and started by deploy/local/kafka.sh (idempotent): its
    address, on the port the script uses (BASIN_KAFKA_PORT, default 9092)."""
    kafka_script("start")
    return f"127.0.0.1:{os.environ.get('BASIN_KAFKA_PORT') or 9092}"


@dataclass(frozen=True)
class Influx:
    """The local InfluxDB and one bucket of one test."""

    url: str
    org: str
    token: str
    bucket: str

    def env(self) -> dict[str, str]:
        return {
            "BASIN_INFLUX_URL": self.url,
            "BASIN_INFLUX_ORG": self.org,
            "BASIN_INFLUX_TOKEN": self.token,
            "BASIN_INFLUX_BUCKET": self.bucket,
        }

    def client(self) -> Any:
        from influxdb_client import InfluxDBClient

        return InfluxDBClient(url=self.url, token=self.token, org=self.org, timeout=30_000)


@pytest.fixture(scope="session")
def influx_server() -> dict[str, str]:
    """The local InfluxDB 2.x, built (once per machine), started and onboarded by
    deploy/local/influxdb.sh; its credentials as the script wrote them."""
    server_script(INFLUX_SH, "start")
    from streams.settings import Settings

    settings = Settings()
    return {
        "url": settings.influx_url,
        "org": settings.influx_org,
        "token": settings.influx_token_value(),
    }


@pytest.fixture
def influx(influx_server: dict[str, str], request: pytest.FixtureRequest) -> Iterator[Influx]:
    """A fresh bucket for one test, deleted afterwards."""
    name = f"t-{request.node.name[:40]}-{uuid.uuid4().hex[:8]}"
    server = Influx(bucket=name, **influx_server)
    with server.client() as client:
        bucket = client.buckets_api().create_bucket(bucket_name=name, org=server.org)
    yield server
    with server.client() as client:
        client.buckets_api().delete_bucket(bucket)


@dataclass
class TopicSet:
    """Topic names and consumer group of one test on the broker at ``bootstrap``, unique so tests
    never see each other's data."""

    prefix: str
    bootstrap: str
    partitions: int = 4
    created: list[str] = field(default_factory=list)

    def name(self, suffix: str) -> str:
        return f"{self.prefix}.{suffix}"

    @property
    def group(self) -> str:
        return f"{self.prefix}-group"

    def create(self, *suffixes: str, partitions: int | None = None) -> list[str]:
        names = [self.name(s) for s in suffixes]
        admin = KafkaAdminClient(bootstrap_servers=self.bootstrap)
        try:
            admin.create_topics(
                [NewTopic(n, partitions or self.partitions, 1) for n in names],
                wait_for_metadata=True,
            )
        finally:
            admin.close()
        self.created.extend(names)
        return names

    def delete(self) -> list[str]:
        """Delete every topic of this test: those it created and those made for it by others
        (``basin topics ensure``, the workers' changelogs: all named after the prefix). Topics
        already gone are no error. The names deleted."""
        admin = KafkaAdminClient(bootstrap_servers=self.bootstrap)
        try:
            mine = sorted(t for t in admin.list_topics() if t.startswith(self.prefix))
            if not mine:
                return []
            result = admin.delete_topics(mine, raise_errors=False)
        finally:
            admin.close()
        failed = {
            t["name"]: t["error_code"]
            for t in result["topics"]
            if t["error_code"] not in (0, UnknownTopicOrPartitionError.errno)
        }
        assert not failed, f"could not delete the topics of {self.prefix}: {failed}"
        return mine

    def worker_env(self, **extra: str) -> dict[str, str]:
        """Environment for a `basin worker` subprocess bound to this test's topics."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("BASIN_")}
        env.update(
            BASIN_KAFKA_BOOTSTRAP_SERVERS=self.bootstrap,
            BASIN_APP_ID=self.prefix,
            BASIN_TOPIC_RAW=self.name("raw"),
            BASIN_TOPIC_ASSESSED=self.name("assessed"),
            BASIN_TOPIC_REJECTED=self.name("rejected"),
            BASIN_TOPIC_BREACHES=self.name("breaches"),
            BASIN_TOPIC_ALERTS=self.name("alerts"),
            BASIN_TOPIC_ALERT_COMMANDS=self.name("commands"),
            BASIN_TOPIC_PARTITIONS=str(self.partitions),
            BASIN_WORKER_SESSION_TIMEOUT_SECONDS="10",
        )
        env.update(extra)
        return env


@pytest.fixture
def topics(kafka: str, request: pytest.FixtureRequest) -> Iterator[TopicSet]:
    """The test's topic names; its topics are deleted after it (after its workers stopped)."""
    test = request.node.name.replace("[", "-").replace("]", "").replace("_", "-")[:40]
    topic_set = TopicSet(prefix=f"t-{test}-{uuid.uuid4().hex[:8]}", bootstrap=kafka)
    yield topic_set
    topic_set.delete()


class Worker:
    """A `basin worker` subprocess; its output goes to a log file shown when something fails."""

    def __init__(self, env: dict[str, str], log: Path, command: str = "worker") -> None:
        self.log = log
        port = env["BASIN_STORE_WEB_PORT" if command == "store" else "BASIN_WORKER_WEB_PORT"]
        self.health_url = f"http://{env.get('BASIN_WORKER_WEB_HOST', '127.0.0.1')}:{port}/health"
        self._file = log.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streams", command],
            cwd=REPO,
            env=env,
            stdout=self._file,
            stderr=subprocess.STDOUT,
        )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_ready(self, timeout: float = 90) -> dict[str, Any]:
        """Wait until its /health answers 200 (streams.health); the health document."""
        try:
            return wait_healthy(self.health_url, timeout, alive=lambda: self.proc.poll() is None)
        except NotHealthy as exc:
            if self.proc.poll() is not None:
                pytest.fail(f"worker exited with {self.proc.returncode}:\n{self.output()[-4000:]}")
            pytest.fail(f"{exc}:\n{self.output()[-4000:]}")

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM, wait, SIGKILL if needed; the exit code. Safe to call more than once."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._file.close()
        return self.proc.returncode

    def kill(self) -> None:
        """SIGKILL: the worker gets no chance to commit or flush."""
        self.proc.kill()
        self.proc.wait(10)


@pytest.fixture(autouse=True)
def close_readers() -> Iterator[None]:
    """Close the topic readers a test opened (their sockets would leak into later tests)."""
    from streams.testing.pipeline import TopicReader

    yield
    while TopicReader.opened:
        TopicReader.opened.pop().close()


@pytest.fixture
def start_worker(tmp_path: Path, topics: TopicSet) -> Iterator[object]:
    """Start `basin worker` subprocesses; all are stopped at the end of the test, before its
    topics are deleted (hence ``topics`` here)."""
    workers: list[Worker] = []

    def start(env: dict[str, str], name: str = "worker", command: str = "worker") -> Worker:
        env = env | {"BASIN_WORKER_DATA_DIR": str(tmp_path / f"{name}-data")}
        env.setdefault("BASIN_WORKER_WEB_PORT", str(_free_port()))
        env.setdefault("BASIN_STORE_WEB_PORT", str(_free_port()))
        env.setdefault("BASIN_STORE_APP_ID", env.get("BASIN_APP_ID", "basinwatch") + "-store")
        worker = Worker(env, tmp_path / f"{name}.log", command)
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
