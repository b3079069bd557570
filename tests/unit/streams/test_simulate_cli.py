"""`basin simulate` without a broker: usage errors, an unreachable broker, and what it hands to
kafka-python (recorded by a stand-in producer) compared with the simulator's own messages."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

import pytest
from click.testing import CliRunner

from stations.formats.hj212 import BEIJING
from stations.formats.report import from_json
from stations.registry import load_registry
from stations.simulation.faults import DEFAULT_FAULTS, FaultRates
from stations.simulation.model import simulate
from streams.cli import main
from streams.cli.common import SettingsInfo
from streams.settings import Settings
from streams.testing.tls import PrivateCA, common_name


def run(args: list[str], settings: Settings | None = None) -> Any:
    """`basin ARGS` with ``settings`` (default: the defaults), as the group hands them over."""
    return CliRunner().invoke(main, args, obj=SettingsInfo(settings or Settings()))


class _Sent:
    def __init__(self, error: Exception | None) -> None:
        self.error = error

    def add_errback(self, callback: Any) -> None:
        if self.error is not None:
            callback(self.error)


class RecordingProducer:
    """Records what kafka-python's KafkaProducer would have sent."""

    instances: ClassVar[list[RecordingProducer]] = []
    fail_with: ClassVar[Exception | None] = None

    def __init__(self, **options: Any) -> None:
        self.options = options
        self.sent: list[tuple[str, bytes | None, bytes, int | None]] = []
        self.closed = False
        RecordingProducer.instances.append(self)

    def send(self, topic: str, key: bytes | None, value: bytes, timestamp_ms: int | None) -> _Sent:
        self.sent.append((topic, key, value, timestamp_ms))
        return _Sent(self.fail_with)

    def flush(self, timeout: float | None = None) -> None:
        pass

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def producer(monkeypatch: pytest.MonkeyPatch) -> type[RecordingProducer]:
    import kafka

    RecordingProducer.instances = []
    RecordingProducer.fail_with = None
    monkeypatch.setattr(kafka, "KafkaProducer", RecordingProducer)
    return RecordingProducer


@pytest.mark.parametrize(
    ("args", "words"),
    [
        ([], "either --count N or --realtime"),
        (["--count", "5", "--realtime"], "either --count N or --realtime"),
        (["--count", "5", "--speed", "2"], "go with --realtime"),
        (["--count", "5", "--faults", "spike=2"], "between 0 and 1"),
        (["--count", "5", "--faults", "flood=0.1"], "NAME one of"),
        (["--count", "5", "--start", "2021-04-01T00:00"], "no UTC offset"),
        (["--count", "0"], "x>=1"),
    ],
)
def test_usage_errors_exit_2_and_say_what_is_wrong(args: list[str], words: str) -> None:
    result = run(["simulate", *args])
    assert result.exit_code == 2
    assert words in result.output


