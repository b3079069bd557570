"""The gateway's view of the HJ 212 session layer (Contract S of issue 14).

Stopgap until :mod:`stations.formats.hj212_session` lands: the few pieces the server needs
(framing by the length field with resync at the next ``##``, the kinds of packets, the answers),
written on top of :mod:`stations.formats.hj212`. The server imports them from here only, so the
switch is one module.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from stations.formats.hj212 import BEIJING, Hj212Error, Packet, crc16, parse

UPLOADS = frozenset({"2011", "2051", "2061", "2031", "2021", "2072", "3020"})
HEARTBEATS = frozenset({"8013", "9015"})
ANSWERS = frozenset({"9011", "9012", "9013", "9014"})


class Outcome(StrEnum):
    BAD_CRC = "bad_crc"
    BAD_LENGTH = "bad_length"
    MALFORMED = "malformed"


class Kind(StrEnum):
    UPLOAD = "upload"
    HEARTBEAT = "heartbeat"
    NOTIFICATION = "notification"
    ANSWER = "answer"
    REQUEST = "request"


@dataclass(frozen=True)
class Frame:
    raw: bytes
    packet: Packet


@dataclass(frozen=True)
class BadFrame:
    raw: bytes
    reason: Outcome
    detail: str


class Framer:
    """Frames from a byte stream: split and glued frames, resync at the next ``##``."""

    def __init__(self, max_data: int = 1024) -> None:
        self.max_data = max_data
        self._buffer = bytearray()

    @property
    def pending(self) -> int:
        return len(self._buffer)

    def feed(self, data: bytes) -> list[Frame | BadFrame]:
        buf = self._buffer
        buf += data
        out: list[Frame | BadFrame] = []
        while True:
            start = buf.find(b"##")
            if start < 0:
                del buf[: max(0, len(buf) - 1)]  # keep a trailing '#'
                return out
            del buf[:start]
            if len(buf) < 6:
                return out
            head = bytes(buf[2:6])
            if not head.isdigit() or int(head) > self.max_data:
                out.append(BadFrame(bytes(buf[:6]), Outcome.BAD_LENGTH, f"length {head!r}"))
                del buf[:2]
                continue
            end = 6 + int(head) + 6
            if len(buf) < end:
                return out
            raw = bytes(buf[:end])
            if raw[-2:] != b"\r\n":
                out.append(BadFrame(raw, Outcome.BAD_LENGTH, "no \\r\\n where the length ends"))
                del buf[:2]
                continue
            del buf[:end]
            out.append(self._checked(raw))

    @staticmethod
    def _checked(raw: bytes) -> Frame | BadFrame:
        data, crc_text = raw[6:-6], raw[-6:-2]
        try:
            crc = int(crc_text, 16)
        except ValueError:
            return BadFrame(raw, Outcome.BAD_CRC, f"CRC {crc_text!r} is not hex")
        if crc != crc16(data):
            return BadFrame(raw, Outcome.BAD_CRC, "CRC mismatch")
        try:
            return Frame(raw, parse(raw))
        except Hj212Error as exc:
            return BadFrame(raw, Outcome.MALFORMED, str(exc))


def kind_of(packet: Packet) -> Kind:
    cn = packet.cn
    if cn in UPLOADS:
        return Kind.UPLOAD
    if cn in HEARTBEATS:
        return Kind.HEARTBEAT
    if cn in ANSWERS:
        return Kind.ANSWER
    if cn == "1013":
        return Kind.NOTIFICATION
    return Kind.REQUEST


def wants_answer(packet: Packet) -> bool:
    flag = packet.header.get("Flag")
    return flag is not None and flag.isdigit() and int(flag) & 1 == 1


def _frame(fields: list[tuple[str, str]], cp: str = "") -> bytes:
    data = ";".join(f"{k}={v}" for k, v in fields if v is not None) + f";CP=&&{cp}&&"
    body = data.encode("ascii")
    return b"##%04d%s%04X\r\n" % (len(body), body, crc16(body))


def _echo(packet: Packet, cn: str) -> list[tuple[str, str]]:
    h = packet.header
    fields = [("QN", h["QN"])] if "QN" in h else []
    fields += [("ST", "91"), ("CN", cn), ("PW", h.get("PW", "")), ("MN", packet.mn), ("Flag", "4")]
    return fields


def data_answer(packet: Packet) -> bytes:
    return _frame(_echo(packet, "9014"))


def notification_answer(packet: Packet) -> bytes:
    return _frame(_echo(packet, "9013"))


def heartbeat_answer(packet: Packet) -> bytes:
    return _frame(_echo(packet, "9013"))


def request_answer(packet: Packet, qn_rtn: int) -> bytes:
    return _frame(_echo(packet, "9011"), f"QnRtn={qn_rtn}")


def _qn(at: datetime) -> str:
    return at.astimezone(BEIJING).strftime("%Y%m%d%H%M%S%f")[:17]


def set_time_request(mn: str, pw: str, st: str, at: datetime, qn: datetime) -> bytes:
    stamp = at.astimezone(BEIJING).strftime("%Y%m%d%H%M%S")
    fields = [("QN", _qn(qn)), ("ST", st), ("CN", "1012"), ("PW", pw), ("MN", mn), ("Flag", "5")]
    return _frame(fields, f"SystemTime={stamp}")
