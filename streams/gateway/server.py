"""The HJ 212 gateway: an asyncio TCP server, thin around the session layer.

Every frame a logger sends ends in exactly one place (and one counter of :mod:`.metrics`):

- ``raw``: an upload of a known station with the right password, published on the raw topic
  (value: the original bytes; key: the station id; headers: ``received_at``, ``peer``, ``mn``);
  a split upload (PNUM/PNO) is published once, its parts joined, and each part is answered then;
  its 9014 is written only after the broker acknowledged the write (``acks=all``, idempotent
  producer), so a logger that re-sends what was not answered loses nothing;
- ``rejected``: a :class:`~streams.deadletter.DeadLetter` with the original bytes and the reason
  (``bad_crc``, ``bad_length``, ``malformed``, ``unknown_station``, ``bad_password``, and
  ``subpacket_timeout`` for each part of a split upload not complete in time);
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
from datetime import UTC, datetime, timedelta

from stations.errors import UnknownStationError
from stations.formats.hj212 import Hj212Error, Packet, parse_time
from stations.formats.hj212_session import (
    BadFrame,
    Frame,
    Framer,
    Kind,
    Outcome,
    Reassembler,
    data_answer,
    data_request,
    heartbeat_answer,
    is_split,
    kind_of,
    notification_answer,
    request_answer,
    set_time_request,
    wants_answer,
)
from stations.registry import Registry
from stations.station import Station
from streams.deadletter import Source, dead_letter
from streams.gateway.metrics import Metrics
from streams.gateway.requests import Requests
from streams.gateway.secrets import Secrets
from streams.settings import Settings

log = logging.getLogger(__name__)

#: Publish ``value`` on ``topic`` with ``key`` and ``headers``; returns once the broker has it.
Publish = Callable[[str, bytes, bytes | None, list[tuple[str, bytes]]], Awaitable[None]]

READ_SIZE = 4096
#: The window of each history kind (for a backfill's BeginTime/EndTime).
HISTORY_WINDOWS = {"2061": timedelta(hours=1), "2031": timedelta(days=1)}
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
    closed: bool = False  # the peer stopped reading: frames still read are routed, unanswered
    requests: Requests = field(default_factory=Requests)
    checked: set[str] = field(default_factory=set)  # stations whose first upload was seen
    clock_set: set[str] = field(default_factory=set)  # MNs sent a 1012 on this connection


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
        self._last: dict[tuple[str, str], datetime] = {}  # (station, CN) -> latest DataTime
        # split uploads are joined across connections (a logger may reconnect between parts)
        self._parts = Reassembler()
        self._part_peers: dict[bytes, str] = {}  # a waiting part's bytes -> its peer
        self._stored_parts: dict[bytes, float] = {}  # parts of stored reports -> when stored
        self._expiry: asyncio.Task[None] | None = None

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
        self._expiry = asyncio.create_task(self._expire_parts())
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
        if self._expiry is not None:
            self._expiry.cancel()
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
        conn.requests = Requests(
            self.settings.gateway_request_timeout_seconds, self.settings.gateway_request_retries
        )
        conn.allowance = self.settings.gateway_max_frames_per_second
        conn.last = asyncio.get_running_loop().time()
        self._connections[task] = conn
        self.metrics.event("opened")
        self.metrics.open_connections += 1
        try:
            await self._serve(conn)
        finally:
            if conn.framer.pending:  # a frame cut by the end of its connection
                self.metrics.event("truncated")
                log.info("connection %s ended inside a frame", conn.peer)
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
            if conn.requests.pending:  # wake up for their deadlines
                for frame in conn.requests.due(now):
                    await self._write(conn, frame)
                wait = min(timeout, 1.0)
            else:
                wait = timeout
            try:
                data = await asyncio.wait_for(conn.reader.read(READ_SIZE), max(wait, 0.0))
            except TimeoutError:
                if wait < timeout:
                    continue
                self.metrics.event(cut)
                log.info("connection %s cut: %s", conn.peer, cut)
                return
            if not data:
                return
            for item in conn.framer.feed(data):
                await self._throttle(conn)
                await self._route(item, conn)
            if conn.closed:
                return
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
        """Answer; a peer that is gone or does not read is marked closed (the frames already
        read still end in their outcome), never an exception."""
        if conn.closed:
            return
        try:
            conn.writer.write(data)
            await asyncio.wait_for(conn.writer.drain(), WRITE_SECONDS)
        except (ConnectionError, TimeoutError) as exc:
            conn.closed = True
            self.metrics.event("cut_write")
            log.info("connection %s: answer not delivered (%s)", conn.peer, type(exc).__name__)

    # --- one frame ---------------------------------------------------------------------------
    async def _route(self, item: Frame | BadFrame, conn: Connection) -> None:
        conn.frames += 1
        if isinstance(item, BadFrame):
            await self._reject(conn, item.raw, str(item.reason), item.detail, None)
            refused = item.packet
            if (
                item.reason is Outcome.BAD_CRC
                and refused is not None
                and kind_of(refused) not in (Kind.UPLOAD, Kind.HEARTBEAT, Kind.ANSWER)
            ):  # a station's request with a bad CRC is refused with QnRtn 9 (Annex C)
                await self._write(conn, request_answer(refused, 9))
            return
        packet = item.packet
        kind = kind_of(packet)
        try:
            station = self.registry.by_mn(packet.mn)
        except UnknownStationError:
            if kind not in (Kind.UPLOAD, Kind.HEARTBEAT, Kind.ANSWER):
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
            await self._check_clock(conn, packet)
        if kind is Kind.UPLOAD:
            await self._upload(conn, item, station)
        elif kind is Kind.NOTIFICATION:  # 1013: the logger asks for the time
            await self._write(conn, notification_answer(packet))
            await self._set_clock(conn, packet)
            self.metrics.frame("exchange", "time_request")
        elif kind is Kind.ANSWER:
            log.info("station %s answered %s: %s", station.id, packet.cn, dict(packet.extra))
            conn.requests.answered(packet, asyncio.get_running_loop().time())
            self.metrics.frame("exchange", f"answer_{packet.cn}")
        else:  # REPLY (data for a platform request) or UNKNOWN: a logger's, not answered
            log.info("station %s sent CN=%s outside an upload", station.id, packet.cn)
            self.metrics.frame("exchange", f"other_{kind}")

    async def _request(self, conn: Connection, frame: bytes, what: str) -> None:
        conn.requests.sent(frame, what, asyncio.get_running_loop().time())
        await self._write(conn, frame)
        self.metrics.event(f"request_{what}")

    async def _check_clock(self, conn: Connection, packet: Packet) -> None:
        """§6.7: on a station's first connection, set its clock when its QN drifts too far."""
        drift = self.settings.gateway_time_drift_seconds
        qn = packet.header.get("QN", "")
        if not drift or len(qn) != 17 or not qn.isdigit():
            return
        now = datetime.now(UTC)
        try:
            off = abs((parse_time(qn) - now).total_seconds())
        except Hj212Error:
            return
        if off > drift:
            log.info("MN %s: clock %.0f s off, setting it", packet.mn, off)
            await self._set_clock(conn, packet)

    async def _set_clock(self, conn: Connection, packet: Packet) -> None:
        """1012 with the platform's time, once per station and connection (a 1013 right after
        the drift check gets its 9013, and the clock is already set)."""
        if packet.mn in conn.clock_set:
            return
        conn.clock_set.add(packet.mn)
        now = datetime.now(UTC)
        frame = set_time_request(packet.mn, packet.password or "", packet.st, now, now)
        await self._request(conn, frame, "set_time")

    async def _backfill(self, conn: Connection, frame: Frame, station: Station) -> None:
        """On a station's first upload on a connection: when it follows the station's latest one
        by more than its interval, ask for the slots between (same CN: hourly 2061 or daily
        2031, BeginTime = the first missed slot, EndTime = the last)."""
        packet, cn = frame.packet, frame.packet.cn
        window = HISTORY_WINDOWS.get(cn)
        if window is None or packet.data_time is None:
            return
        key = (station.id, cn)
        last = self._last.get(key)
        self._last[key] = max(last or packet.data_time, packet.data_time)
        if station.id in conn.checked:
            return
        conn.checked.add(station.id)
        step = max(window, timedelta(minutes=station.interval_minutes))
        if last is None or packet.data_time - last <= step:
            return
        begin, end = last + step, packet.data_time - step
        log.info("station %s: backfill %s from %s to %s", station.id, cn, begin, end)
        now = datetime.now(UTC)
        password = packet.password or ""
        request = data_request(packet.mn, password, packet.st, cn, begin, end, now)
        await self._request(conn, request, f"backfill_{cn}")

    async def _expire_parts(self) -> None:
        """Every second: parts of split uploads not complete in time go to dead letters."""
        loop = asyncio.get_running_loop()
        timeout = self.settings.gateway_subpacket_seconds
        while True:
            await asyncio.sleep(1.0)
            now = loop.time()
            for raw, stored_at in list(self._stored_parts.items()):
                if now - stored_at > 10 * timeout:
                    del self._stored_parts[raw]
            for parts in self._parts.expire(now, timeout):
                for part in parts:
                    peer = self._part_peers.pop(part.raw, "?")
                    key = self.registry.by_mn(part.packet.mn).id.encode()
                    header = part.packet.header
                    detail = f"part {header.get('PNO')} of {header.get('PNUM')} ({timeout:g} s)"
                    document = dead_letter(
                        part.raw, key, Source(f"hj212://{peer}", 0, 0), "subpacket_timeout", detail
                    )
                    try:
                        await self.publish(self.settings.topic_rejected, document, key, [])
                    except Exception as exc:
                        self.metrics.event("publish_failed")
                        log.warning("dead letter (subpacket_timeout) not stored: %s", exc)
                        continue
                    self.metrics.frame("rejected", "subpacket_timeout")

    async def _upload(self, conn: Connection, frame: Frame, station: Station) -> None:
        if not is_split(frame.packet):
            await self._store(conn, frame, station, [frame])
            return
        if frame.raw in self._stored_parts:  # a re-sent part of a stored report: answer it
            self.metrics.frame("raw", "part_stored_before")
            if wants_answer(frame.packet):
                await self._write(conn, data_answer(frame.packet))
            return
        self._part_peers[frame.raw] = conn.peer
        whole = self._parts.add(frame, asyncio.get_running_loop().time())
        if whole is not None:  # the parts are answered once the joined report is stored
            parts = [p for p in Framer(len(whole.raw)).feed(whole.raw) if isinstance(p, Frame)]
            for part in parts:
                self._part_peers.pop(part.raw, None)
            await self._store(conn, whole, station, parts)

    async def _store(
        self, conn: Connection, frame: Frame, station: Station, parts: list[Frame]
    ) -> None:
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
        await self._backfill(conn, frame, station)
        now = asyncio.get_running_loop().time()
        for part in parts:
            self.metrics.frame("raw", "upload" if len(parts) == 1 else "part")
            if len(parts) > 1:
                self._stored_parts[part.raw] = now
            if wants_answer(part.packet):
                await self._write(conn, data_answer(part.packet))

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
