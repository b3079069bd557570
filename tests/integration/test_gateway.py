"""`basin gateway` over real TCP on loopback, publishing to the real broker.

The gateway runs as a subprocess (as an operator runs it); a minimal asyncio logger speaks to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from stations.formats.hj212 import build, crc16, parse, parse_time
from stations.registry import load_registry
from stations.simulation.loggers import LoggerFaults, make_loggers
from streams.deadletter import DeadLetter
from streams.testing.loggers import Options, run_loggers
from streams.testing.pipeline import TopicReader, wait_for
from tests.integration.conftest import REPO, TopicSet, _free_port

REGISTRY = load_registry()
LINKS = [(s.id, s.hj212.mn, s.hj212.password_ref) for s in REGISTRY.stations if s.hj212]
T0 = datetime(2026, 4, 1, tzinfo=UTC)


def password(ref: str) -> str:
    return "pw" + ref.rsplit("-", 1)[-1]


def report(mn: str, pw: str, at: datetime, flag: str = "5", cn: str = "2061") -> bytes:
    header = {"QN": at.strftime("%Y%m%d%H%M%S000"), "ST": "21", "CN": cn, "PW": pw, "MN": mn}
    header["Flag"] = flag
    return build(header, at, {"w01001": {"Avg": "7.2", "Flag": "N"}})


def framed(data: bytes) -> bytes:
    return b"##%04d%s%04X\r\n" % (len(data), data, crc16(data))


class Gateway:
    """A `basin gateway` subprocess on a free port."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.port = int(env["BASIN_GATEWAY_PORT"])
        self.metrics_port = int(env["BASIN_GATEWAY_METRICS_PORT"])
        self.log = log
        self._file = log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streams", "gateway"],
            cwd=REPO,
            env=env,
            stdout=self._file,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text()[-3000:]
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.2)
        pytest.fail(f"gateway did not listen:\n{self.log.read_text()[-3000:]}")

    def metrics(self) -> str:
        import urllib.request

        url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        with urllib.request.urlopen(url, timeout=5) as response:
            return str(response.read().decode())

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(30)
        self._file.close()
        return self.proc.returncode

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait(10)
        self._file.close()


@pytest.fixture
def gateway_env(topics: TopicSet, tmp_path: Path) -> dict[str, str]:
    topics.create("raw", "rejected")
    secrets = tmp_path / "secrets"
    secrets.write_text("".join(f"{ref}={password(ref)}\n" for _, _, ref in LINKS))
    secrets.chmod(0o600)
    return topics.worker_env(
        BASIN_GATEWAY_PORT=str(_free_port()),
        BASIN_GATEWAY_METRICS_PORT=str(_free_port()),
        BASIN_GATEWAY_SECRETS_PATH=str(secrets),
        BASIN_GATEWAY_READ_SECONDS="3",
        BASIN_GATEWAY_MAX_FRAMES_PER_SECOND="1000",
        BASIN_GATEWAY_TIME_DRIFT_SECONDS="0",  # the reports' QNs are in 2026-04: no 1012
    )


@pytest.fixture
def start_gateway(gateway_env: dict[str, str], tmp_path: Path) -> Iterator[object]:
    started: list[Gateway] = []

    def start(**extra: str) -> Gateway:
        gateway = Gateway(gateway_env | extra, tmp_path / "gateway.log")
        started.append(gateway)
        return gateway

    yield start
    for gateway in started:
        gateway.stop()


def readers(topics: TopicSet) -> dict[str, TopicReader]:
    return {
        "raw": TopicReader(topics.bootstrap, topics.name("raw")),
        "rejected": TopicReader(topics.bootstrap, topics.name("rejected")),
    }


async def close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(ConnectionError):
        await writer.wait_closed()


async def read_frame(reader: asyncio.StreamReader, timeout: float = 10) -> bytes:
    return await asyncio.wait_for(reader.readuntil(b"\r\n"), timeout)


