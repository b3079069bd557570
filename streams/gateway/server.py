"""The HJ 212 gateway: an asyncio TCP server, thin around the session layer.

Every frame a logger sends ends in exactly one place (and one counter of :mod:`.metrics`):

- ``raw``: an upload of a known station with the right password, published on the raw topic
  (value: the original bytes; key: the station id; headers: ``received_at``, ``peer``, ``mn``);
  its 9014 is written only after the broker acknowledged the write (``acks=all``, idempotent
  producer), so a logger that re-sends what was not answered loses nothing;
- ``rejected``: a :class:`~streams.deadletter.DeadLetter` with the original bytes and the reason
  (``bad_crc``, ``bad_length``, ``malformed``, ``unknown_station``, ``bad_password``);
- ``exchange``: heartbeats, notifications, the logger's answers and refused requests (9011 with
  QnRtn 3 or 4): answered, nothing published.

Protection: a connection limit; per connection, a frame rate (a fast sender is slowed, not cut),
a bound on the bytes of unfinished frames, a read deadline for a started frame (slowloris) and an
idle deadline; a write that the peer does not read ends its connection only. A bad frame never
closes a connection. SIGTERM stops accepting, lets every connection finish the frames it has read
(answers included), then flushes the producer.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from stations.errors import UnknownStationError
from stations.registry import Registry
from stations.station import Station
from streams.deadletter import Source, dead_letter
from streams.gateway.metrics import Metrics
from streams.gateway.protocol import (
    BadFrame,
    Frame,
    Framer,
    Kind,
    data_answer,
    heartbeat_answer,
    kind_of,
    notification_answer,
    request_answer,
    set_time_request,
    wants_answer,
)
from streams.gateway.secrets import Secrets
from streams.settings import Settings

log = logging.getLogger(__name__)

#: Publish ``value`` on ``topic`` with ``key`` and ``headers``; returns once the broker has it.
Publish = Callable[[str, bytes, bytes | None, list[tuple[str, bytes]]], Awaitable[None]]

READ_SIZE = 4096
WRITE_SECONDS = 10.0


@dataclass
class Connection:
    """One logger's connection: its peer, its framer and its rate budget."""

    peer: str
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    framer: Framer
    frames: int = 0
    allowance: float = 0.0
    last: float = 0.0
    mns: set[str] = field(default_factory=set)


