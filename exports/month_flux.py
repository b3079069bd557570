"""The Flux of the month's read (:mod:`exports.reading`) other than the QC-good means: breaches,
alert changes and what the views hold, built with the boards' builder.

Pure: text in, text out. Every query is a :class:`boards.flux.Flux`, so every measurement, tag and
field it names is checked against what the store writes (:mod:`boards.schema`). The builder reads
``from(bucket: v.defaultBucket)``, as Grafana's queries do; here ``v`` is declared by the query
itself (``option v = {defaultBucket: ...}``) and the range is the period's own times. Each query
filters on tags and fields and counts, which InfluxDB does in its storage engine. The QC-good
means need a condition on another field of the same point, and are read with InfluxQL
(:mod:`exports.influxql`, which says why).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from boards.flux import Flux, string_set
from streams.store.derive import flux_string, flux_time
from streams.store.points import (
    ALERTS,
    ASSESSMENT,
    BREACHES,
    HYDROLOGY,
    QC,
    WATER_QUALITY,
)

__all__ = ["alert_changes", "breach_count", "delivered"]

#: The alert changes an episode summary needs (the ``change`` tag).
EPISODE_CHANGES = ("firing", "acknowledged", "resolved")


def period(bucket: str, start: datetime, stop: datetime) -> Flux:
    """A query of ``bucket`` over [start, stop)."""
    return Flux(start=flux_time(start), stop=flux_time(stop)).bind(
        f"option v = {{defaultBucket: {flux_string(bucket)}}}"
    )


def breach_count(bucket: str, start: datetime, stop: datetime) -> str:
    """The number of breach events (kind ``breach``) in the period (column ``_value``)."""
    return (
        period(bucket, start, stop)
        .select(BREACHES, ["id"], kind="breach")
        .group()
        .stage("count()")
        .render()
    )


def alert_changes(bucket: str, start: datetime, stop: datetime) -> str:
    """The period's firing, acknowledgement and resolution changes: one row each with the
    change id (``_value``), ``_time``, ``station``, ``jurisdiction`` and ``change``."""
    return (
        period(bucket, start, stop)
        .select(ALERTS, ["id"], change=list(EPISODE_CHANGES))
        .keep("_time", "_value", "station", "jurisdiction", "change")
        .group()
        .sort("_time")
        .render()
    )


#: Per measurement, the field counted as one delivered result.
DELIVERED_FIELDS = {
    WATER_QUALITY: "value",
    HYDROLOGY: "value",
    ASSESSMENT: "target_class",
    QC: "flag",
    ALERTS: "id",
    BREACHES: "id",
}


def delivered(bucket: str, start: datetime, stop: datetime, stations: Iterable[str]) -> str:
    """Per measurement, station, parameter and ``agg``, the results a view holds in the period
    (column ``_value``): values, assessments, QC flags and alert changes of ``stations``."""
    query = period(bucket, start, stop)
    kinds = " or ".join(
        f'(r._measurement == "{name}" and r._field == "{field}")'
        for name, field in DELIVERED_FIELDS.items()
    )
    # the names above are the store's own (streams.store.points); each is checked here
    for name, field in DELIVERED_FIELDS.items():
        Flux().select(name, [field])
    return (
        query.stage(f"filter(fn: (r) => {kinds})")
        .stage(f"filter(fn: (r) => contains(value: r.station, set: {string_set(stations)}))")
        .group("_measurement", "station", "parameter", "agg")
        .stage("count()")
        .group()
        .render()
    )
