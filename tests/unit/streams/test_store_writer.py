"""The batch writer retries while InfluxDB is unreachable and gives up only on refusals."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from streams.store.writer import Backoff, BatchWriter, DataRejected, StoreConfigError


class HttpError(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status


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


def run_write(influx: FlakyInflux, lines: list[str]) -> tuple[BatchWriter, list[float]]:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    writer = BatchWriter(influx.send, Backoff(first=0.5, maximum=4), sleep)
    asyncio.run(writer.write(lines))
    return writer, slept


def test_retries_with_growing_capped_backoff_until_stored() -> None:
    down = [ConnectionRefusedError("refused") for _ in range(6)] + [HttpError(503)]
    influx = FlakyInflux(*down)
    writer, slept = run_write(influx, ["m v=1 1", "m v=2 2"])
    assert influx.stored == ["m v=1 1", "m v=2 2"]
    assert slept == [0.5, 1, 2, 4, 4, 4, 4]
    assert writer.stats.failed_attempts == 7 and writer.stats.batches == 1
    assert writer.stats.errors == {"ConnectionRefusedError": 6, "HTTP 503": 1}


def test_refused_data_and_refused_credentials_are_not_retried() -> None:
    with pytest.raises(DataRejected):
        run_write(FlakyInflux(HttpError(400)), ["m v=x 1"])
    with pytest.raises(StoreConfigError, match="BASIN_INFLUX_TOKEN"):
        run_write(FlakyInflux(HttpError(401)), ["m v=1 1"])
    influx = FlakyInflux(HttpError(429))
    run_write(influx, ["m v=1 1"])
    assert influx.stored == ["m v=1 1"], "too many requests: wait and retry"


def test_an_empty_batch_sends_nothing() -> None:
    influx = FlakyInflux()
    run_write(influx, [])
    assert influx.attempts == 0
