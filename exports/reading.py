"""Reading one month for the joint meeting's export, aggregated in InfluxDB (contract R).

:func:`read_month` asks InfluxDB for the month's numbers already aggregated: per station and
parameter the mean and count of the QC-good values (``qc == 1``), for the month, the previous
month and the same month a year before; the daily lake means of TN and TP; the month's breaches
and alerts; and, per party, what the sharing list's items delivered to its view. Python only puts
the few hundred rows it gets back into the dataclasses below; it never pulls every point.

Months are calendar months in Beijing time (Asia/Shanghai, UTC+8): April 2021 is
2021-04-01T00:00+08:00 to 2021-05-01T00:00+08:00.

With ``party``, everything is read through the party's view bucket
(:func:`streams.store.views.view_bucket`), so an export for ZJ holds only what ZJ may see; without
it, from the main bucket (the basin-wide export the platform's operator makes from all data).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from stations.registry import Registry
from stations.sharing.grants import SharingList
from streams.settings import Settings

__all__ = [
    "LAKE_SERIES",
    "AlertSummary",
    "MonthData",
    "SharedItem",
    "StationMonth",
    "read_month",
]

#: The keys of :attr:`MonthData.lake_series`: this month's daily lake means of TN and TP, and
#: those of the same month a year before (at their own times).
LAKE_SERIES = ("tn", "tp", "tn_last_year", "tp_last_year")


@dataclass(frozen=True)
class StationMonth:
    """One water-quality station's month.

    ``means`` and ``counts``: per parameter, the arithmetic mean and the number of its QC-good
    values in the month (parameters without one are absent). ``valid``: the number of reports
    (observation times) with at least one QC-good value, the numerator of the data completeness
    (valid / expected results, the expected ones from the station's interval).
    ``aggregated``: the ``agg`` tags of the points read (``1h``, ``1d``) when the party's view
    holds the station's values only as hourly or daily means (then the means are means of those
    means and the counts count windows); empty for real-time points.
    """

    station: str
    means: dict[str, float]
    counts: dict[str, int]
    valid: int
    aggregated: tuple[str, ...] = ()


@dataclass(frozen=True)
class AlertSummary:
    """The month's alert episodes (an episode: one alert id from its firing to its resolution).

    ``count``: episodes that fired in the month; ``stations``: the distinct stations they were at;
    ``longest``: the longest time from firing to resolution (to the end of the month when still
    open); ``mean_ack``: mean time from firing to acknowledgement, of those acknowledged;
    ``mean_resolve``: mean time from firing to resolution, of those resolved in the month;
    ``by_jurisdiction``: episodes per owner of the station (``JS`` ...).
    """

    count: int
    stations: int
    longest: timedelta | None
    mean_ack: timedelta | None
    mean_resolve: timedelta | None
    by_jurisdiction: dict[str, int]


@dataclass(frozen=True)
class SharedItem:
    """One grant of the sharing list against what its party's view holds for the month.

    ``data``: a parameter key, ``class``, ``qc`` or ``alerts``. ``expected``: the results the
    month should deliver on the grant's terms (real time: one per station interval; hourly or
    daily means: one per hour or day), up to the moment of reading less the delay; None for
    ``qc`` and ``alerts``, which are events. ``delivered``: the points found in the view.
    ``basis``: ``list`` (an owner's item) or ``cross_boundary`` (a boundary section's parties).
    """

    owner: str
    party: str
    station: str
    data: str
    granularity: str
    delay_hours: int
    expected: int | None
    delivered: int
    basis: str = "list"

    @property
    def completeness(self) -> float | None:
        """delivered / expected (0..1, may exceed 1 when more arrived than expected)."""
        if not self.expected:
            return None
        return self.delivered / self.expected


@dataclass(frozen=True)
class MonthData:
    """Everything the export reads for one month (and one party, or the whole basin).

    ``stations``, ``previous``, ``last_year``: per station id, the month, the previous month and
    the same month a year before (stations without a QC-good value are absent).
    ``lake_series``: by :data:`LAKE_SERIES` key, the lake's daily means (the mean over the lake
    stations of each station's daily mean, days in Beijing time), each ``(day start, value)``.
    ``breaches``: breach events (kind ``breach``) in the month. ``sharing``: the list's items
    shared with ``party`` (all parties' when None), each against its view.
    """

    month: date
    party: str | None
    bucket: str
    stations: dict[str, StationMonth]
    previous: dict[str, StationMonth]
    last_year: dict[str, StationMonth]
    lake_series: dict[str, list[tuple[datetime, float]]]
    breaches: int
    alerts: AlertSummary
    sharing: list[SharedItem]


def read_month(
    source: Settings | Any,
    month: date,
    party: str | None = None,
    *,
    bucket: str | None = None,
    registry: Registry | None = None,
    sharing: SharingList | None = None,
    now: datetime | None = None,
) -> MonthData:
    """Read ``month`` (any date in it) from InfluxDB.

    ``source`` is the :class:`~streams.settings.Settings` (the main bucket, the admin token, and
    for a party the read token that ``basin sharing apply`` wrote) or an open influxdb-client
    ``InfluxDBClient`` (its token and org are used as they are). ``bucket`` is the main bucket
    (default: the settings'); a party's view is ``view_bucket(bucket, party)``. ``registry`` and
    ``sharing`` default to the shipped ones (the list of the month's year, else the newest);
    ``now`` (default: the clock) bounds the results a delayed sharing item can have delivered.
    """
    raise NotImplementedError