def test_a_report_is_answered_only_once_stored(start_gateway, topics: TopicSet) -> None:
    gateway = start_gateway()
    station, mn, ref = LINKS[0]
    packet = report(mn, password(ref), T0)
    raw_reader = TopicReader(topics.bootstrap, topics.name("raw"))

    async def talk() -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
        writer.write(packet[:7])  # split across writes
        await writer.drain()
        await asyncio.sleep(0.1)
        writer.write(packet[7:])
        answer = await read_frame(reader)
        gateway.kill()  # answered, so already stored: a SIGKILL now loses nothing
        await close(writer)
        return answer

    answer = asyncio.run(talk())
    _poll_until(raw_reader, 1)
    qn = T0.strftime("%Y%m%d%H%M%S000")
    data = f"QN={qn};ST=91;CN=9014;PW={password(ref)};MN={mn};Flag=4;CP=&&&&".encode()
    assert answer == framed(data)
    record = raw_reader.records[0]
    assert record.value == packet
    assert record.key == station.encode()
    headers = dict(record.headers)
    assert headers["mn"] == mn.encode()
    assert headers["peer"].startswith(b"127.0.0.1:")
    received = datetime.fromisoformat(headers["received_at"].decode())
    assert abs(received - datetime.now(UTC)) < timedelta(minutes=1)


