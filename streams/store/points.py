"""Assessed reports and rule events as InfluxDB points (the schema of docs/schema.md).

A point's identity is its measurement, its tags and its time (seconds). Writing the same point
again overwrites it, so a message redelivered after a crash or a replay leaves one point, not two.
Tags are only bounded, stable attributes of a station (id, name, jurisdiction, basin, water body)
and the parameter; values, flags and classes are fields. A missing or NaN value is never written
as a number: its point carries the QC flag (9, missing) alone.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from influxdb_client import Point, WritePrecision

from alerts.errors import RecordError
from alerts.records import ReceiverDelivery, alerts_document

WATER_QUALITY = "water_quality"
HYDROLOGY = "hydrology"
ASSESSMENT = "assessment"
QC = "qc"
BREACHES = "breaches"
ALERTS = "alerts"
DELIVERIES = "alert_deliveries"

_STATION_TAGS = ("station", "station_name", "jurisdiction", "basin", "water_body")


class PointError(ValueError):
    """A document the store cannot turn into points (names the field)."""


def _seconds(doc: Mapping[str, Any], field: str) -> int:
    try:
        return int(datetime.fromisoformat(doc[field]).timestamp())
    except (KeyError, TypeError, ValueError) as exc:
        raise PointError(f"{field}: not an ISO 8601 time with offset ({exc})") from exc


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    number = float(value)
    return None if math.isnan(number) or math.isinf(number) else number


def _observed_and_limit(point: Point, doc: Mapping[str, Any]) -> Point:
    """The rule event's or alert's observed value and limit as fields, when they are numbers."""
    for name in ("observed", "limit"):
        number = _number(doc.get(name))
        if number is not None:
            point.field(name, number)
    return point


def _station_point(measurement: str, doc: Mapping[str, Any], at: int) -> Point:
    point = Point(measurement).time(at, WritePrecision.S)
    for tag in _STATION_TAGS:
        if doc.get(tag):
            point.tag(tag, str(doc[tag]))
    return point


def assessed_points(doc: Mapping[str, Any]) -> list[Point]:
    """The points of one assessed report (``wq.reports.assessed``)."""
    try:
        at = _seconds(doc, "observed_at")
        values: Mapping[str, Any] = doc["values"]
        kind = doc["kind"]
        if not doc.get("station"):
            raise PointError("station: missing")
        points = []
        measurement = HYDROLOGY if kind == "hydrology" else WATER_QUALITY
        for name, entry in sorted(values.items()):
            point = _station_point(measurement, doc, at).tag("parameter", name)
            value = _number(entry.get("value"))
            qc = int(entry["qc"])
            if value is not None:
                point.field("value", value)
            point.field("qc", qc)
            if entry.get("class") is not None:
                point.field("class", int(entry["class"]))
            points.append(point)
            if qc not in (1, 2):  # suspect, fail, missing: why, for the QC board
                reasons = "; ".join(entry.get("reasons") or ()) or "no reason given"
                points.append(
                    _station_point(QC, doc, at)
                    .tag("parameter", name)
                    .field("flag", qc)
                    .field("reasons", reasons)
                )
        if kind == "water_quality":
            point = _station_point(ASSESSMENT, doc, at).field("late", bool(doc.get("late")))
            if doc.get("class") is not None:
                point.field("class", int(doc["class"]))
                point.field("limiting", ",".join(doc.get("limiting") or ()))
            if doc.get("target_class") is not None:
                point.field("target_class", int(doc["target_class"]))
            if doc.get("target_met") is not None:
                point.field("target_met", bool(doc["target_met"]))
            points.append(point)
        return points
    except PointError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise PointError(f"assessed report: {type(exc).__name__}: {exc}") from exc


def event_point(doc: Mapping[str, Any]) -> Point:
    """The point of one breach or recovery (``wq.breaches``)."""
    try:
        at = _seconds(doc, "observed_at")
        point = (
            Point(BREACHES)
            .time(at, WritePrecision.S)
            .tag("station", str(doc["station"]))
            .tag("station_name", str(doc["station_name"]))
            .tag("rule", str(doc["rule"]))
            .tag("parameter", str(doc["parameter"]))
            .tag("kind", str(doc["kind"]))
            .tag("severity", str(doc["severity"]))
            .field("id", str(doc["id"]))
            .field("jurisdictions", ",".join(doc["jurisdictions"]))
            .field("message", str(doc["message"]))
        )
        return _observed_and_limit(point, doc)
    except PointError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise PointError(f"rule event: {type(exc).__name__}: {exc}") from exc


def alert_points(doc: Mapping[str, Any]) -> list[Point]:
    """The points of one ``wq.alerts`` document: a point per alert state change (measurement
    ``alerts``) or one per notification delivery (``alert_deliveries``)."""
    try:
        record = alerts_document(doc)
    except RecordError as exc:
        raise PointError(str(exc)) from exc
    if isinstance(record, ReceiverDelivery):
        deliveries = record.deliveries
        return [
            Point(DELIVERIES)
            .time(int(record.at.timestamp()), WritePrecision.S)
            .tag("station", record.station)
            .tag("receiver", record.receiver)
            .tag("ok", "true" if record.ok else "false")
            .field("changes", ",".join(record.changes))
            .field("title", record.title)
            .field("attempts", sum(d.attempts for d in deliveries))
            .field("errors", "; ".join(d.error for d in deliveries if d.error))
        ]
    points = []
    for change in record.changes:
        alert = change.alert
        point = (
            Point(ALERTS)
            .time(int(change.at.timestamp()), WritePrecision.S)
            .tag("station", alert.station)
            .tag("station_name", alert.station_name)
            .tag("jurisdiction", str(alert.jurisdiction))
            .tag("rule", alert.rule)
            .tag("parameter", alert.parameter)
            .tag("severity", str(alert.severity))
            .tag("change", str(change.what.transition.family))
            .field("id", change.id)
            .field("state", str(alert.state))
            .field("tier", alert.tier)
            .field("notified", bool(change.tiers))
            .field("suppressed", change.suppressed or "")
            .field("parties", ",".join(alert.parties))
            .field("message", alert.message)
        )
        points.append(
            _observed_and_limit(point, {"observed": alert.observed, "limit": alert.limit})
        )
    return points


def document_points(doc: Mapping[str, Any]) -> list[Point]:
    """The points of an assessed report or of a rule event (events name a ``rule``)."""
    return [event_point(doc)] if "rule" in doc else assessed_points(doc)


def line_protocol(points: Iterable[Point]) -> list[str]:
    """Points as line protocol with second precision (what is sent, and what tests count)."""
    return [point.to_line_protocol(precision=WritePrecision.S) for point in points]
