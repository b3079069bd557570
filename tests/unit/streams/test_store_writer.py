"""The batch writer retries an outage (StoreUnavailable) and nothing else: a refusal or a bug
propagates at once."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from streams.errors import DataRejected, StoreConfigError, StoreUnavailable
from streams.store.influx import from_status
from streams.store.writer import Backoff, BatchWriter


class FlakyInflux:
    """Fails with the given errors, in order, then stores."""

    def __init__(self, *failures: Exception) -> None:
        self.failures = list(failures)
        self.stored: list[str] = []
        self.attempts = 0

    async def send(self, lines: Sequence[str]) -> object:
        self.attempts += 1
        if self.failures:
            raise self.failures.pop(0)
        self.stored.extend(lines)
        return True


def run_write(
    influx: FlakyInflux, lines: list[str], slept: list[float] | None = None
) -> BatchWriter:
    waits = [] if slept is None else slept

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    writer = BatchWriter(influx.send, Backoff(first=0.5, maximum=4), sleep)
    asyncio.run(writer.write(lines))
    return writer


def refused() -> StoreUnavailable:
    return StoreUnavailable("InfluxDB cannot be reached", kind="ClientConnectorError")


def test_retries_an_outage_with_growing_capped_backoff_until_stored() -> None:
    influx = FlakyInflux(*[refused() for _ in range(6)], from_status(503, "unavailable"))
    slept: list[float] = []
    writer = run_write(influx, ["m v=1 1", "m v=2 2"], slept)
    assert influx.stored == ["m v=1 1", "m v=2 2"]
    assert slept == [0.5, 1, 2, 4, 4, 4, 4]
    assert writer.stats.failed_attempts == 7 and writer.stats.batches == 1
    assert writer.stats.errors == {"ClientConnectorError": 6, "HTTP 503": 1}
    influx = FlakyInflux(from_status(429, "too many requests"))
    run_write(influx, ["m v=1 1"])
    assert influx.stored == ["m v=1 1"], "too many requests: wait and retry"


@pytest.mark.parametrize(
    ("status", "error", "words"),
    [(400, DataRejected, "bad line"), (401, StoreConfigError, "BASIN_INFLUX_TOKEN")],
)
def test_refused_data_and_refused_credentials_are_not_retried(
    status: int, error: type[Exception], words: str
) -> None:
    influx = FlakyInflux(from_status(status, "bad line"), from_status(status, "bad line"))
    slept: list[float] = []
    with pytest.raises(error, match=words):
        run_write(influx, ["m v=x 1"], slept)
    assert influx.attempts == 1 and slept == []


def test_a_programming_error_is_not_retried_and_propagates() -> None:
    influx = FlakyInflux(TypeError("unsupported operand"), TypeError("again"))
    slept: list[float] = []
    with pytest.raises(TypeError, match="unsupported operand"):
        run_write(influx, ["m v=1 1"], slept)
    assert influx.attempts == 1 and slept == [] and influx.stored == []


def test_a_connection_error_not_classified_by_the_sender_is_not_retried() -> None:
    """Retry is decided by class: only StoreUnavailable, which the sender raises."""
    influx = FlakyInflux(ConnectionRefusedError("refused"))
    with pytest.raises(ConnectionRefusedError):
        run_write(influx, ["m v=1 1"])
    assert influx.attempts == 1


def test_an_empty_batch_sends_nothing() -> None:
    influx = FlakyInflux()
    run_write(influx, [])
    assert influx.attempts == 0
