"""Simulated HJ 212 data loggers over real TCP: N loggers against a platform at HOST:PORT.

Each logger (:class:`stations.simulation.loggers.Logger`, the conversation without I/O) gets one
asyncio task: it connects (and reconnects after a failure, or on purpose for a share of its
reports), sends a report every ``period`` seconds (observation slots one station interval apart
from ``start``), writes each frame in random pieces (split writes), re-sends what was not answered,
and answers what the platform sends (frames found by the session layer's Framer). When its
reports are sent it waits up to ``drain`` seconds for the last 9014s, then closes.

Usable from tests and benches (:func:`run_loggers`) and from ``basin simulate --hj212``.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from stations.formats.hj212 import BEIJING
from stations.formats.hj212_session import Frame, Framer
from stations.simulation.loggers import Counts, Logger
from stations.simulation.model import floor_time


@dataclass(frozen=True)
class Options:
    """How the loggers behave on the wire. ``reports``: in all (spread evenly over the loggers);
    ``seconds``: or send until then."""

    host: str
    port: int
    reports: int | None = None
    seconds: float | None = None
    period: float = 1.0
    start: datetime | None = None
    split_writes: float = 0.5  # share of frames written in 2-4 pieces
    reconnect: float = 0.0  # share of reports after which the logger reconnects
    drain: float = 30.0
    connect_timeout: float = 5.0
    give_up: float = 30.0  # a logger that cannot connect for this long stops (counted)
    seed: int = 0


@dataclass
class Summary:
    """What all loggers did, summed (``counts``) and on the connection level."""

    loggers: int = 0
    connects: int = 0
    reconnects: int = 0
    connect_failures: int = 0
    gave_up: int = 0
    unwritten: int = 0  # frames made while no connection was open (re-sends follow)
    split_writes: int = 0
    bad_frames: int = 0
    unanswered: int = 0
    seconds: float = 0.0
    counts: Counts = field(default_factory=Counts)
    errors: Counter[str] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, object]:
        return {
            "loggers": self.loggers,
            **self.counts.as_dict(),
            "unanswered": self.unanswered,
            "connects": self.connects,
            "reconnects": self.reconnects,
            "connect_failures": self.connect_failures,
            "gave_up": self.gave_up,
            "unwritten": self.unwritten,
            "split_writes": self.split_writes,
            "bad_frames": self.bad_frames,
            "errors": dict(sorted(self.errors.items())),
            "seconds": round(self.seconds, 3),
        }


class _Link:
    """One logger's connection, its reader task and its random split writes."""

    def __init__(self, logger: Logger, options: Options, summary: Summary) -> None:
        self.logger = logger
        self.options = options
        self.summary = summary
        self.rng = np.random.default_rng([options.seed, zlib.crc32(logger.mn.encode())])
        self.writer: asyncio.StreamWriter | None = None
        self.reader_task: asyncio.Task[None] | None = None
        self.lock = asyncio.Lock()

    async def connect(self) -> bool:
        if self.writer is not None and not self.writer.is_closing():
            return True
        if self.writer is not None:
            await self.close()
            self.summary.reconnects += 1
        try:
            reader, self.writer = await asyncio.wait_for(
                asyncio.open_connection(self.options.host, self.options.port),
                self.options.connect_timeout,
            )
        except (OSError, TimeoutError) as exc:
            self.summary.connect_failures += 1
            self.summary.errors[type(exc).__name__] += 1
            self.writer = None
            return False
        self.summary.connects += 1
        self.reader_task = asyncio.create_task(self._read(reader))
        await self.write(self.logger.connected(datetime.now(BEIJING)))
        return True

    async def _read(self, reader: asyncio.StreamReader) -> None:
        framer = Framer()
        try:
            while data := await reader.read(65536):
                for item in framer.feed(data):
                    if not isinstance(item, Frame):
                        self.summary.bad_frames += 1
                        continue
                    replies = self.logger.receive(item.packet, datetime.now(BEIJING))
                    await self.write(replies)
        except (OSError, asyncio.IncompleteReadError) as exc:
            self.summary.errors[type(exc).__name__] += 1
        finally:
            if self.writer is not None:
                self.writer.close()

    async def write(self, frames: Sequence[bytes]) -> None:
        """Write ``frames``, some in random pieces; a broken connection is closed (the frames
        stay unanswered and are re-sent after the next connect)."""
        if not frames:
            return
        async with self.lock:
            writer = self.writer
            if writer is None or writer.is_closing():
                self.summary.unwritten += len(frames)
                return
            written = 0
            try:
                for raw in frames:
                    if len(raw) > 4 and self.rng.random() < self.options.split_writes:
                        self.summary.split_writes += 1
                        pieces = int(self.rng.integers(2, 5))
                        cuts = sorted({int(c) for c in self.rng.integers(1, len(raw), pieces - 1)})
                        for a, b in zip([0, *cuts], [*cuts, len(raw)], strict=True):
                            writer.write(raw[a:b])
                            await writer.drain()
                            await asyncio.sleep(0.001)
                    else:
                        writer.write(raw)
                    written += 1
                await writer.drain()
            except (OSError, ConnectionError) as exc:
                self.summary.errors[type(exc).__name__] += 1
                self.summary.unwritten += len(frames) - written
                writer.close()

    async def close(self, graceful: bool = False) -> None:
        """Close the connection; ``graceful``: half-close first and read the platform's last
        answers until it closes too (at most a second), as a logger that restarts cleanly."""
        writer, self.writer = self.writer, None
        if graceful and writer is not None and self.reader_task is not None:
            with contextlib.suppress(OSError, ConnectionError, TimeoutError):
                writer.write_eof()
                await asyncio.wait_for(asyncio.shield(self.reader_task), 1.0)
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError, ConnectionError):
                await writer.wait_closed()
        if self.reader_task is not None:
            self.reader_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.reader_task
            self.reader_task = None