class Gateway:
    """The server: accepts loggers, frames their bytes and sends each frame to its outcome."""

    def __init__(
        self,
        settings: Settings,
        registry: Registry,
        secrets: Secrets,
        publish: Publish,
        metrics: Metrics | None = None,
    ) -> None:
        self.settings = settings
        self.registry = registry
        self.secrets = secrets
        self.publish = publish
        self.metrics = metrics or Metrics()
        self._server: asyncio.Server | None = None
        self._connections: dict[asyncio.Task[None], Connection] = {}

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self, port: int | None = None) -> None:
        self._server = await asyncio.start_server(
            self._accept,
            self.settings.gateway_host,
            self.settings.gateway_port if port is None else port,
            limit=self.settings.gateway_max_pending_bytes,
            backlog=4096,
        )
        log.info("gateway listening on %s:%d", self.settings.gateway_host, self.port)

    async def stop(self, timeout: float = 30.0) -> None:
        """Stop accepting; every connection finishes what it has read; then return."""
        if self._server is not None:
            self._server.close()
        for conn in list(self._connections.values()):
            conn.reader.feed_eof()  # its loop ends after the frames already read
        tasks = list(self._connections)
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)
        if self._server is not None:
            await self._server.wait_closed()

    # --- one connection ----------------------------------------------------------------------
    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        host, port = writer.get_extra_info("peername")[:2]
        if len(self._connections) >= self.settings.gateway_max_connections:
            self.metrics.event("refused")
            writer.close()
            return
        task = asyncio.current_task()
        assert task is not None
        conn = Connection(f"{host}:{port}", reader, writer, Framer(self.settings.gateway_max_data))
        conn.allowance = self.settings.gateway_max_frames_per_second
        conn.last = asyncio.get_running_loop().time()
        self._connections[task] = conn
        self.metrics.event("opened")
        self.metrics.open_connections += 1
        try:
            await self._serve(conn)
        except (ConnectionError, TimeoutError) as exc:
            self.metrics.event("cut_write")
            log.info("connection %s ended: %s", conn.peer, type(exc).__name__)
        finally:
            del self._connections[task]
            self.metrics.open_connections -= 1
            writer.close()

    async def _serve(self, conn: Connection) -> None:
        loop = asyncio.get_running_loop()
        s = self.settings
        started: float | None = None  # when the unfinished frame's first byte came
        while True:
            now = loop.time()
            if conn.framer.pending:
                started = now if started is None else started
                timeout = started + s.gateway_read_seconds - now
                cut = "cut_read_timeout"
            else:
                started = None
                timeout = s.gateway_idle_seconds
                cut = "cut_idle"
            try:
                data = await asyncio.wait_for(conn.reader.read(READ_SIZE), max(timeout, 0.0))
            except TimeoutError:
                self.metrics.event(cut)
                log.info("connection %s cut: %s", conn.peer, cut)
                return
            if not data:
                return
            for item in conn.framer.feed(data):
                await self._throttle(conn)
                await self._route(item, conn)
            if conn.framer.pending > s.gateway_max_pending_bytes:
                self.metrics.event("cut_pending")
                return

    async def _throttle(self, conn: Connection) -> None:
        """Token bucket: a connection over its frame rate waits (only it)."""
        rate = self.settings.gateway_max_frames_per_second
        now = asyncio.get_running_loop().time()
        conn.allowance = min(rate, conn.allowance + (now - conn.last) * rate)
        conn.last = now
        if conn.allowance < 1.0:
            await asyncio.sleep((1.0 - conn.allowance) / rate)
            conn.allowance = 1.0
            conn.last = asyncio.get_running_loop().time()
        conn.allowance -= 1.0

    async def _write(self, conn: Connection, data: bytes) -> None:
        conn.writer.write(data)
        await asyncio.wait_for(conn.writer.drain(), WRITE_SECONDS)

    # --- one frame ---------------------------------------------------------------------------
    async def _route(self, item: Frame | BadFrame, conn: Connection) -> None:
        conn.frames += 1
        if isinstance(item, BadFrame):
            await self._reject(conn, item.raw, str(item.reason), item.detail, None)
            return
        packet = item.packet
        kind = kind_of(packet)
        try:
            station = self.registry.by_mn(packet.mn)
        except UnknownStationError:
            if kind in (Kind.REQUEST, Kind.NOTIFICATION):
                await self._write(conn, request_answer(packet, 4))
                self.metrics.frame("exchange", "refused_unknown_station")
            else:
                detail = f"no station with MN {packet.mn!r}"
                await self._reject(conn, item.raw, "unknown_station", detail, None)
            return
        assert station.hj212 is not None
        key = station.id.encode()
        if kind is Kind.HEARTBEAT:
            await self._write(conn, heartbeat_answer(packet))
            self.metrics.frame("exchange", "heartbeat")
            return
        if not self.secrets.check(station.hj212.password_ref, packet.password):
            if kind is Kind.UPLOAD:
                detail = f"wrong password for MN {packet.mn!r}"
                await self._reject(conn, item.raw, "bad_password", detail, key)
            else:
                await self._write(conn, request_answer(packet, 3))
                self.metrics.frame("exchange", "refused_bad_password")
            return
        if packet.mn not in conn.mns:
            conn.mns.add(packet.mn)
            log.info("station %s (MN %s) connected from %s", station.id, packet.mn, conn.peer)
        if kind is Kind.UPLOAD:
            await self._upload(conn, item, station)
        elif kind is Kind.NOTIFICATION:  # 1013: the logger asks for the time
            await self._write(conn, notification_answer(packet))
            password = packet.password or ""
            now = datetime.now(UTC)
            await self._write(conn, set_time_request(packet.mn, password, packet.st, now, now))
            self.metrics.frame("exchange", "time_request")
        elif kind is Kind.ANSWER:
            log.info("station %s answered %s: %s", station.id, packet.cn, dict(packet.extra))
            self.metrics.frame("exchange", f"answer_{packet.cn}")
        else:
            await self._write(conn, request_answer(packet, 2))
            self.metrics.frame("exchange", "refused_request")

    async def _upload(self, conn: Connection, frame: Frame, station: Station) -> None:
        headers = [
            ("received_at", datetime.now(UTC).isoformat().encode()),
            ("peer", conn.peer.encode()),
            ("mn", frame.packet.mn.encode()),
        ]
        try:
            await self.publish(self.settings.topic_raw, frame.raw, station.id.encode(), headers)
        except Exception as exc:  # not answered: the logger re-sends it
            self.metrics.event("publish_failed")
            log.warning("report of %s not stored (%s); not answered", station.id, exc)
            return
        self.metrics.frame("raw", "upload")
        if wants_answer(frame.packet):
            await self._write(conn, data_answer(frame.packet))

    async def _reject(
        self, conn: Connection, raw: bytes, reason: str, detail: str, key: bytes | None
    ) -> None:
        source = Source(topic=f"hj212://{conn.peer}", partition=0, offset=conn.frames)
        document = dead_letter(raw, key, source, reason, detail)
        try:
            await self.publish(self.settings.topic_rejected, document, key, [])
        except Exception as exc:  # not counted as rejected: the logger re-sends
            self.metrics.event("publish_failed")
            log.warning("dead letter (%s) from %s not stored: %s", reason, conn.peer, exc)
            return
        self.metrics.frame("rejected", reason)
