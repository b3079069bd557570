"""Batched writes to InfluxDB with retries: what the store agent waits on before it lets the
consumer move past a batch.

A write either succeeds, or is retried with exponential back-off for as long as the sender
raises :class:`~streams.errors.StoreUnavailable` (an outage: InfluxDB unreachable or overloaded,
see :mod:`streams.store.influx`). Retry is decided by that class alone. Everything else propagates
at once: a refusal (:class:`~streams.errors.DataRejected` for 400, whose messages the caller
dead-letters; :class:`~streams.errors.StoreConfigError` for a wrong token, org or bucket) and any
other exception, such as a ``TypeError`` from a bug, which stops the store instead of looking
like an outage retried forever.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from streams.errors import StoreUnavailable

log = logging.getLogger(__name__)

#: One attempt: send the lines (to a bucket, when one is given: ``send(lines, bucket)``; with
#: another precision than seconds, when one is given: ``send(lines, bucket, precision=...)``);
#: StoreUnavailable on an outage, anything else is not retried.
Send = Callable[..., Awaitable[object]]


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
    #: dead letters that could not be stored (undecodable, or refused by InfluxDB): logged and
    #: skipped, never dead-lettered again
    dropped_dead_letters: int = 0
    last_error: str = ""
    errors: dict[str, int] = field(default_factory=dict)


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

    async def write(
        self, lines: Sequence[str], bucket: str | None = None, precision: str | None = None
    ) -> None:
        """Store ``lines`` (in ``bucket``, default: the sender's; timestamps in ``precision``,
        default: seconds); returns only once InfluxDB has them, retrying StoreUnavailable. Any
        other exception propagates at once (DataRejected, StoreConfigError, a bug)."""
        if not lines:
            return
        delays = self._backoff.delays()
        attempt = 0
        while True:
            try:
                if precision is not None:
                    await self._send(lines, bucket, precision=precision)
                elif bucket is None:
                    await self._send(lines)
                else:
                    await self._send(lines, bucket)
            except StoreUnavailable as exc:
                delay = delays[min(attempt, len(delays) - 1)] if delays else self._backoff.maximum
                attempt += 1
                kind = exc.kind
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
