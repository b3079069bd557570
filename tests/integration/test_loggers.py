"""The asyncio logger client over real TCP on loopback, against a tiny platform written here that
answers with the session layer: every frame it receives is counted in exactly one way, every
upload is answered in the end, and the loggers answer its 1012 and 2061; then against the real
`basin gateway` and broker: every report stored, every fault rejected for its reason."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from stations.formats import hj212
from stations.formats.hj212 import BEIJING, Packet
from stations.formats.hj212_session import (
    BadFrame,
    Framer,
    Kind,
    data_answer,
    data_request,
    kind_of,
    set_time_request,
)
from stations.registry import Registry, load_registry
from stations.simulation.loggers import LoggerFaults, make_loggers
from streams.deadletter import DeadLetter
from streams.testing.loggers import Options, Summary, run_loggers
from streams.testing.pipeline import TopicReader, wait_for
from tests.integration.conftest import TopicSet, _free_port
from tests.integration.test_gateway import Gateway, password

START = datetime(2021, 4, 1, tzinfo=BEIJING)
EIGHT_HOURS = timedelta(hours=8)


@dataclass
class Platform:
    """Answers uploads with 9014, except the first send of every third QN (to make the loggers
    re-send) and uploads with a wrong password; asks one logger for time and history."""

    passwords: dict[str, str]
    ask: str  # MN of the logger it sends 1012 and 2061 to, once it sent 08:00
    bad: Counter[str] = field(default_factory=Counter)
    frames: int = 0
    wrong_password: int = 0
    uploads: Counter[tuple[str, str]] = field(default_factory=Counter)  # (MN, QN) -> copies
    replies: list[Packet] = field(default_factory=list)
    asked: bool = False

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # a logger that reconnects may close with answers unread: a reset
        with contextlib.suppress(ConnectionError):
            await self._serve(reader, writer)
        writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        framer = Framer()
        while data := await reader.read(4096):
            for item in framer.feed(data):
                self.frames += 1
                if isinstance(item, BadFrame):
                    self.bad[item.reason] += 1
                    continue
                packet = item.packet
                if kind_of(packet) is not Kind.UPLOAD:
                    self.replies.append(packet)
                    continue
                if packet.password != self.passwords[packet.mn]:
                    self.wrong_password += 1
                    continue
                qn = (packet.mn, packet.header["QN"])
                self.uploads[qn] += 1
                if packet.cn == "2061":
                    self.replies.append(packet)
                if len(self.uploads) % 3 == 0 and self.uploads[qn] == 1:
                    continue
                writer.write(data_answer(packet))
                ready = packet.data_time is not None and packet.data_time >= START + EIGHT_HOURS
                if packet.mn == self.ask and not self.asked and ready:
                    self.asked = True
                    pw, now = self.passwords[packet.mn], datetime.now(BEIJING)
                    writer.write(set_time_request(packet.mn, pw, "21", now, now))
                    begin, end = START, START + EIGHT_HOURS
                    writer.write(data_request(packet.mn, pw, "21", "2061", begin, end, now))
            await writer.drain()


def test_loggers_over_tcp_every_frame_is_counted_and_every_upload_answered() -> None:
    registry: Registry = load_registry()
    stations = [s for s in registry if s.hj212 is not None][:20]
    passwords = {s.id: f"{i:06d}" for i, s in enumerate(stations, start=100)}
    faults = LoggerFaults(wrong_password=0.1, corrupt=0.1, split=0.3)
    loggers = make_loggers(stations, passwords, seed=5, faults=faults, resend_after=0.3)
    by_mn = {lg.mn: passwords[lg.station.id] for lg in loggers}
    platform = Platform(by_mn, ask=loggers[0].mn)

    async def main() -> Summary:
        server = await asyncio.start_server(platform.serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        options = Options(
            "127.0.0.1",
            port,
            reports=6 * len(loggers),
            period=0.05,
            start=START,
            reconnect=0.2,
            drain=20,
            seed=5,
        )
        async with server:
            return await run_loggers(loggers, options)

    summary = asyncio.run(main())
    c = summary.counts
    assert summary.unanswered == 0 and c.answered == c.uploads
    assert c.reports == 6 * len(loggers)
    # every frame a logger wrote reached the platform, counted once
    assert platform.frames == c.sent - summary.unwritten
    assert platform.bad == Counter({"bad_crc": c.corrupt}) and c.corrupt > 0
    assert platform.wrong_password == c.wrong_password > 0
    assert len(platform.uploads) == c.uploads  # each upload (or part) under its own QN
    unanswered_once = len(platform.uploads) // 3
    assert c.resent >= unanswered_once + c.corrupt + c.wrong_password
    received = sum(platform.uploads.values()) + c.corrupt + c.wrong_password
    assert c.uploads + c.resent - summary.unwritten <= received <= c.uploads + c.resent
    assert c.split_reports > 0 and summary.split_writes > 0
    assert summary.reconnects > 0
    # the asked logger set its clock and served 00, 04 and 08 h (a 4-hourly station)
    asked = [p for p in platform.replies if p.mn == loggers[0].mn]
    cns = [p.cn for p in asked]
    assert cns.count("9011") == 2 and cns.count("9012") == 2
    history = sorted({p.data_time for p in asked if p.cn == "2061"})  # re-sends included
    step = timedelta(minutes=loggers[0].station.interval_minutes)
    assert history == [START + i * step for i in range(int(EIGHT_HOURS / step) + 1)]
    assert c.requests == Counter({"1012": 1, "2061": 1})


def test_loggers_against_the_real_gateway_every_report_stored_and_faults_rejected(
    topics: TopicSet, tmp_path: Path
) -> None:
    topics.create("raw", "rejected")
    registry = load_registry()
    stations = [s for s in registry if s.hj212 is not None][:30]
    passwords = {s.id: password(s.hj212.password_ref) for s in stations if s.hj212}
    secrets = tmp_path / "secrets"
    secrets.write_text(
        "".join(f"{s.hj212.password_ref}={passwords[s.id]}\n" for s in stations if s.hj212)
    )
    secrets.chmod(0o600)
    env = topics.worker_env(
        BASIN_GATEWAY_PORT=str(_free_port()),
        BASIN_GATEWAY_METRICS_PORT=str(_free_port()),
        BASIN_GATEWAY_SECRETS_PATH=str(secrets),
        BASIN_GATEWAY_MAX_FRAMES_PER_SECOND="1000",
    )
    gateway = Gateway(env, tmp_path / "gateway.log")
    seen = {
        "raw": TopicReader(topics.bootstrap, topics.name("raw")),
        "rejected": TopicReader(topics.bootstrap, topics.name("rejected")),
    }
    faults = LoggerFaults(wrong_password=0.1, corrupt=0.1, split=0.3)
    loggers = make_loggers(
        stations, passwords, seed=11, faults=faults, resend_after=1.0, max_drift=300
    )
    options = Options(
        "127.0.0.1",
        gateway.port,
        reports=4 * len(loggers),
        period=0.1,
        start=START,
        reconnect=0.1,
        drain=60,
        seed=11,
    )
    try:
        summary = asyncio.run(run_loggers(loggers, options))
    finally:
        assert gateway.stop() == 0
    c = summary.counts
    assert summary.unanswered == 0 and c.answered == c.uploads
    assert c.wrong_password > 0 and c.corrupt > 0 and c.split_reports > 0
    # each logger asked for the time (1013) on connecting; the gateway's 1012 set its clock. The
    # gateway sets a clock at most once per connection: a logger that reconnected before its set
    # clock was seen again may be set once more, never more often than it connected.
    assert len(loggers) <= c.requests["1012"] <= summary.connects
    assert all(abs(lg.drift) < timedelta(seconds=2) for lg in loggers)
    wait_for(seen, {"raw": c.reports, "rejected": c.wrong_password + c.corrupt}, timeout=60)
    reasons = Counter(d.reason for d in seen["rejected"].decoded(DeadLetter))
    assert reasons == {"bad_password": c.wrong_password, "bad_crc": c.corrupt}
    stored = [hj212.parse(r.value) for r in seen["raw"].records]
    sent = {(lg.mn, slot) for lg in loggers for slot in lg.history}
    assert {(p.mn, p.data_time) for p in stored} == sent  # every report, none invented
    # at most one message per good upload frame received (a report, or one part of a split one)
    assert len(stored) <= c.uploads + c.resent - c.wrong_password - c.corrupt
