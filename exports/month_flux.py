"""The Flux of the month's read (:mod:`exports.reading`), built with the boards' builder.

Pure: text in, text out. Every query is a :class:`boards.flux.Flux`, so every measurement, tag and
field it names is checked against what the store writes (:mod:`boards.schema`). The builder reads
``from(bucket: v.defaultBucket)``, as Grafana's queries do; here ``v`` is declared by the query
itself (``option v = {defaultBucket: ...}``) and the range is the period's own times.

QC-good means ``qc == 1`` (docs/schema.md): a value is written with its QC flag in one point, so
the two fields are pivoted into one row per observation before the filter. In a party's view an
hourly or daily mean (tag ``agg``) has ``qc`` 1 and is read like any value.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from boards.flux import Flux, combine, string_set
from stations.standard.gb3838 import WaterBody
from streams.store.derive import BEIJING_OFFSET, flux_duration, flux_string, flux_time
from streams.store.points import (
    ALERTS,
    ASSESSMENT,
    BREACHES,
    HYDROLOGY,
    QC,
    WATER_QUALITY,
)

__all__ = [
    "COUNT",
    "MEAN",
    "VALID",
    "alert_changes",
    "breach_count",
    "delivered",
    "lake_daily",
    "station_month",
]

#: The results (``yield`` names) of :func:`station_month`.
MEAN, COUNT, VALID = "mean", "count", "valid"
#: The alert changes an episode summary needs (the ``change`` tag).
EPISODE_CHANGES = ("firing", "acknowledged", "resolved")
#: The offset of daily windows that start at midnight Beijing time.
DAY_OFFSET = flux_duration(timedelta(days=1) - BEIJING_OFFSET)


def period(bucket: str, start: datetime, stop: datetime) -> Flux:
    """A query of ``bucket`` over [start, stop)."""
    return Flux(start=flux_time(start), stop=flux_time(stop)).bind(
        f"option v = {{defaultBucket: {flux_string(bucket)}}}"
    )


def _good_values(query: Flux) -> Flux:
    """One row per observation with its ``value`` and ``qc``, QC-good values only."""
    return query.pivot_fields().where_value("r.qc == 1 and exists r.value", "qc", "value")


def station_month(bucket: str, start: datetime, stop: datetime) -> str:
    """Per station and parameter (and ``agg``), the mean (result ``mean``, column ``value``) and
    the number (result ``count``) of the QC-good values; per station, the number of observation
    times with at least one QC-good value (result ``valid``, column ``_value``)."""
    base = period(bucket, start, stop)
    good = _good_values(base.select(WATER_QUALITY, ["value", "qc"])).group(
        "station", "parameter", "agg"
    )
    valid = (
        base.select(WATER_QUALITY, ["qc"])
        .where_value("r._value == 1")
        .group("station")
        .stage('unique(column: "_time")')
        .stage("count()")
    )
    return combine(
        {"good": good, "valid": valid},
        "\n".join(
            (
                f'good |> mean(column: "value") |> yield(name: "{MEAN}")',
                f'good |> count(column: "value") |> yield(name: "{COUNT}")',
                f'valid |> yield(name: "{VALID}")',
            )
        ),
    )


def lake_daily(bucket: str, start: datetime, stop: datetime, parameters: Iterable[str]) -> str:
    """Per parameter and Beijing day, the mean over the lake stations of each station's daily
    mean of QC-good values (column ``value``, ``_time`` the day's start)."""
    query = period(bucket, start, stop).select(
        WATER_QUALITY, ["value", "qc"], water_body=WaterBody.LAKE.value
    )
    return (
        _good_values(query.where("parameter", sorted(parameters)))
        .group("station", "parameter")
        .stage(
            f'aggregateWindow(every: 1d, offset: {DAY_OFFSET}, fn: mean, column: "value", '
            'createEmpty: false, timeSrc: "_start")'
        )
        .group("parameter", "_time")
        .stage('mean(column: "value")')
        .group()
        .sort("parameter", "_time")
        .render()
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
