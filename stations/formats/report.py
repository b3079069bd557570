"""A station report: one station, one observation time, the values measured at that time.

This is what travels on ``wq.reports.raw`` as JSON (schema 1)::

    {"schema": 1, "station": "JS-TH-001", "observed_at": "2021-04-01T04:00:00+08:00",
     "received_at": "2021-04-01T04:03:12+08:00", "source": "import:cnemc",
     "values": {"tp": {"value": 0.048, "unit": "mg/L", "flag": "N"}, ...}}

Times are ISO 8601 with an offset (naive times are refused). ``value`` is a number or null (not
published); ``flag`` is the HJ 212 value flag (N normal, M maintenance, ...). Pure: no I/O.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Literal

import msgspec

from stations import parameters
from stations.errors import MessageError, StationsError, UnitError, UnknownStationError
from stations.formats.hj212 import Packet
from stations.formats.records import AwareDatetime, Hj212Flag, Name, Record, decode, encode
from stations.registry import Registry

SCHEMA = 1


class ReportError(StationsError):
    """A report is malformed; ``reason`` is a short code, the message names the field."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class Reading(msgspec.Struct, frozen=True):
    """One parameter's value as reported, in the unit the sender gave."""

    value: float | None
    unit: str
    flag: Hj212Flag = "N"

    def __post_init__(self) -> None:
        if self.value is not None and not math.isfinite(self.value):
            raise ValueError(f"value {self.value} is not finite")


class Report(Record, frozen=True, kw_only=False, tag_field="schema", tag=SCHEMA):
    """A station report (``schema`` 1 on the wire); ``readings`` are its ``values``."""

    station: Name
    observed_at: AwareDatetime
    received_at: AwareDatetime
    source: Name
    readings: dict[str, Reading] = msgspec.field(default_factory=dict, name="values")

    def to_json(self) -> bytes:
        return encode(self)


class _Schema(msgspec.Struct):
    """What a report must say first: its schema (a record's tag may be left out, this not)."""

    schema: Literal[1]


def from_json(raw: bytes) -> Report:
    """Decode and check a schema-1 report; ReportError names the field that is wrong."""
    try:
        decode(raw, _Schema)
        return decode(raw, Report)
    except MessageError as exc:
        raise ReportError("undecodable" if exc.undecodable else "invalid", str(exc)) from exc


#: The HJ 212 value field read for each command: real-time data, then the averages of the
#: minute, hourly and daily data.
HJ212_VALUE_FIELD = {"2011": "Rtd", "2051": "Avg", "2061": "Avg", "2031": "Avg"}


def from_hj212(packet: Packet, registry: Registry, received_at: datetime) -> Report:
    """The report carried by a decoded HJ 212 data packet (CN 2011/2051/2061/2031).

    The station is found by the packet's MN; pollutant codes become parameter keys (codes that
    are not water parameters of basinwatch, such as ``ele01``, are ignored); values are in the
    parameter's canonical unit, as HJ 212 loggers send them.
    """
    field_name = HJ212_VALUE_FIELD.get(packet.cn)
    if field_name is None:
        raise ReportError("invalid", f"HJ 212 CN={packet.cn!r} is not a data upload command")
    if packet.data_time is None:
        raise ReportError("invalid", f"HJ 212 packet of MN {packet.mn} has no DataTime")
    try:
        station = registry.by_mn(packet.mn)
    except UnknownStationError as exc:
        raise ReportError(
            "unknown_station", f"HJ 212 MN {packet.mn!r} is not in the registry"
        ) from exc
    readings: dict[str, Reading] = {}
    for code, fields in packet.items.items():
        try:
            parameter = parameters.by_hj212_code(code)
        except UnitError:
            continue
        text = fields.get(field_name)
        try:
            value = None if text is None else float(text)
        except ValueError as exc:
            raise ReportError(
                "invalid", f"HJ 212 {code}-{field_name}={text!r} is not a number"
            ) from exc
        if value is not None and not math.isfinite(value):
            raise ReportError("invalid", f"HJ 212 {code}-{field_name}={text!r} is not finite")
        readings[parameter.key] = Reading(value, parameter.unit, fields.get("Flag", "N"))
    return Report(
        station=station.id,
        observed_at=packet.data_time,
        received_at=received_at,
        source="hj212",
        readings=readings,
    )