async def _run_one(
    logger: Logger, options: Options, summary: Summary, deadline: float, reports: int | None
) -> None:
    link = _Link(logger, options, summary)
    interval = timedelta(minutes=logger.station.interval_minutes)
    slot = floor_time(options.start or datetime.now(BEIJING), logger.station.interval_minutes)
    # spread the loggers' first reports over one period
    await asyncio.sleep(float(link.rng.uniform(0, options.period)))
    sent = 0
    next_report = time.monotonic()
    done_at: float | None = None
    connected_at = time.monotonic()
    try:
        while True:
            now_mono = time.monotonic()
            more = (reports is None or sent < reports) and now_mono < deadline
            if not more and done_at is None:
                done_at = now_mono
            if done_at is not None and (not logger.pending or now_mono >= done_at + options.drain):
                return
            if not await link.connect():
                if time.monotonic() - connected_at > options.give_up:
                    summary.gave_up += 1
                    return
                await asyncio.sleep(min(1.0, options.period))
                continue
            connected_at = time.monotonic()
            now = datetime.now(BEIJING)
            frames = logger.due(now)
            if more and now_mono >= next_report:
                frames += logger.measure(slot, now)
                slot += interval
                sent += 1
                next_report += options.period
            await link.write(frames)
            if more and frames and link.rng.random() < options.reconnect:
                await link.close(graceful=True)
                summary.reconnects += 1
            wake = [next_report] if more else []
            due = logger.next_due()
            if due is not None:
                wake.append(
                    time.monotonic() + max(0.0, (due - datetime.now(BEIJING)).total_seconds())
                )
            await asyncio.sleep(
                max(0.001, min(wake, default=time.monotonic() + 0.1) - time.monotonic())
            )
    finally:
        await link.close()


async def run_loggers(loggers: Sequence[Logger], options: Options) -> Summary:
    """Run ``loggers`` against ``options.host:port`` until each sent its reports (or the time is
    up) and was answered (or ``drain`` passed); the summary of what they did."""
    if options.reports is None and options.seconds is None:
        raise ValueError("give reports or seconds")
    summary = Summary(loggers=len(loggers))
    started = time.monotonic()
    deadline = started + (options.seconds if options.seconds is not None else float("inf"))
    total, n = options.reports, len(loggers)
    shares = [None if total is None else total // n + (i < total % n) for i in range(n)]
    await asyncio.gather(
        *(
            _run_one(lg, options, summary, deadline, share)
            for lg, share in zip(loggers, shares, strict=True)
        )
    )
    summary.seconds = time.monotonic() - started
    for logger in loggers:
        summary.counts.add(logger.counts)
        summary.unanswered += logger.unanswered
    return summary
