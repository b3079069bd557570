"""The party views: which series of the main bucket each party's view bucket holds, and how.

A party's view is one bucket (:func:`view_bucket`) holding the party's own data in full plus
exactly what the sharing list (:mod:`stations.sharing.grants`) shares with it, with the same
measurements, tags and fields as the main bucket (docs/schema.md). A grant becomes one or more
:class:`Selection`\\ s: a measurement of one station (and, for per-parameter measurements, one
parameter), the fields it shares, and on what terms. Real-time grants without delay are routed at
ingestion (:class:`Router`, used by the store); the others are derived from the main bucket by
:mod:`streams.store.derive`. Pure: no I/O.

What each kind of data selects (``st`` a station, ``p`` one of its parameters):

- ``p``: ``water_quality`` / ``hydrology`` of ``st`` and ``p``, fields ``value`` and ``qc``
  (a value is always shared with its flag); as means: the mean of the QC-good values, qc 1;
- ``class``: the ``class`` field of every parameter's point and the ``assessment`` point; as
  means: the worst class in the window (and the target class);
- ``qc``: the ``qc`` points (flag and reasons) of the parameters shared in real time, on the later
  of the two delays: a reason quotes the value, so it goes only where the value goes;
- ``alerts``: the ``alerts`` and ``breaches`` points; ``alert_deliveries`` (who was paged) and
  ``rejected`` (dead letters: they carry the raw bytes a station sent) only to the owner's own
  view. A dead letter whose station is unknown stays in the main bucket.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from types import MappingProxyType
from typing import Any

from influxdb_client import Point

from stations.jurisdictions import Jurisdiction
from stations.registry import Registry
from stations.sharing.grants import ALERTS, CLASS, QC, Basis, Grant, Granularity, SharingList
from stations.station import StationKind
from streams.store import points as m

#: The fields a parameter's grant shares, and those of its class.
VALUE_FIELDS = ("value", "qc")
CLASS_FIELDS = ("class",)
#: Measurements with one series per parameter (the ``parameter`` tag selects them).
PER_PARAMETER = (m.WATER_QUALITY, m.HYDROLOGY, m.QC)
#: The ``agg`` tag of a mean point, by granularity (absent on real-time points).
AGG = {Granularity.HOURLY: "1h", Granularity.DAILY: "1d"}


def view_bucket(settings_bucket: str, party: str) -> str:
    """The view bucket of a party: ``basinwatch-zj`` for ZJ with the main bucket ``basinwatch``."""
    return f"{settings_bucket}-{Jurisdiction(party).value.lower()}"


@dataclass(frozen=True, order=True)
class Selection:
    """A series of the main bucket that a party's view holds: a measurement of one station (and
    one parameter for :data:`PER_PARAMETER`), its fields (None: all), on what terms."""

    party: Jurisdiction
    measurement: str
    station: str
    parameter: str | None
    fields: tuple[str, ...] | None
    granularity: Granularity = Granularity.REALTIME
    delay_hours: int = 0

    @property
    def at_ingestion(self) -> bool:
        """Written by the store as the point arrives (real time, no delay)."""
        return self.granularity is Granularity.REALTIME and self.delay_hours == 0

    @property
    def delay(self) -> timedelta:
        return timedelta(hours=self.delay_hours)

    @property
    def agg(self) -> str | None:
        return AGG.get(self.granularity)

    @property
    def series(self) -> tuple[Jurisdiction, str, str, str | None]:
        """(party, measurement, station, parameter): what a delete in the view removes."""
        return (self.party, self.measurement, self.station, self.parameter)


def selections(sharing: SharingList) -> tuple[Selection, ...]:
    """Every selection of every party's view under a sharing list, sorted."""
    found: set[Selection] = set()
    for party in Jurisdiction:
        found.update(party_selections(sharing.registry, sharing.grants_for(party)))
    return tuple(sorted(found))


def party_selections(registry: Registry, grants: Iterable[Grant]) -> Iterator[Selection]:
    """The selections of one party's grants."""
    grants = tuple(grants)
    by_key = {(g.station, g.data): g for g in grants}
    for grant in grants:
        station = registry.get(grant.station)
        measurement = m.HYDROLOGY if station.kind is StationKind.HYDROLOGY else m.WATER_QUALITY
        terms = (grant.granularity, grant.delay_hours)
        who, where = grant.party, grant.station
        if grant.data == CLASS:
            for parameter in station.parameters:
                yield Selection(who, measurement, where, parameter, CLASS_FIELDS, *terms)
            yield Selection(who, m.ASSESSMENT, where, None, None, *terms)
        elif grant.data == ALERTS:
            yield Selection(who, m.ALERTS, where, None, None, *terms)
            yield Selection(who, m.BREACHES, where, None, None, *terms)
            if grant.basis is Basis.OWN:
                yield Selection(who, m.DELIVERIES, where, None, None, *terms)
                yield Selection(who, m.REJECTED, where, None, None, *terms)
        elif grant.data == QC:
            for parameter in station.parameters:
                value = by_key.get((grant.station, parameter))
                if value is None or value.granularity is not Granularity.REALTIME:
                    continue  # a reason quotes the value: only where the value goes as it is
                delay = max(grant.delay_hours, value.delay_hours)
                yield Selection(who, m.QC, where, parameter, None, Granularity.REALTIME, delay)
        else:
            yield Selection(who, measurement, where, grant.data, VALUE_FIELDS, *terms)


def point_parts(point: Point) -> tuple[str, Mapping[str, str], Mapping[str, Any]]:
    """A point's measurement, tags and fields (influxdb-client's Point has no getters)."""
    return point._name, point._tags, point._fields


def _copy(point: Point, fields: Mapping[str, Any]) -> Point:
    name, tags, _ = point_parts(point)
    copy = Point(name).time(point._time, point._write_precision)
    for key, value in tags.items():
        copy.tag(key, value)
    for key, value in fields.items():
        copy.field(key, value)
    return copy


class Router:
    """Which view buckets a point goes to at ingestion, and with which of its fields: the
    real-time, undelayed selections of a sharing list."""

    def __init__(self, sharing: SharingList, bucket: str) -> None:
        table: dict[tuple[str, str, str | None], dict[str, tuple[str, ...] | None]] = {}
        for sel in selections(sharing):
            if not sel.at_ingestion:
                continue
            views = table.setdefault((sel.measurement, sel.station, sel.parameter), {})
            target = view_bucket(bucket, sel.party)
            if sel.fields is None or views.get(target, ()) is None:
                views[target] = None
            else:
                views[target] = (*(views.get(target) or ()), *sel.fields)
        self._table = MappingProxyType(table)
        self.buckets = tuple(view_bucket(bucket, party) for party in Jurisdiction)

    def route(self, point: Point) -> dict[str, Point]:
        """The point as each view bucket receives it (only the fields it shares), by bucket."""
        name, tags, fields = point_parts(point)
        parameter = tags.get("parameter") if name in PER_PARAMETER else None
        views = self._table.get((name, tags.get("station", ""), parameter), {})
        out = {}
        for target, shared in views.items():
            if shared is None:
                out[target] = point
                continue
            kept = {key: value for key, value in fields.items() if key in shared}
            if kept:
                out[target] = _copy(point, kept)
        return out

    def route_all(self, points: Sequence[Point]) -> dict[str, list[Point]]:
        """Points by view bucket (buckets without points left out)."""
        out: dict[str, list[Point]] = {}
        for point in points:
            for target, copy in self.route(point).items():
                out.setdefault(target, []).append(copy)
        return out
