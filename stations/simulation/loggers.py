"""Simulated HJ 212-2017 data loggers: one logger's side of the conversation, without I/O.

A :class:`Logger` stands for the data logger of one registry station. The caller (an asyncio
client over TCP, or a test) tells it the time and hands it what the platform sent; it answers with
the frames to write:

- :meth:`Logger.measure`: the report of one observation slot, values from the station simulator
  (:class:`~stations.simulation.values.StationModel`), as a real-time upload (CN=2011, Flag=5, the
  logger wants a 9014) or, for a share of them, as PNUM/PNO sub-packets (Flag=7), each part with
  its own QN. The logger keeps every report in its history, sent or not (offline).
- :meth:`Logger.due`: re-sends, every ``resend_after`` seconds, of each upload whose 9014 (matched
  by QN) has not arrived (HJ 212-2017 Table 1: 10 s; a logger re-sends until it is answered).
- :meth:`Logger.receive`: the platform's 9014 marks an upload answered; its requests are answered
  as §6 and Annex C have it: 1012 (set time) with 9011 (QnRtn=1), the clock set, 9012 (ExeRtn=1);
  2061/2051/2031 (history between BeginTime and EndTime) with 9011, one upload per window of the
  requested kind with ``-Avg/-Min/-Max/-Flag`` (each tracked like a report), then 9012 (ExeRtn=1,
  or 100 when the logger has no data in the range); 1011 (get time) with 9011, 1011 carrying
  SystemTime, 9012. A request with a wrong PW gets QnRtn=3, another MN 4, an unknown CN 100.
- :meth:`Logger.connected`: on its first connection the logger asks for the time (1013).
- Faults (:class:`LoggerFaults`), on the first send of an upload only, so that the re-send is
  good and nothing is lost: a wrong password, or one byte of the data segment changed (a bad CRC).

Times: ``now`` is real time (tz-aware); the logger's clock is ``now`` plus its drift, which a 1012
sets to zero. QN and DataTime are Beijing time, as on the wire. Pure: numpy and stdlib only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta

import numpy as np

from stations.errors import SimulationError
from stations.formats import hj212
from stations.formats.hj212 import BEIJING, Hj212Error, Packet
from stations.formats.hj212_session import request_answer
from stations.formats.report import Reading, Report
from stations.simulation.faults import can_send_hj212, hj212_items
from stations.simulation.profile import load_profile
from stations.simulation.values import StationModel
from stations.station import Station

#: System type of the uploads (surface water quality) and of control messages (9011/9012/9014).
ST_SURFACE_WATER = "21"
ST_CONTROL = "91"
#: Flag of 2017 uploads that want an answer (V=1, A=1), and of split ones (D=1 too).
FLAG_ANSWER = "5"
FLAG_SPLIT_ANSWER = "7"
FLAG_NO_ANSWER = "4"
#: History windows per request command: hourly, minute (10 min), daily.
HISTORY_WINDOW = {"2061": timedelta(hours=1), "2051": timedelta(minutes=10), "2031": timedelta(1)}
QN_RTN_READY, QN_RTN_REFUSED, QN_RTN_PASSWORD, QN_RTN_MN, QN_RTN_UNKNOWN = 1, 2, 3, 4, 100
EXE_RTN_OK, EXE_RTN_NO_DATA = 1, 100
RESEND_AFTER = 10.0  # seconds (HJ 212-2017 Table 1, mobile links)
SOURCE = "hj212-logger"


@dataclass(frozen=True)
class LoggerFaults:
    """Share of uploads whose first send is faulty (0..1 each, at most 1 together), and share of
    reports sent as sub-packets."""

    wrong_password: float = 0.0
    corrupt: float = 0.0
    split: float = 0.0

    def __post_init__(self) -> None:
        for f in fields(self):
            rate = getattr(self, f.name)
            if not 0.0 <= rate <= 1.0:
                raise SimulationError(f"logger fault {f.name}={rate} is not between 0 and 1")
        if self.wrong_password + self.corrupt > 1.0:
            raise SimulationError("logger faults wrong_password + corrupt add up to more than 1")

    @classmethod
    def parse(cls, spec: str) -> LoggerFaults:
        """Rates from ``"wrong_password=0.01,corrupt=0.01,split=0.1"``; ``"none"`` for none."""
        if spec.strip().lower() in ("", "none"):
            return cls()
        known = [f.name for f in fields(cls)]
        rates: dict[str, float] = {}
        for part in spec.split(","):
            name, eq, value = (t.strip() for t in part.partition("="))
            if not eq or name not in known or name in rates:
                raise SimulationError(
                    f"logger fault {part.strip()!r}: expected NAME=RATE once, NAME one of "
                    + ", ".join(known)
                )
            try:
                rates[name] = float(value)
            except ValueError:
                raise SimulationError(f"logger fault {name}: {value!r} is not a number") from None
        return cls(**rates)


@dataclass
class Counts:
    """What one logger (or, summed, many) did. ``uploads``: upload frames (a report's sub-packets
    one each, history replies included); ``sent``: every frame written, re-sends and faults
    included."""

    reports: int = 0
    uploads: int = 0
    answered: int = 0
    resent: int = 0
    sent: int = 0
    wrong_password: int = 0
    corrupt: int = 0
    split_reports: int = 0
    history: int = 0
    stray_answers: int = 0
    requests: Counter[str] = field(default_factory=Counter)

    def add(self, other: Counts) -> None:
        for f in fields(self):
            if f.name == "requests":
                self.requests.update(other.requests)
            else:
                setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {f.name: getattr(self, f.name) for f in fields(self)}
        out["requests"] = dict(sorted(self.requests.items()))
        return out


@dataclass
class _Pending:
    frame: bytes
    sent_at: datetime


class Logger:
    """The data logger of ``station`` with ``password``; values from ``model``, draws from
    ``rng``. ``drift``: how far its clock is off at the start."""

    def __init__(
        self,
        station: Station,
        password: str,
        model: StationModel,
        rng: np.random.Generator,
        *,
        faults: LoggerFaults | None = None,
        resend_after: float = RESEND_AFTER,
        part_items: int = 2,
        drift: timedelta = timedelta(0),
    ) -> None:
        if station.hj212 is None:
            raise SimulationError(f"station {station.id} has no HJ 212 logger (mn)")
        if not model.parameters:
            raise SimulationError(f"station {station.id} measures no simulated parameter")
        self.station = station
        self.mn = station.hj212.mn
        self.password = password
        self.model = model
        self.rng = rng
        self.faults = faults or LoggerFaults()
        self.resend_after = timedelta(seconds=resend_after)
        self.part_items = max(1, part_items)
        self.drift = drift
        self.counts = Counts()
        self.history: dict[datetime, Report] = {}
        self.pending: dict[str, _Pending] = {}
        self._last_qn: datetime | None = None
        self._greeted = False

    @property
    def unanswered(self) -> int:
        return len(self.pending)

    def clock(self, now: datetime) -> datetime:
        """The logger's own time, in Beijing time."""
        return (now + self.drift).astimezone(BEIJING)

    def measure(self, slot: datetime, now: datetime, *, send: bool = True) -> list[bytes]:
        """The report of ``slot`` into the history, and its upload frames (none when not
        ``send``: the logger is offline, the platform will ask for it)."""
        values = self.model.canonical(slot)
        readings = {
            key: Reading(self.model.present(key, v), self._unit(key)) for key, v in values.items()
        }
        report = Report(self.station.id, slot, now, SOURCE, readings)
        self.history[slot.astimezone(BEIJING)] = report
        if not send:
            return []
        self.counts.reports += 1
        frames = self._report(report, slot, now)
        self.counts.sent += len(frames)
        return frames

    def _report(self, report: Report, slot: datetime, now: datetime) -> list[bytes]:
        items = hj212_items(report)
        if len(items) > self.part_items and self.rng.random() < self.faults.split:
            self.counts.split_reports += 1
            codes = list(items)
            parts = [codes[i : i + self.part_items] for i in range(0, len(codes), self.part_items)]
            return [
                self._upload(
                    "2011",
                    slot,
                    {code: items[code] for code in part},
                    now,
                    split=(len(parts), number),
                )
                for number, part in enumerate(parts, start=1)
            ]
        return [self._upload("2011", slot, items, now)]

    def connected(self, now: datetime) -> list[bytes]:
        """What the logger says on a new connection: on its first, a 1013 (time calibration
        request), which the platform answers with 9013, then 1012 (Annex C)."""
        if self._greeted:
            return []
        self._greeted = True
        self.counts.sent += 1
        header = {"QN": self._qn(now), "ST": ST_SURFACE_WATER, "CN": "1013"}
        header |= {"PW": self.password, "MN": self.mn, "Flag": FLAG_ANSWER}
        return [frame(header, "")]

    def due(self, now: datetime) -> list[bytes]:
        """Re-sends of the uploads not answered within ``resend_after``."""
        frames = []
        for pending in self.pending.values():
            if now - pending.sent_at >= self.resend_after:
                pending.sent_at = now
                frames.append(pending.frame)
        self.counts.resent += len(frames)
        self.counts.sent += len(frames)
        return frames

    def next_due(self) -> datetime | None:
        """When the next re-send is due (None: nothing is waiting for an answer)."""
        if not self.pending:
            return None
        return min(p.sent_at for p in self.pending.values()) + self.resend_after

    def receive(self, packet: Packet, now: datetime) -> list[bytes]:
        """The frames to write in reply to a packet from the platform."""
        frames = self._receive(packet, now)
        self.counts.sent += len(frames)
        return frames

    def _receive(self, packet: Packet, now: datetime) -> list[bytes]:
        cn = packet.cn
        if cn == "9014":
            qn = packet.header.get("QN", "")
            if self.pending.pop(qn, None) is None:
                self.counts.stray_answers += 1
            else:
                self.counts.answered += 1
            return []
        if cn.startswith("9"):  # 9011/9012/9013 to the logger: nothing to do
            return []
        self.counts.requests[cn] += 1
        if packet.mn != self.mn:
            return [request_answer(packet, QN_RTN_MN)]
        if packet.password != self.password:
            return [request_answer(packet, QN_RTN_PASSWORD)]
        if cn == "1012":
            return self._set_time(packet, now)
        if cn == "1011":
            stamp = self.clock(now).strftime("%Y%m%d%H%M%S")
            return self._executed(packet, [self._reply(packet, "1011", f"SystemTime={stamp}")])
        if cn in HISTORY_WINDOW:
            return self._history(packet, now)
        return [request_answer(packet, QN_RTN_UNKNOWN)]

    def _set_time(self, packet: Packet, now: datetime) -> list[bytes]:
        try:
            target = hj212.parse_time(packet.extra.get("SystemTime", ""))
        except Hj212Error:
            return [request_answer(packet, QN_RTN_REFUSED)]
        ready = request_answer(packet, QN_RTN_READY)
        self.drift = target - now
        return [ready, self._reply(packet, "9012", f"ExeRtn={EXE_RTN_OK}")]

    def _history(self, packet: Packet, now: datetime) -> list[bytes]:
        try:
            begin = hj212.parse_time(packet.extra.get("BeginTime", ""))
            end = hj212.parse_time(packet.extra.get("EndTime", ""))
        except Hj212Error:
            return [request_answer(packet, QN_RTN_REFUSED)]
        window = HISTORY_WINDOW[packet.cn]
        windows: dict[datetime, list[Report]] = {}
        for slot in sorted(self.history):
            start = floor_to(slot, window)
            if begin <= start <= end:
                windows.setdefault(start, []).append(self.history[slot])
        ready = request_answer(packet, QN_RTN_READY)
        uploads = [
            self._upload(packet.cn, start, aggregate(reports), now)
            for start, reports in windows.items()
        ]
        self.counts.history += len(uploads)
        exe = EXE_RTN_OK if uploads else EXE_RTN_NO_DATA
        return [ready, *uploads, self._reply(packet, "9012", f"ExeRtn={exe}")]

    def _executed(self, packet: Packet, frames: list[bytes]) -> list[bytes]:
        ready = request_answer(packet, QN_RTN_READY)
        return [ready, *frames, self._reply(packet, "9012", f"ExeRtn={EXE_RTN_OK}")]

    def _upload(
        self,
        cn: str,
        data_time: datetime,
        items: Mapping[str, Mapping[str, str]],
        now: datetime,
        split: tuple[int, int] | None = None,
    ) -> bytes:
        qn = self._qn(now)
        header = {"QN": qn, "ST": ST_SURFACE_WATER, "CN": cn, "PW": self.password, "MN": self.mn}
        header["Flag"] = FLAG_ANSWER if split is None else FLAG_SPLIT_ANSWER
        if split is not None:
            header["PNUM"], header["PNO"] = str(split[0]), str(split[1])
        frame = hj212.build(header, data_time, items)
        self.pending[qn] = _Pending(frame, now)
        self.counts.uploads += 1
        draw = self.rng.random()
        if draw < self.faults.wrong_password:
            self.counts.wrong_password += 1
            return hj212.build({**header, "PW": wrong_password(self.password)}, data_time, items)
        if draw < self.faults.wrong_password + self.faults.corrupt:
            self.counts.corrupt += 1
            return corrupt(frame, self.rng)
        return frame

    def _reply(self, request: Packet, cn: str, cp: str) -> bytes:
        """A reply to ``request`` other than its 9011 (the session layer's ``request_answer``):
        the request's QN, the logger's PW (checked equal) and MN, Flag=4 (no answer)."""
        st = ST_CONTROL if cn.startswith("9") else request.st or ST_SURFACE_WATER
        header = {
            "QN": request.header.get("QN", ""),
            "ST": st,
            "CN": cn,
            "PW": self.password,
            "MN": self.mn,
            "Flag": FLAG_NO_ANSWER,
        }
        return frame(header, cp)

    def _qn(self, now: datetime) -> str:
        """A QN of the logger's clock, one millisecond after the last one at least (unique)."""
        moment = self.clock(now).replace(microsecond=self.clock(now).microsecond // 1000 * 1000)
        if self._last_qn is not None and moment <= self._last_qn:
            moment = self._last_qn + timedelta(milliseconds=1)
        self._last_qn = moment
        return moment.strftime("%Y%m%d%H%M%S") + f"{moment.microsecond // 1000:03d}"

    def _unit(self, key: str) -> str:
        sensor = self.station.sensor(key)
        assert sensor is not None
        return sensor.unit


def frame(header: Mapping[str, str], cp: str) -> bytes:
    """A framed packet of ``header`` (in HJ 212 order) and CP content ``cp`` (no DataTime)."""
    head = ";".join(f"{k}={header[k]}" for k in hj212.HEADER_KEYS if k in header)
    data = f"{head};CP=&&{cp}&&".encode("ascii")
    return b"##%04d%s%04X\r\n" % (len(data), data, hj212.crc16(data))


def aggregate(reports: list[Report]) -> dict[str, dict[str, str]]:
    """``code -> {Avg, Min, Max, Flag}`` of the reports of one window (canonical units)."""
    values: dict[str, list[float]] = {}
    for report in reports:
        for code, fields_ in hj212_items(report).items():
            values.setdefault(code, []).append(float(fields_["Rtd"]))
    return {
        code: {
            "Avg": _number(sum(v) / len(v)),
            "Min": _number(min(v)),
            "Max": _number(max(v)),
            "Flag": "N",
        }
        for code, v in values.items()
    }


def corrupt(packet: bytes, rng: np.random.Generator) -> bytes:
    """``packet`` with one byte of its data segment changed (CRC-16 catches every such change)."""
    length = int(packet[2:6])
    at = 6 + int(rng.integers(length))
    old = packet[at]
    new = old
    while new == old:
        new = int(rng.integers(0x21, 0x7F))  # printable, never '#', '\r' or '\n' after '##'
        if new == ord("#"):
            new = old
    return packet[:at] + bytes([new]) + packet[at + 1 :]


def wrong_password(password: str) -> str:
    """A password of the same length that is not ``password``."""
    return "".join("0" if c != "0" else "1" for c in password) or "000000"


def floor_to(moment: datetime, window: timedelta) -> datetime:
    """``moment`` (Beijing time) floored to a multiple of ``window`` from Beijing midnight."""
    local = moment.astimezone(BEIJING)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight + (local - midnight) // window * window


def _number(value: float) -> str:
    return str(np.format_float_positional(round(value, 6), trim="-"))


def make_loggers(
    stations: list[Station],
    passwords: Mapping[str, str],
    *,
    seed: int,
    faults: LoggerFaults | None = None,
    resend_after: float = RESEND_AFTER,
    max_drift: float = 0.0,
    profile: Mapping[str, object] | None = None,
) -> list[Logger]:
    """One logger per station that has an MN and a simulated parameter with an HJ 212 code;
    ``passwords``: station id -> its password (the secret its ``password_ref`` names); each
    logger's clock off by up to ``max_drift`` seconds either way."""
    profile = profile if profile is not None else load_profile()
    loggers = []
    sequences = np.random.SeedSequence(seed).spawn(len(stations))
    for station, sequence in zip(stations, sequences, strict=True):
        value_seq, logger_seq = sequence.spawn(2)
        model = StationModel(station, profile, np.random.default_rng(value_seq))
        if not can_send_hj212(station, model.parameters):
            continue
        rng = np.random.default_rng(logger_seq)
        drift = timedelta(seconds=float(rng.uniform(-max_drift, max_drift))) if max_drift else None
        loggers.append(
            Logger(
                station,
                passwords[station.id],
                model,
                rng,
                faults=faults,
                resend_after=resend_after,
                drift=drift or timedelta(0),
            )
        )
    return loggers