def test_fixed_count_sends_the_simulators_messages_and_prints_one_summary(
    producer: type[RecordingProducer],
) -> None:
    args = ["simulate", "--count", "300", "--seed", "4", "--start", "2021-04-01T00:00+08:00"]
    result = run([*args, "--topic", "sim-probe-test"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    expected = list(
        simulate(
            load_registry(),
            count=300,
            seed=4,
            faults=FaultRates.parse(DEFAULT_FAULTS),
            start=datetime(2021, 4, 1, tzinfo=BEIJING),
        )
    )
    (instance,) = producer.instances
    assert instance.options["acks"] == "all" and instance.closed
    assert [(key, value) for _, key, value, _ in instance.sent] == [
        (e.key, e.value) for e in expected
    ]
    assert {topic for topic, *_ in instance.sent} == {"sim-probe-test"}
    assert summary["sent"] == 300 and summary["seed"] == 4 and summary["topic"] == "sim-probe-test"
    assert sum(summary["by_kind"].values()) == 300
    assert summary["expect"]["assessed"] + sum(summary["expect"]["rejected"].values()) == 300


def test_default_start_puts_a_fixed_run_in_the_past(producer: type[RecordingProducer]) -> None:
    result = run(["simulate", "--count", "2000", "--faults", "none"])
    assert result.exit_code == 0, result.output
    now = datetime.now(BEIJING)
    times = [from_json(value).observed_at for _, _, value, _ in producer.instances[0].sent]
    assert max(times) < now
    assert json.loads(result.stdout.strip().splitlines()[-1])["seed"] >= 0


def test_failed_sends_exit_1_and_say_how_many(producer: type[RecordingProducer]) -> None:
    producer.fail_with = RuntimeError("broker said no")
    result = run(["simulate", "--count", "20", "--seed", "1"])
    assert result.exit_code == 1
    assert "20 messages were not written" in result.output and "broker said no" in result.output


def test_realtime_sends_rounds_received_at_the_simulated_now_until_the_duration_ends(
    producer: type[RecordingProducer],
) -> None:
    args = ["simulate", "--realtime", "--speed", "360000", "--duration", "0.5", "--faults", "none"]
    result = run(args)
    assert result.exit_code == 0, result.output
    progress = [line for line in result.stderr.splitlines() if " sent " in line]
    assert len(progress) >= 5
    sent = producer.instances[0].sent
    assert len(sent) == json.loads(result.stdout.strip().splitlines()[-1])["sent"]
    for _, key, value, stamp in sent:
        report = from_json(value)
        assert key == report.station.encode()
        assert stamp == int(report.received_at.timestamp() * 1000)
        assert report.received_at >= report.observed_at


def test_a_broker_that_cannot_be_reached_is_a_failure_that_names_it(
    monkeypatch: pytest.MonkeyPatch, producer: type[RecordingProducer]
) -> None:
    from kafka.errors import KafkaTimeoutError

    def no_metadata(*args: Any, **kwargs: Any) -> None:
        raise KafkaTimeoutError("Failed to update metadata after 60.0 secs.")

    monkeypatch.setattr(RecordingProducer, "send", no_metadata)
    args = ["simulate", "--count", "3", "--seed", "1", "--topic", "sim-probe-x"]
    result = run(args, Settings(kafka_bootstrap_servers="127.0.0.1:9"))
    assert result.exit_code == 1
    assert "cannot produce to sim-probe-x on 127.0.0.1:9" in result.output
    assert "Failed to update metadata" in result.output


def test_the_producer_connects_with_the_settings_tls_options(
    producer: type[RecordingProducer], tmp_path: Path
) -> None:
    ca = PrivateCA.create(tmp_path / "ca", "Taihu basin bureau CA")
    settings = Settings(
        kafka_bootstrap_servers="k1:9093,k2:9093",
        kafka_security_protocol="SSL",
        kafka_ssl_cafile=ca.cert,
    )
    result = run(["simulate", "--count", "3", "--seed", "1"], settings)
    assert result.exit_code == 0, result.output
    (instance,) = producer.instances
    assert instance.options["bootstrap_servers"] == ["k1:9093", "k2:9093"]
    assert instance.options["security_protocol"] == "SSL"
    (trusted,) = instance.options["ssl_context"].get_ca_certs()
    assert common_name(trusted) == "Taihu basin bureau CA"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--hj212", "localhost", "--count", "5"], "is not HOST:PORT"),
        (["--hj212", "127.0.0.1:9212"], "give either --count N"),
        (["--hj212", "127.0.0.1:9212", "--count", "5", "--seconds", "3"], "give either --count N"),
        (["--hj212", "127.0.0.1:9212", "--realtime"], "not --realtime"),
        (["--count", "5", "--loggers", "3"], "go with --hj212"),
    ],
)
def test_hj212_usage_errors(args: list[str], message: str) -> None:
    result = run(["simulate", *args])
    assert result.exit_code == 2
    assert message in result.output


def test_hj212_needs_every_logger_password(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.startswith("BASIN_SECRET_")]:
        monkeypatch.delenv(name)
    result = run(["simulate", "--hj212", "127.0.0.1:1", "--count", "5", "--loggers", "2"])
    assert result.exit_code == 1
    assert "no password for JS-TH-001: secret 'hj212/JS-TH-001'" in result.output


def test_hj212_refuses_a_bad_fault_spec() -> None:
    args = ["--hj212", "127.0.0.1:1", "--count", "5", "--logger-faults", "corrupt=2"]
    result = run(["simulate", *args])
    assert result.exit_code == 1
    assert "logger fault corrupt=2.0 is not between 0 and 1" in result.output
