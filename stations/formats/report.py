"""A station report: one station, one observation time, the values measured at that time.

This is what travels on ``wq.reports.raw`` as JSON (schema 1)::

    {"schema": 1, "station": "JS-TH-001", "observed_at": "2021-04-01T04:00:00+08:00",
     "received_at": "2021-04-01T04:03:12+08:00", "source": "import:cnemc",
     "values": {"tp": {"value": 0.048, "unit": "mg/L", "flag": "N"}, ...}}

Times are ISO 8601 with an offset (naive times are refused). ``value`` is a number or null (not
published); ``flag`` is the HJ 212 value flag (N normal, M maintenance, ...). Pure: no I/O.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from stations import parameters
from stations.errors import StationsError, UnitError, UnknownStationError
from stations.formats.hj212 import Packet
from stations.registry import Registry

SCHEMA = 1


class ReportError(StationsError):
    """A report is malformed; ``reason`` is a short code, the message names the field."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Reading:
    """One parameter's value as reported, in the unit the sender gave."""

    value: float | None
    unit: str
    flag: str = "N"


@dataclass(frozen=True, slots=True)
class Report:
    station: str
    observed_at: datetime
    received_at: datetime
    source: str
    readings: Mapping[str, Reading] = field(default_factory=dict)
    schema: int = SCHEMA

    def to_json(self) -> bytes:
        doc = {
            "schema": self.schema,
            "station": self.station,
            "observed_at": self.observed_at.isoformat(),
            "received_at": self.received_at.isoformat(),
            "source": self.source,
            "values": {
                key: {"value": r.value, "unit": r.unit, "flag": r.flag}
                for key, r in self.readings.items()
            },
        }
        return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def from_json(raw: bytes) -> Report:
    """Decode and check a schema-1 report; ReportError names the field that is wrong."""
    try:
        doc = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReportError("undecodable", f"not UTF-8 JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise ReportError("undecodable", f"expected a JSON object, got {type(doc).__name__}")
    return from_dict(doc)


def from_dict(doc: Mapping[str, Any]) -> Report:
    schema = doc.get("schema")
    if schema != SCHEMA:
        raise ReportError("invalid", f"field 'schema' must be {SCHEMA}, got {schema!r}")
    station = doc.get("station")
    if not isinstance(station, str) or not station:
        raise ReportError("invalid", "field 'station' is missing or not a non-empty string")
    source = doc.get("source")
    if not isinstance(source, str) or not source:
        raise ReportError("invalid", "field 'source' is missing or not a non-empty string")
    values = doc.get("values")
    if not isinstance(values, dict):
        raise ReportError("invalid", "field 'values' must be an object of parameter readings")
    readings = {key: _reading(key, item) for key, item in values.items()}
    return Report(
        station=station,
        observed_at=_time(doc, "observed_at"),
        received_at=_time(doc, "received_at"),
        source=source,
        readings=readings,
    )


def _time(doc: Mapping[str, Any], name: str) -> datetime:
    text = doc.get(name)
    if not isinstance(text, str):
        raise ReportError("invalid", f"field '{name}' must be an ISO 8601 time string")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise ReportError("invalid", f"field '{name}': {exc}") from exc
    if moment.tzinfo is None:
        raise ReportError("invalid", f"field '{name}' {text!r} has no UTC offset")
    return moment


def _reading(key: str, item: Any) -> Reading:
    where = f"values.{key}"
    if not isinstance(item, dict):
        raise ReportError("invalid", f"field '{where}' must be an object")
    value = item.get("value")
    if value is not None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ReportError("invalid", f"field '{where}.value' must be a number or null")
        value = float(value)
        if not math.isfinite(value):
            raise ReportError("invalid", f"field '{where}.value' is not finite")
    unit = item.get("unit")
    if not isinstance(unit, str):
        raise ReportError("invalid", f"field '{where}.unit' must be a string")
    flag = item.get("flag", "N")
    if not isinstance(flag, str) or len(flag) != 1:
        raise ReportError("invalid", f"field '{where}.flag' must be one HJ 212 flag letter")
    return Reading(value, unit, flag)


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
