"""HJ 212-2017 packets: framing, CRC, parsing and building.

A packet is ``##`` + 4-digit decimal length of the data segment + the data segment + its CRC as 4
hex digits + CRLF. The data segment is ``QN=..;ST=..;CN=..;PW=..;MN=..;Flag=..;CP=&&...&&`` (QN and
Flag are missing from some real packets). Inside CP: ``DataTime=yyyyMMddHHmmss;`` then groups
separated by ``;``, each a comma-separated list of ``code-Field=value`` items.

Pure: no I/O. Times in packets are Beijing time (UTC+8) without a zone; parsed times are tz-aware.

>>> p = parse(build({"ST": "21", "CN": "2011", "PW": "123456", "MN": "X1"},
...                 datetime(2021, 4, 1, 4, 0, tzinfo=BEIJING), {"w21011": {"Rtd": "0.048"}}))
>>> p.mn, p.items["w21011"]["Rtd"]
('X1', '0.048')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from stations.errors import StationsError

#: Beijing time (UTC+8), the zone of HJ 212 packet times and of the published results.
BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")

HEADER_KEYS = ("QN", "ST", "CN", "PW", "MN", "Flag", "PNUM", "PNO")
MAX_DATA_LENGTH = 9999


class Hj212Error(StationsError):
    """A packet breaks HJ 212-2017; the message says what and where (byte offset or field)."""


def _crc_round(value: int) -> int:
    for _ in range(8):
        carry = value & 1
        value >>= 1
        if carry:
            value ^= 0xA001
    return value


# Each step is reg = rounds((reg >> 8) ^ byte): an 8-bit index, so one table lookup a byte.
_CRC_TABLE = tuple(_crc_round(index) for index in range(256))


def crc16(data: bytes) -> int:
    """The HJ 212-2017 CRC of a data segment (not CRC-16/MODBUS: the register shifts first).

    Annex A: for each byte, reg = (reg >> 8) ^ byte, then 8 times: shift right, and xor 0xA001
    when the bit shifted out was 1; reg starts at 0xFFFF.
    """
    reg = 0xFFFF
    table = _CRC_TABLE
    for byte in data:
        reg = table[(reg >> 8) ^ byte]
    return reg


@dataclass(frozen=True)
class Packet:
    """One decoded packet. ``items``: pollutant code -> its fields (``Rtd``, ``Flag``, ...)."""

    header: Mapping[str, str]
    data_time: datetime | None
    items: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def mn(self) -> str:
        return self.header["MN"]

    @property
    def cn(self) -> str:
        return self.header.get("CN", "")

    @property
    def st(self) -> str:
        return self.header.get("ST", "")

    @property
    def password(self) -> str | None:
        return self.header.get("PW")


def unframe(raw: bytes) -> bytes:
    """The data segment of a framed packet, after checking length and CRC."""
    if not raw.startswith(b"##"):
        raise Hj212Error("packet does not start with '##'")
    body = raw[:-2] if raw.endswith(b"\r\n") else raw.rstrip(b"\r\n")
    length_text = body[2:6]
    if len(length_text) != 4 or not length_text.isdigit():
        raise Hj212Error(f"bytes 2-5 must be a 4-digit data length, found {length_text!r}")
    length = int(length_text)
    data = body[6 : 6 + length]
    crc_text = body[6 + length :]
    if len(data) != length:
        raise Hj212Error(f"data segment is {len(data)} bytes, the header says {length}")
    if len(crc_text) != 4:
        raise Hj212Error(
            f"expected 4 CRC hex digits after the {length}-byte data segment, found {crc_text!r}"
        )
    try:
        crc = int(crc_text, 16)
    except ValueError as exc:
        raise Hj212Error(f"CRC {crc_text!r} is not 4 hex digits") from exc
    expected = crc16(data)
    if crc != expected:
        raise Hj212Error(f"CRC mismatch: packet says {crc:04x}, data segment gives {expected:04x}")
    return data


def parse(raw: bytes) -> Packet:
    """Decode a framed packet; Hj212Error names what is wrong.

    ``raw`` may also be the frames of a split packet (PNUM/PNO), joined in PNO order as the
    gateway publishes them: each frame is checked, and the packet merges their items.
    """
    frames = split_joined(raw)
    if len(frames) == 1:
        return _parse_one(raw)
    return _merge([_parse_one(frame) for frame in frames])


def split_joined(raw: bytes) -> list[bytes]:
    """The frames of ``raw``, cut by their length fields where each ends in CRLF before '##'."""
    frames: list[bytes] = []
    pos = 0
    while raw[pos : pos + 2] == b"##" and raw[pos + 2 : pos + 6].isdigit():
        end = pos + 12 + int(raw[pos + 2 : pos + 6])
        if raw[end - 2 : end] != b"\r\n" or raw[end : end + 2] != b"##":
            break
        frames.append(raw[pos:end])
        pos = end
    return [*frames, raw[pos:]] if frames else [raw]


def _merge(parts: list[Packet]) -> Packet:
    """One packet from the parts of a split packet, PNO 1..PNUM in order."""
    first = parts[0]
    for number, part in enumerate(parts, 1):
        pnum, pno = part.header.get("PNUM", ""), part.header.get("PNO", "")
        if not (pnum.isdigit() and pno.isdigit()) or (int(pnum), int(pno)) != (len(parts), number):
            raise Hj212Error(
                f"frame {number} of {len(parts)} joined frames has PNUM={pnum} PNO={pno}"
            )
        if (part.mn, part.cn) != (first.mn, first.cn):
            raise Hj212Error(f"joined frame {number} is MN={part.mn} CN={part.cn}, not the first's")
        if part.data_time not in (None, first.data_time):
            raise Hj212Error(f"joined frame {number} has another DataTime than the first")
    header = {key: value for key, value in first.header.items() if key != "PNO"}
    items: dict[str, dict[str, str]] = {}
    extra: dict[str, str] = {}
    for part in parts:
        for code, fields in part.items.items():
            items.setdefault(code, {}).update(fields)
        extra.update(part.extra)
    return Packet(header=header, data_time=first.data_time, items=items, extra=extra)


def _parse_one(raw: bytes) -> Packet:
    data = unframe(raw)
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError as exc:
        raise Hj212Error(f"non-ASCII byte in the data segment at offset {exc.start}") from exc
    head, sep, rest = text.partition("CP=&&")
    if not sep:
        raise Hj212Error("data segment has no 'CP=&&'")
    cp, sep, _ = rest.rpartition("&&")
    if not sep:
        raise Hj212Error("CP is not closed by '&&'")
    header: dict[str, str] = {}
    for part in head.split(";"):
        if not part:
            continue
        key, eq, value = part.partition("=")
        if not eq:
            raise Hj212Error(f"header field {part!r} has no '='")
        header[key] = value
    if not header.get("MN"):
        raise Hj212Error("header has no MN (device id)")
    if len(header["MN"]) > 24:
        raise Hj212Error(f"MN {header['MN']!r} is longer than 24 characters")
    items: dict[str, dict[str, str]] = {}
    extra: dict[str, str] = {}
    data_time = None
    for group in cp.split(";"):
        for entry in group.split(","):
            if not entry:
                continue
            key, eq, value = entry.partition("=")
            if not eq:
                raise Hj212Error(f"CP entry {entry!r} has no '='")
            if key == "DataTime":
                data_time = parse_time(value)
            elif "-" in key:
                code, _, name = key.partition("-")
                items.setdefault(code, {})[name] = value
            else:
                extra[key] = value
    return Packet(header=header, data_time=data_time, items=items, extra=extra)


def parse_time(text: str) -> datetime:
    """yyyyMMddHHmmss (optionally with milliseconds) in Beijing time, as a tz-aware datetime."""
    if not text.isdigit() or len(text) not in (14, 17):
        raise Hj212Error(f"DataTime {text!r} is not yyyyMMddHHmmss[SSS]")
    try:
        moment = datetime.strptime(text[:14], "%Y%m%d%H%M%S")
    except ValueError as exc:
        raise Hj212Error(f"DataTime {text!r} is not a valid time: {exc}") from exc
    millis = int(text[14:] or 0)
    return moment.replace(microsecond=millis * 1000, tzinfo=BEIJING)


def build(
    header: Mapping[str, str],
    data_time: datetime,
    items: Mapping[str, Mapping[str, str]],
) -> bytes:
    """A framed packet. Item fields keep their order; ``data_time`` is written in Beijing time."""
    head = ";".join(f"{key}={header[key]}" for key in HEADER_KEYS if key in header)
    stamp = data_time.astimezone(BEIJING).strftime("%Y%m%d%H%M%S")
    groups = [f"DataTime={stamp}"]
    groups += [
        ",".join(f"{code}-{k}={v}" for k, v in fields.items()) for code, fields in items.items()
    ]
    data = f"{head};CP=&&{';'.join(groups)}&&".encode("ascii")
    if len(data) > MAX_DATA_LENGTH:
        raise Hj212Error(f"data segment of {len(data)} bytes exceeds {MAX_DATA_LENGTH}")
    return b"##%04d%s%04X\r\n" % (len(data), data, crc16(data))
