"""Batched writes to InfluxDB with retries: what the store agent waits on before it lets the
consumer move past a batch.

A write either succeeds, or is retried with exponential back-off for as long as InfluxDB is
unreachable or overloaded (connection errors, timeouts, 429, 5xx). It fails for good only when
InfluxDB refuses the data (400: the caller dead-letters those messages) or the configuration
(401, 403, 404: wrong token, org or bucket; the worker stops with the message).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

#: One attempt: send the lines; raises on failure (``status`` attribute for HTTP errors).
Send = Callable[[Sequence[str]], Awaitable[object]]


class DataRejected(Exception):
    """InfluxDB refused the data itself (HTTP 400): retrying cannot help."""


class StoreConfigError(Exception):
    """InfluxDB refused the credentials or does not know the org or bucket (401, 403, 404)."""


@dataclass
class Backoff:
    """Delays between attempts: first, doubling, capped at ``maximum`` seconds."""

    first: float = 0.5
    maximum: float = 30.0

    def delays(self) -> list[float]:
        out, delay = [], self.first
        while delay < self.maximum:
            out.append(delay)
            delay *= 2
        return [*out, self.maximum]


@dataclass
class WriteStats:
    """Counters shown by the store worker (and read by tests and the bench)."""

    batches: int = 0
    lines: int = 0
    failed_attempts: int = 0
    rejected_lines: int = 0
    last_error: str = ""
    errors: dict[str, int] = field(default_factory=dict)


def _status(exc: BaseException) -> int | None:
    status = getattr(exc, "status", None)
    return status if isinstance(status, int) else None


class BatchWriter:
    """Writes batches of line protocol through ``send``, retrying until they are stored."""

    def __init__(
        self,
        send: Send,
        backoff: Backoff | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._send = send
        self._backoff = backoff or Backoff()
        self._sleep = sleep
        self.stats = WriteStats()

    async def write(self, lines: Sequence[str]) -> None:
        """Store ``lines``; returns only once InfluxDB has them. DataRejected on 400,
        StoreConfigError on 401/403/404."""
        if not lines:
            return
        delays = self._backoff.delays()
        attempt = 0
        while True:
            try:
                await self._send(lines)
            except Exception as exc:
                status = _status(exc)
                if status == 400:
                    raise DataRejected(str(getattr(exc, "message", None) or exc)) from exc
                if status in (401, 403, 404):
                    raise StoreConfigError(
                        f"InfluxDB answered {status}: check BASIN_INFLUX_TOKEN, BASIN_INFLUX_ORG "
                        f"and BASIN_INFLUX_BUCKET ({getattr(exc, 'message', None) or exc})"
                    ) from exc
                delay = delays[min(attempt, len(delays) - 1)] if delays else self._backoff.maximum
                attempt += 1
                kind = f"HTTP {status}" if status else type(exc).__name__
                self.stats.failed_attempts += 1
                self.stats.errors[kind] = self.stats.errors.get(kind, 0) + 1
                self.stats.last_error = f"{kind}: {exc}"
                log.warning(
                    "InfluxDB write of %d lines failed (%s), attempt %d; retrying in %.1f s",
                    len(lines),
                    self.stats.last_error,
                    attempt,
                    delay,
                )
                await self._sleep(delay)
                continue
            if attempt:
                log.info("InfluxDB write succeeded after %d failed attempts", attempt)
            self.stats.batches += 1
            self.stats.lines += len(lines)
            return