def _poll_until(reader: TopicReader, count: int, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while reader.poll() < count:
        assert time.monotonic() < deadline, f"{len(reader.records)} < {count}"
    return True


def test_every_frame_ends_in_exactly_one_place(start_gateway, topics: TopicSet) -> None:
    gateway = start_gateway()
    _, mn, ref = LINKS[0]
    good = report(mn, password(ref), T0)
    bad_crc = good[:-6] + (b"0000" if good[-6:-2] != b"0000" else b"1111") + b"\r\n"
    bad_length = b"##0012QN=1;ST=21CRCX\r\n"  # no \r\n where the length ends
    malformed = framed(b"QN=1;ST=21;CN=2061;PW=x;MN=" + mn.encode())  # no CP
    unknown = report("999999NOTHERE1", "pw0000", T0)
    wrong_pw = report(mn, "wrong!", T0)
    heartbeat = framed(f"ST=21;CN=8013;PW={password(ref)};MN={mn};Flag=4;CP=&&&&".encode())
    request = framed(f"QN=1;ST=21;CN=1011;PW=wrong!;MN={mn};Flag=5;CP=&&&&".encode())
    asked = framed(f"QN=2;ST=21;CN=1011;PW={password(ref)};MN={mn};Flag=5;CP=&&&&".encode())
    request_bad_crc = asked[:-6] + (b"0000" if asked[-6:-2] != b"0000" else b"1111") + b"\r\n"
    frames = [
        bad_crc, bad_length, malformed, unknown, wrong_pw, heartbeat, request, request_bad_crc,
        good,
    ]  # fmt: skip
    seen = readers(topics)

    async def talk() -> list[bytes]:
        reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
        writer.write(b"garbage" + b"".join(frames))  # all in one write: one connection
        await writer.drain()
        answers = [await read_frame(reader) for _ in range(4)]  # heartbeat, 9011 (3, 9), 9014
        await close(writer)
        return answers

    answers = asyncio.run(talk())
    assert b"CN=8013" not in answers[0] and b"ST=91" in answers[0]
    assert b"CN=9011" in answers[1] and b"QnRtn=3" in answers[1]
    assert b"CN=9011" in answers[2] and b"QnRtn=9" in answers[2] and b"QN=2" in answers[2]
    assert b"CN=9014" in answers[3]
    wait_for(seen, {"raw": 1, "rejected": 7}, timeout=30)
    assert [r.value for r in seen["raw"].records] == [good]
    letters = {d.reason: d for d in seen["rejected"].decoded(DeadLetter)}
    reasons = Counter(d.reason for d in seen["rejected"].decoded(DeadLetter))
    assert reasons == {
        "bad_crc": 2,  # the upload, and the request (answered QnRtn 9 as well)
        "bad_length": 1,
        "bad_password": 1,
        "malformed": 2,  # the garbage before the first frame, and the frame without CP
        "unknown_station": 1,
    }
    assert {d.original for d in seen["rejected"].decoded(DeadLetter) if d.reason == "bad_crc"} == {
        bad_crc,
        request_bad_crc,
    }
    assert {d.original for d in seen["rejected"].decoded(DeadLetter)} >= {b"garbage", malformed}
    assert letters["unknown_station"].original == unknown
    assert letters["bad_password"].original == wrong_pw
    assert letters["bad_length"].original.startswith(b"##0012")
    assert b"wrong!" not in gateway.log.read_bytes() and password(ref).encode() not in (
        gateway.log.read_bytes()
    )
    metrics = gateway.metrics()
    assert 'outcome="exchange",label="heartbeat"} 1' in metrics
    assert 'outcome="exchange",label="refused_bad_password"} 1' in metrics


def test_a_slowloris_is_cut_while_another_logger_goes_on(start_gateway, topics: TopicSet) -> None:
    gateway = start_gateway()  # read timeout 3 s
    _, mn, ref = LINKS[0]

    async def slow() -> float:
        reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
        started = time.monotonic()
        packet = report(mn, password(ref), T0)
        for byte in packet:
            writer.write(bytes([byte]))
            try:
                await writer.drain()
                if await asyncio.wait_for(reader.read(1), 1.0) == b"":
                    break
            except TimeoutError:
                continue
            except ConnectionError:
                break
        elapsed = time.monotonic() - started
        await close(writer)
        return elapsed

    async def fast() -> int:
        reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
        answered = 0
        for i in range(200):
            writer.write(report(mn, password(ref), T0 + timedelta(minutes=i)))
            await read_frame(reader)
            answered += 1
        await close(writer)
        return answered

    async def both() -> tuple[float, int]:
        cut_after, answered = await asyncio.gather(slow(), fast())
        return cut_after, answered

    cut_after, answered = asyncio.run(both())
    assert 2.5 < cut_after < 6
    assert answered == 200
    assert 'event="cut_read_timeout"} 1' in gateway.metrics()


async def logger(port: int, packets: list[bytes], answered: Counter[str]) -> None:
    """Send each report, re-send it until its 9014 comes (reconnecting when cut)."""
    pending = list(packets)
    while pending:
        writer = None
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            while pending:
                writer.write(pending[0])
                await writer.drain()
                try:
                    answer = await read_frame(reader, timeout=5)
                    while b"CN=9014" not in answer:  # a platform request: this one ignores it
                        answered["requests"] += 1
                        answer = await read_frame(reader, timeout=5)
                except TimeoutError:
                    answered["resent"] += 1
                    continue
                pending.pop(0)
                answered["answered"] += 1
        except (ConnectionError, OSError, asyncio.IncompleteReadError):
            answered["reconnects"] += 1
            await asyncio.sleep(0.5)
        finally:
            if writer is not None:
                await close(writer)


LOGGERS = int(os.environ.get("BASIN_TEST_GATEWAY_LOGGERS", "1000"))
REPORTS = 3


def _reports(i: int) -> list[bytes]:
    _, mn, ref = LINKS[i % len(LINKS)]
    start = T0 + timedelta(days=i // len(LINKS))
    return [report(mn, password(ref), start + timedelta(hours=h)) for h in range(REPORTS)]


def test_many_loggers_exact_counts(start_gateway, topics: TopicSet) -> None:
    gateway = start_gateway()
    seen = readers(topics)
    answered: Counter[str] = Counter()
    bad = report(LINKS[0][1], "wrong!", T0)

    async def run() -> None:
        tasks = [logger(gateway.port, _reports(i), answered) for i in range(LOGGERS)]
        await asyncio.gather(*tasks, *(_send_bad(gateway.port, bad) for _ in range(50)))

    asyncio.run(run())
    assert answered["answered"] == LOGGERS * REPORTS
    wait_for(seen, {"raw": LOGGERS * REPORTS, "rejected": 50}, timeout=120)
    values = Counter(r.value for r in seen["raw"].records)
    assert set(values) == {p for i in range(LOGGERS) for p in _reports(i)}
    assert sum(values.values()) - len(values) <= answered["resent"]  # duplicates: re-sent only
    reasons = Counter(d.reason for d in seen["rejected"].decoded(DeadLetter))
    assert reasons == {"bad_password": 50}


async def _send_bad(port: int, packet: bytes) -> None:
    _, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(packet)
    await writer.drain()
    await asyncio.sleep(1)
    await close(writer)


def test_a_killed_gateway_loses_nothing(start_gateway, topics: TopicSet) -> None:
    gateway = start_gateway()
    seen = readers(topics)
    answered: Counter[str] = Counter()
    loggers = 100
    per_logger = 20

    def packets(i: int) -> list[bytes]:
        _, mn, ref = LINKS[i % len(LINKS)]
        start = T0 + timedelta(days=i // len(LINKS))
        return [report(mn, password(ref), start + timedelta(hours=h)) for h in range(per_logger)]

    async def run() -> None:
        tasks = [
            asyncio.create_task(logger(gateway.port, packets(i), answered)) for i in range(loggers)
        ]
        while answered["answered"] < loggers * per_logger // 3:
            await asyncio.sleep(0.05)
        gateway.kill()  # mid-stream
        await asyncio.sleep(1)
        start_gateway()  # same port
        await asyncio.wait_for(asyncio.gather(*tasks), 180)

    asyncio.run(run())
    expected = {p for i in range(loggers) for p in packets(i)}
    wait_for(seen, {"raw": len(expected)}, timeout=120)
    values = Counter(r.value for r in seen["raw"].records)
    assert set(values) == expected  # every report at least once
    duplicates = sum(values.values()) - len(expected)
    print(f"duplicates after the kill: {duplicates}")
    assert answered["reconnects"] > 0


def test_a_station_back_after_12_hours_is_asked_for_exactly_the_missing_slots(
    start_gateway, topics: TopicSet
) -> None:
    gateway = start_gateway()
    seen = readers(topics)
    _, mn, ref = LINKS[0]
    pw = password(ref)

    async def talk() -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
        writer.write(report(mn, pw, T0))
        assert b"CN=9014" in await read_frame(reader)
        await close(writer)  # offline for 12 h: the 4-hourly slots 04, 08 and 12 h missed
        reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
        writer.write(report(mn, pw, T0 + timedelta(hours=16)))
        request = await read_frame(reader)
        assert b"CN=9014" in await read_frame(reader)
        packet = parse(request)
        qn = packet.header["QN"]
        begin = parse_time(packet.extra["BeginTime"])
        end = parse_time(packet.extra["EndTime"])
        answer = f"QN={qn};ST=91;CN=9011;PW={pw};MN={mn};Flag=4;CP=&&QnRtn=1&&"
        writer.write(framed(answer.encode()))
        hour = begin
        while hour <= end:  # the logger serves its history as late reports
            writer.write(report(mn, pw, hour))
            assert b"CN=9014" in await read_frame(reader)
            hour += timedelta(hours=4)
        done = f"QN={qn};ST=91;CN=9012;PW={pw};MN={mn};Flag=4;CP=&&ExeRtn=1&&"
        writer.write(framed(done.encode()))
        await asyncio.sleep(0.5)
        await close(writer)
        return request

    request = asyncio.run(talk())
    packet = parse(request)
    assert packet.cn == "2061"
    assert parse_time(packet.extra["BeginTime"]) == T0 + timedelta(hours=4)
    assert parse_time(packet.extra["EndTime"]) == T0 + timedelta(hours=12)
    assert packet.header["Flag"] == "5"
    wait_for(seen, {"raw": 5}, timeout=30)
    times = sorted(parse(r.value).data_time for r in seen["raw"].records)
    assert times == [T0 + timedelta(hours=h) for h in (0, 4, 8, 12, 16)]
    assert f"request backfill_2061 to MN {mn}: done" in gateway.log.read_text()


def test_a_drifting_clock_is_set_on_the_first_connection(start_gateway) -> None:
    gateway = start_gateway(BASIN_GATEWAY_TIME_DRIFT_SECONDS="60")
    _, mn, ref = LINKS[0]

    async def talk() -> list[bytes]:
        reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
        writer.write(report(mn, password(ref), T0))  # QN in April 2026: months off
        frames = [await read_frame(reader), await read_frame(reader)]
        writer.write(report(mn, password(ref), T0 + timedelta(hours=1)))
        frames.append(await read_frame(reader))  # only its 9014: the clock is set once
        await close(writer)
        return frames

    set_time, answer, second = asyncio.run(talk())
    packet = parse(set_time)
    assert packet.cn == "1012"
    moment = parse_time(packet.extra["SystemTime"])
    assert abs(moment - datetime.now(UTC)) < timedelta(seconds=30)
    assert b"CN=9014" in answer and b"CN=9014" in second


def test_simulated_loggers_with_faults_are_all_stored(start_gateway, topics: TopicSet) -> None:
    """The logger simulator (streams.testing.loggers): wrong passwords, corrupted bytes,
    sub-packets, split writes, reconnects, re-sends until the 9014."""
    gateway = start_gateway()
    seen = readers(topics)
    stations = [s for s in REGISTRY.stations if s.hj212 is not None]
    passwords = {s.id: password(s.hj212.password_ref) for s in stations if s.hj212}
    faults = LoggerFaults(wrong_password=0.1, corrupt=0.1, split=0.3)
    loggers = make_loggers(stations, passwords, seed=7, faults=faults, resend_after=2)
    options = Options(
        "127.0.0.1",
        gateway.port,
        reports=6 * len(loggers),  # in all, spread over the loggers
        period=0.05,
        start=T0,
        reconnect=0.2,
        drain=60,
        seed=7,
    )
    summary = asyncio.run(run_loggers(loggers, options))
    c = summary.counts
    assert summary.unanswered == 0 and c.reports == 6 * len(loggers)
    assert c.corrupt > 0 and c.wrong_password > 0 and c.split_reports > 0
    wait_for(seen, {"raw": c.reports}, timeout=120)
    stored = {(r.key, parse(r.value).data_time) for r in seen["raw"].records}
    assert len(stored) == c.reports  # every report at least once; re-sends are duplicates
    # the simulator counts a faulty first send even when its connection was already closed, so
    # its fault counts are upper bounds; the gateway's own counters match the topic exactly
    reasons = Counter(d.reason for d in seen["rejected"].decoded(DeadLetter))
    assert set(reasons) <= {"bad_crc", "bad_password", "bad_length", "malformed"}
    assert 0 < reasons["bad_crc"] <= c.corrupt and 0 < reasons["bad_password"] <= c.wrong_password
    metrics = gateway.metrics()
    for reason, count in reasons.items():
        assert f'outcome="rejected",label="{reason}"}} {count}' in metrics
    assert "subpacket_timeout" not in metrics


def test_sigterm_answers_what_is_in_flight_and_flushes(start_gateway, topics: TopicSet) -> None:
    gateway = start_gateway()
    seen = readers(topics)
    _, mn, ref = LINKS[0]
    packets = [report(mn, password(ref), T0 + timedelta(hours=4 * h)) for h in range(200)]

    async def talk() -> list[bytes]:
        reader, writer = await asyncio.open_connection("127.0.0.1", gateway.port)
        writer.write(b"".join(packets))  # all read at once, answered one by one
        answers = [await read_frame(reader)]
        gateway.proc.terminate()
        while True:
            try:
                answers.append(await read_frame(reader))
            except (asyncio.IncompleteReadError, ConnectionError):
                break
        await close(writer)
        return answers

    answers = asyncio.run(talk())
    assert gateway.proc.wait(30) == 0
    assert 1 < len(answers) <= len(packets)
    wait_for(seen, {"raw": len(answers)}, timeout=30)
    stored = [r.value for r in seen["raw"].records]
    assert stored == packets[: len(stored)] and len(stored) >= len(answers)
