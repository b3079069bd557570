"""The HJ 212 session layer: frames from a byte stream, kinds of packets, sub-packets, answers.

Pure: no I/O, no clock (callers pass ``now``). The rules and their sources are in docs/hj212.md.

One :class:`Framer` per connection turns the bytes of its reads into outcomes. Every byte fed
ends in exactly one place: the ``raw`` of a :class:`Frame`, the ``raw`` of a :class:`BadFrame`,
the :attr:`Framer.skipped` counter (the rest of a bad run already reported by one BadFrame), or
:attr:`Framer.pending` (waiting for more bytes). So ``fed == sum(len(o.raw)) + skipped + pending``.

>>> framer = Framer()
>>> raw = data_answer(parse(build({"QN": "20160801085000001", "ST": "21", "CN": "2011",
...     "PW": "123456", "MN": "X1", "Flag": "5"}, datetime(2016, 8, 1, tzinfo=BEIJING), {})))
>>> [type(o).__name__ for o in framer.feed(b"junk" + raw[:10]) + framer.feed(raw[10:])]
['BadFrame', 'Frame']
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum, StrEnum

from stations.formats.hj212 import BEIJING, Hj212Error, Packet, build, crc16, parse

__all__ = [
    "BEIJING",
    "BadFrame",
    "ExeRtn",
    "Frame",
    "Framer",
    "Kind",
    "Outcome",
    "QnRtn",
    "Reassembler",
    "Version",
    "build",
    "data_answer",
    "data_request",
    "flag_of",
    "heartbeat_answer",
    "is_split",
    "kind_of",
    "notification_answer",
    "request_answer",
    "set_time_request",
    "version_of",
    "wants_answer",
]

#: The largest data segment of HJ 212-2017 (§6.2, Table 2); vendors exceed it, so it is a setting.
MAX_DATA = 1024
_HEX = frozenset(b"0123456789abcdefABCDEF")
_DIGITS = frozenset(b"0123456789")


class Outcome(StrEnum):
    """Why a frame attempt was refused (the gateway's reject reasons for framing)."""

    BAD_CRC = "bad_crc"
    BAD_LENGTH = "bad_length"
    MALFORMED = "malformed"


class Version(IntEnum):
    """The edition a packet follows, from the Flag's version bits V5..V0."""

    V2005 = 2005
    V2017 = 2017


class QnRtn(IntEnum):
    """Request answer codes (9011 ``QnRtn``), from the standard's request-return table."""

    READY = 1
    REFUSED = 2
    BAD_PASSWORD = 3
    BAD_MN = 4
    BAD_ST = 5
    BAD_FLAG = 6
    BAD_QN = 7
    BAD_CN = 8
    BAD_CRC = 9
    UNKNOWN = 100


class ExeRtn(IntEnum):
    """Execution result codes (9012 ``ExeRtn``)."""

    SUCCESS = 1
    FAILED = 2
    CONDITION = 3
    TIMEOUT = 4
    BUSY = 5
    FAULT = 6
    NO_DATA = 100


class Kind(StrEnum):
    """What a packet received from a logger is, for the platform."""

    UPLOAD = "upload"  # CN 2xxx: monitoring data (2011, 2051, 2061, 2031, 2021, 2041, 2081...)
    HEARTBEAT = "heartbeat"  # CN 8013 (vendor), 9015 (vendor in 2017, HJ 212-2025)
    NOTIFICATION = "notification"  # CN 1013: the logger asks for its clock to be set
    ANSWER = "answer"  # CN 9011 / 9012 / 9013 / 9014: the logger answers the platform
    REPLY = "reply"  # other CN 1xxx / 3xxx: data the logger sends for a platform request
    UNKNOWN = "unknown"  # any other CN


@dataclass(frozen=True)
class Frame:
    """A frame that passed the length, CRLF and CRC checks and parsed. ``raw``: the bytes as
    received (for a reassembled report, its parts' frames joined in PNO order)."""

    raw: bytes
    packet: Packet
    version: Version


@dataclass(frozen=True)
class BadFrame:
    """A refused frame attempt. ``packet``: for a bad CRC, the packet parsed anyway when it
    parses (so that the refusal can echo its QN and MN: QnRtn=9); None otherwise."""

    raw: bytes
    reason: Outcome
    detail: str
    packet: Packet | None = None


def flag_of(packet: Packet) -> int | None:
    """The Flag as a number, None when the packet has none (a tolerated deviation)."""
    text = packet.header.get("Flag")
    return int(text) if text is not None and text.isdigit() else None


def version_of(packet: Packet) -> Version:
    """2005 when the version bits V5..V0 (Flag >> 2) are 0; 2017 otherwise, and without Flag."""
    flag = flag_of(packet)
    return Version.V2005 if flag is not None and flag >> 2 == 0 else Version.V2017


def wants_answer(packet: Packet) -> bool:
    """Flag bit A (bit 0): the sender asks for an answer. No Flag: no answer wanted."""
    flag = flag_of(packet)
    return flag is not None and bool(flag & 1)


def is_split(packet: Packet) -> bool:
    """Flag bit D (bit 1), or PNUM present: one part of a split report."""
    flag = flag_of(packet)
    return (flag is not None and bool(flag & 2)) or "PNUM" in packet.header


_ANSWERS = frozenset({"9011", "9012", "9013", "9014"})
_HEARTBEATS = frozenset({"8013", "9015"})


def kind_of(packet: Packet) -> Kind:
    cn = packet.cn
    if cn in _HEARTBEATS:
        return Kind.HEARTBEAT
    if cn in _ANSWERS:
        return Kind.ANSWER
    if cn == "1013":
        return Kind.NOTIFICATION
    if len(cn) == 4 and cn.isdigit():
        if cn[0] == "2":
            return Kind.UPLOAD
        if cn[0] in "13":
            return Kind.REPLY
    return Kind.UNKNOWN


def _check_header(packet: Packet) -> str | None:
    """What makes a parsed packet unusable for the session, or None."""
    flag = packet.header.get("Flag")
    if flag is not None and not (flag.isdigit() and int(flag) <= 255):
        return f"Flag {flag!r} is not a number 0-255"
    if is_split(packet):
        pnum, pno = packet.header.get("PNUM", ""), packet.header.get("PNO", "")
        if not (pnum.isdigit() and pno.isdigit() and 1 <= int(pno) <= int(pnum)):
            return f"split packet with PNUM={pnum!r} PNO={pno!r} (need 1 <= PNO <= PNUM)"
    return None


class Framer:
    """Frames of one connection, by the length field; resynchronises at the next ``##``."""

    def __init__(self, max_data: int = MAX_DATA) -> None:
        self.max_data = max_data
        self._buffer = bytearray()
        self._discarding = False  # inside a bad run already reported by one BadFrame
        self.skipped = 0  # bytes of such runs, not repeated in any outcome

    @property
    def pending(self) -> int:
        """Bytes buffered, waiting for the rest of a frame (at most 6 + max_data + 6)."""
        return len(self._buffer)

    def feed(self, data: bytes) -> list[Frame | BadFrame]:
        self._buffer += data
        out: list[Frame | BadFrame] = []
        while self._buffer:
            if not self._step(out):
                break
        return out

    # One step consumes bytes from the buffer's head and returns True, or waits (False).
    def _step(self, out: list[Frame | BadFrame]) -> bool:
        buf = self._buffer
        start = buf.find(b"##")
        if start != 0:
            # Bytes before a "##" (or all but a trailing "#" that may begin one) are garbage.
            end = start if start > 0 else len(buf) - (1 if buf.endswith(b"#") else 0)
            if end == 0:
                return False
            self._garbage(out, end)
            return True
        self._discarding = False
        head = bytes(buf[2:6])
        if not all(b in _DIGITS for b in head):
            return self._bad(out, Outcome.BAD_LENGTH, f"length field {head!r} is not 4 digits")
        if len(head) < 4:
            return False
        length = int(head)
        if length > self.max_data:
            return self._bad(
                out, Outcome.BAD_LENGTH, f"data length {length} exceeds the maximum {self.max_data}"
            )
        total = 6 + length + 6
        inner = buf.find(b"##", 1, total)
        if inner > 0 and inner + 1 < total:
            return self._bad(
                out, Outcome.BAD_LENGTH, f"a '##' at byte {inner}, inside the {length}-byte frame"
            )
        if len(buf) < total:
            return False
        raw = bytes(buf[:total])
        crc_text = raw[6 + length : 6 + length + 4]
        if raw[-2:] != b"\r\n" or not all(b in _HEX for b in crc_text):
            return self._bad(
                out,
                Outcome.BAD_LENGTH,
                f"no CRC and CRLF after the {length}-byte data segment: {raw[6 + length :]!r}",
            )
        del buf[:total]
        out.append(self._frame(raw, length, int(crc_text, 16)))
        return True

    def _frame(self, raw: bytes, length: int, crc: int) -> Frame | BadFrame:
        data = raw[6 : 6 + length]
        expected = crc16(data)
        good = raw if crc == expected else raw[: 6 + length] + b"%04X\r\n" % expected
        try:
            packet = parse(good)
        except Hj212Error as exc:
            if crc != expected:
                return BadFrame(raw, Outcome.BAD_CRC, f"CRC {crc:04X}, data gives {expected:04X}")
            return BadFrame(raw, Outcome.MALFORMED, str(exc))
        if crc != expected:
            detail = f"CRC {crc:04X}, data gives {expected:04X}"
            return BadFrame(raw, Outcome.BAD_CRC, detail, packet)
        problem = _check_header(packet)
        if problem:
            return BadFrame(raw, Outcome.MALFORMED, problem)
        return Frame(raw, packet, version_of(packet))

    def _bad(self, out: list[Frame | BadFrame], reason: Outcome, detail: str) -> bool:
        """A bad frame attempt: from its "##" to the next "##" (or all that is buffered)."""
        buf = self._buffer
        nxt = buf.find(b"##", 1)
        end = nxt if nxt > 0 else len(buf) - (1 if buf.endswith(b"#") and len(buf) > 2 else 0)
        out.append(BadFrame(bytes(buf[:end]), reason, detail))
        del buf[:end]
        self._discarding = nxt < 0
        return True

    def _garbage(self, out: list[Frame | BadFrame], end: int) -> None:
        if self._discarding:
            self.skipped += end
        else:
            raw = bytes(self._buffer[:end])
            out.append(BadFrame(raw, Outcome.MALFORMED, "bytes outside a frame (no '##')"))
            self._discarding = True
        del self._buffer[:end]


@dataclass
class _Parts:
    first_seen: float
    frames: dict[int, Frame] = field(default_factory=dict)


class Reassembler:
    """The PNUM/PNO parts of split uploads, joined into one report when all have arrived.

    Parts belong together by (MN, CN, PNUM, DataTime). A re-sent part replaces the earlier copy.
    The joined report's ``raw`` is the parts' frames, as received, concatenated in PNO order;
    :func:`stations.formats.hj212.parse` decodes that form. Its ``packet`` merges the parts.
    """

    def __init__(self) -> None:
        self._open: dict[tuple[str, str, str, str], _Parts] = {}
        self.resent = 0  # parts received again before their report was complete

    @property
    def pending(self) -> int:
        """Reports waiting for parts."""
        return len(self._open)

    def add(self, frame: Frame, now: float) -> Frame | None:
        """The whole report when complete, else None. An unsplit frame is returned as is."""
        packet = frame.packet
        if not is_split(packet):
            return frame
        pnum = int(packet.header["PNUM"])
        stamp = packet.data_time.isoformat() if packet.data_time else ""
        key = (packet.mn, packet.cn, str(pnum), stamp)
        parts = self._open.setdefault(key, _Parts(now))
        pno = int(packet.header["PNO"])
        self.resent += pno in parts.frames
        parts.frames[pno] = frame
        if len(parts.frames) < pnum:
            return None
        del self._open[key]
        raw = b"".join(parts.frames[n].raw for n in sorted(parts.frames))
        return Frame(raw, parse(raw), frame.version)

    def expire(self, now: float, timeout: float) -> list[list[Frame]]:
        """The parts of reports still incomplete ``timeout`` seconds after their first part."""
        late = [key for key, parts in self._open.items() if now - parts.first_seen >= timeout]
        return [[p.frames[n] for n in sorted(p.frames)] for p in (self._open.pop(k) for k in late)]


# Answers and requests (Annex C). Header order: QN ST CN PW MN Flag, then CP.
def _frame_of(fields: Mapping[str, str | None], cp: str) -> bytes:
    head = "".join(f"{k}={v};" for k, v in fields.items() if v is not None)
    data = f"{head}CP=&&{cp}&&".encode("ascii")
    return b"##%04d%s%04X\r\n" % (len(data), data, crc16(data))


def _answer(packet: Packet, cn: str, cp: str = "") -> bytes:
    header = packet.header
    fields = {
        "QN": header.get("QN"),
        "ST": "91",
        "CN": cn,
        "PW": header.get("PW"),
        "MN": packet.mn,
        "Flag": "4",
    }
    return _frame_of(fields, cp)


def data_answer(packet: Packet) -> bytes:
    """9014, the data answer to an upload (or to one part of a split upload)."""
    return _answer(packet, "9014")


def notification_answer(packet: Packet) -> bytes:
    """9013, the notification answer (to a 1013 time calibration request)."""
    return _answer(packet, "9013")


def request_answer(packet: Packet, qn_rtn: int) -> bytes:
    """9011 with QnRtn: 1 ready, 2 refused, 3 wrong password, 4 MN, ... 9 CRC, 100 unknown."""
    return _answer(packet, "9011", f"QnRtn={int(qn_rtn)}")


def heartbeat_answer(packet: Packet) -> bytes:
    """A heartbeat (8013 or 9015) is answered like a notification: 9013 (HJ 212-2025)."""
    return notification_answer(packet)


def _qn(moment: datetime) -> str:
    local = moment.astimezone(BEIJING)
    return local.strftime("%Y%m%d%H%M%S") + f"{local.microsecond // 1000:03d}"


def _stamp(moment: datetime) -> str:
    return moment.astimezone(BEIJING).strftime("%Y%m%d%H%M%S")


def _request(mn: str, pw: str, st: str, cn: str, qn: datetime, cp: str) -> bytes:
    fields = {"QN": _qn(qn), "ST": st, "CN": cn, "PW": pw, "MN": mn, "Flag": "5"}
    return _frame_of(fields, cp)


def set_time_request(mn: str, pw: str, st: str, at: datetime, qn: datetime) -> bytes:
    """1012: set the logger's clock to ``at`` (Beijing time); Flag=5 asks for the 9011/9012."""
    return _request(mn, pw, st, "1012", qn, f"SystemTime={_stamp(at)}")


def data_request(
    mn: str, pw: str, st: str, cn: str, begin: datetime, end: datetime, qn: datetime
) -> bytes:
    """A history request (2061 hourly, 2051 minute, 2031 daily...) for [begin, end]."""
    return _request(mn, pw, st, cn, qn, f"BeginTime={_stamp(begin)},EndTime={_stamp(end)}")
