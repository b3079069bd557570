"""Assessed reports and rule events as InfluxDB points (the schema of docs/schema.md).

A point's identity is its measurement, its tags and its time (seconds). Writing the same point
again overwrites it, so a message redelivered after a crash or a replay leaves one point, not two.
Tags are only bounded, stable attributes of a station (id, name, jurisdiction, basin, water body)
and the parameter; values, flags and classes are fields. A missing or NaN value is never written
as a number: its point carries the QC flag (9, missing) alone.

Dead letters (``rejected``) are the exception to the second precision: one point per dead letter
at the microsecond it was rejected (:func:`rejected_point`), written with nanosecond precision.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import msgspec
from influxdb_client import Point, WritePrecision

from alerts.records import AlertsDocument, ReceiverDelivery
from stations.formats.assessed import AssessedReport
from stations.quality.checks import QCFlag
from stations.registry import Registry
from stations.rules.events import RuleEvent
from stations.station import Station, StationKind
from streams.deadletter import DeadLetter

WATER_QUALITY = "water_quality"
HYDROLOGY = "hydrology"
ASSESSMENT = "assessment"
QC = "qc"
BREACHES = "breaches"
ALERTS = "alerts"
DELIVERIES = "alert_deliveries"
REJECTED = "rejected"

#: How much of a dead letter's detail a ``rejected`` point keeps.
DETAIL_CHARS = 500

_STATION_TAGS = ("station", "station_name", "jurisdiction", "basin", "water_body")


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    number = float(value)
    return None if math.isnan(number) or math.isinf(number) else number


def _observed_and_limit(point: Point, doc: Mapping[str, Any]) -> Point:
    """The alert's observed value and limit as fields, when they are numbers."""
    for name in ("observed", "limit"):
        number = _number(doc.get(name))
        if number is not None:
            point.field(name, number)
    return point


def _station_point(measurement: str, report: AssessedReport, at: int) -> Point:
    point = Point(measurement).time(at, WritePrecision.S)
    for tag in _STATION_TAGS:
        text = str(getattr(report, tag))
        if text:
            point.tag(tag, text)
    return point


def assessed_points(report: AssessedReport) -> list[Point]:
    """The points of one assessed report (``wq.reports.assessed``)."""
    at = int(report.observed_at.timestamp())
    points = []
    hydrology = report.kind is StationKind.HYDROLOGY
    measurement = HYDROLOGY if hydrology else WATER_QUALITY
    for name, entry in sorted(report.values.items()):
        point = _station_point(measurement, report, at).tag("parameter", name)
        value = _number(entry.value)
        qc = int(entry.qc)
        if value is not None:
            point.field("value", value)
        point.field("qc", qc)
        if entry.water_class is not None:
            point.field("class", entry.water_class)
        points.append(point)
        if entry.qc not in (QCFlag.GOOD, QCFlag.NOT_EVALUATED):  # why, for the QC board
            reasons = "; ".join(entry.reasons) or "no reason given"
            points.append(
                _station_point(QC, report, at)
                .tag("parameter", name)
                .field("flag", qc)
                .field("reasons", reasons)
            )
    if report.kind is StationKind.WATER_QUALITY:
        point = _station_point(ASSESSMENT, report, at).field("late", report.late)
        if report.water_class is not None:
            point.field("class", report.water_class)
            point.field("limiting", ",".join(report.limiting))
        if report.target_class is not None:
            point.field("target_class", report.target_class)
        if report.target_met is not None:
            point.field("target_met", report.target_met)
        points.append(point)
    return points


def event_point(event: RuleEvent) -> Point:
    """The point of one breach, pending breach or recovery (``wq.breaches``)."""
    point = (
        Point(BREACHES)
        .time(int(event.observed_at.timestamp()), WritePrecision.S)
        .tag("station", event.station)
        .tag("station_name", event.station_name)
        .tag("rule", event.rule)
        .tag("parameter", event.parameter)
        .tag("kind", str(event.kind))
        .tag("severity", str(event.severity))
        .field("id", event.id)
        .field("jurisdictions", ",".join(event.jurisdictions))
        .field("message", event.message)
    )
    for name, number in (("observed", event.observed), ("limit", event.limit)):
        if _number(number) is not None:
            point.field(name, number)
    return point


def alert_points(record: AlertsDocument) -> list[Point]:
    """The points of one ``wq.alerts`` document: a point per alert state change (measurement
    ``alerts``) or one per notification delivery (``alert_deliveries``)."""
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


def letter_station(letter: DeadLetter, registry: Registry) -> Station | None:
    """The registry's station a dead letter came from: its key (the producers key by station id),
    else the ``station`` of its original JSON; None when neither names a known station (an
    unknown id is never a tag: it is whatever the sender wrote)."""
    names = []
    if letter.key:
        names.append(letter.key.decode("utf-8", "replace"))
    if letter.original:
        try:
            doc = msgspec.json.decode(letter.original)
        except msgspec.DecodeError:
            doc = None
        if isinstance(doc, dict) and isinstance(doc.get("station"), str):
            names.append(doc["station"])
    for name in names:
        if name in registry:
            return registry.get(name)
    return None


def rejected_point(letter: DeadLetter, registry: Registry) -> Point:
    """The point of one dead letter (``wq.reports.rejected``), tagged by reason and, when the
    station is known (:func:`letter_station`), by station and jurisdiction.

    Its time is when it was rejected, to the microsecond, with the last three digits of the
    source offset as nanoseconds: two dead letters of the same reason and station stay two points
    even in the same microsecond, and the same dead letter read again is the same point."""
    at = letter.rejected_at
    seconds = int(at.replace(microsecond=0).timestamp())
    nanos = (seconds * 1_000_000 + at.microsecond) * 1000 + letter.source.offset % 1000
    point = Point(REJECTED).time(nanos, WritePrecision.NS).tag("reason", letter.reason)
    station = letter_station(letter, registry)
    if station is not None:
        point.tag("station", station.id).tag("jurisdiction", station.jurisdiction.value)
    detail = letter.detail
    if len(detail) > DETAIL_CHARS:
        detail = detail[: DETAIL_CHARS - 1] + "…"
    return point.field("source", str(letter.source)).field("detail", detail).field("count", 1)


def record_points(record: AssessedReport | RuleEvent) -> list[Point]:
    """The points of an assessed report or of a rule event."""
    return assessed_points(record) if isinstance(record, AssessedReport) else [event_point(record)]


def line_protocol(points: Iterable[Point], precision: str = WritePrecision.S) -> list[str]:
    """Points as line protocol with second precision (what is sent, and what tests count);
    ``rejected`` points with nanosecond precision."""
    return [point.to_line_protocol(precision=precision) for point in points]
