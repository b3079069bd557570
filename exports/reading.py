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

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from influxdb_client import InfluxDBClient

from exports import influxql as iql
from exports import month_flux as mf
from stations.formats.hj212 import BEIJING
from stations.jurisdictions import Jurisdiction
from stations.registry import Registry, load_registry
from stations.sharing.config import load_sharing_years
from stations.sharing.grants import ALERTS, CLASS, QC, Basis, Grant, Granularity, SharingList
from stations.station import StationKind
from streams.settings import Settings
from streams.store import points as m
from streams.store.apply import Applier, token_variable
from streams.store.views import AGG, view_bucket

__all__ = [
    "LAKE_SERIES",
    "AlertSummary",
    "MonthData",
    "SharedItem",
    "StationMonth",
    "expected_count",
    "lake_means",
    "month_bounds",
    "read_month",
    "summarise_alerts",
]

#: The keys of :attr:`MonthData.lake_series`: this month's daily lake means of TN and TP, and
#: those of the same month a year before (at their own times).
LAKE_SERIES = ("tn", "tp", "tn_last_year", "tp_last_year")
#: The parameters of the lake chart.
LAKE_PARAMETERS = ("tn", "tp")


@dataclass(frozen=True)
class StationMonth:
    """One water-quality station's month.

    ``means`` and ``counts``: per parameter, the arithmetic mean and the number of its QC-good
    values in the month (parameters without one are absent). ``valid``: the numerator of the data
    completeness (valid / expected results, the expected ones from the station's interval): the
    QC-good results of its best-covered parameter, ``max(counts.values())``. That is the number
    of reports with a QC-good value when one parameter is good whenever any is (the usual case),
    and never more than it; counting distinct report times instead costs a pass over every
    point (see :mod:`exports.influxql`).
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


def month_bounds(month: date, shift_months: int = 0) -> tuple[datetime, datetime]:
    """The first instant of ``month`` (moved by ``shift_months``) and of the next, Beijing time."""
    index = month.year * 12 + month.month - 1 + shift_months
    start = datetime(index // 12, index % 12 + 1, 1, tzinfo=BEIJING)
    index += 1
    return start, datetime(index // 12, index % 12 + 1, 1, tzinfo=BEIJING)


def expected_count(granularity: Granularity, interval_minutes: int, span: timedelta) -> int:
    """Results a span should hold: one per station interval in real time, else one per window."""
    step = granularity.window or timedelta(minutes=interval_minutes)
    return max(0, int(span / step))


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
    ``sharing`` default to the settings' files, else the shipped ones (the sharing list of the
    month's year, else the newest);
    ``now`` (default: the clock) bounds the results a delayed sharing item can have delivered.
    """
    who = Jurisdiction(party) if party else None
    if isinstance(source, Settings):
        main = bucket or source.influx_bucket
        token = view_token(source, main, who) if who else source.influx_token_value()
        if sharing is None:
            registry = registry or load_registry(source.registry_path)
            sharing = _sharing_of(registry, month.year, source.sharing_path)
        with InfluxDBClient(
            url=source.influx_url, token=token, org=source.influx_org, timeout=600_000
        ) as client:
            return _read(client, source.influx_org, main, month, who, registry, sharing, now)
    if bucket is None:
        raise ValueError("read_month with a client needs the main bucket's name")
    return _read(source, source.org, bucket, month, who, registry, sharing, now)


def view_token(settings: Settings, bucket: str, party: Jurisdiction) -> str:
    """The party's read token, from the file ``basin sharing apply`` writes (docs/sharing.md)."""
    path = Applier(None, bucket, settings.influx_org, settings.state_dir).token_file
    wanted = token_variable(party)
    if path.is_file():
        for line in path.read_text("utf-8").splitlines():
            name, _, value = line.partition("=")
            if name.strip() == wanted and value.strip():
                return value.strip()
    raise LookupError(f"no read token of {party.value} in {path}: run `basin sharing apply`")


class _Reader:
    def __init__(self, client: Any, org: str) -> None:
        self.api, self.org = client.query_api(), org

    def rows(self, flux: str) -> list[dict[str, Any]]:
        tables = self.api.query(flux, org=self.org)
        return [record.values for table in tables for record in table.records]


def _read(
    client: Any,
    org: str,
    main: str,
    month: date,
    party: Jurisdiction | None,
    registry: Registry | None,
    sharing: SharingList | None,
    now: datetime | None,
) -> MonthData:
    registry = registry or load_registry()
    if sharing is None:
        sharing = _sharing_of(registry, month.year)
    reader = _Reader(client, org)
    bucket = view_bucket(main, party) if party else main
    start, stop = month_bounds(month)
    periods = {shift: month_bounds(month, shift) for shift in (0, -1, -12)}
    timeout = timedelta(minutes=10)
    months = {
        shift: _stations(iql.rows(client, bucket, iql.good_means(*span), timeout))
        for shift, span in periods.items()
    }
    series: dict[str, list[tuple[datetime, float]]] = {key: [] for key in LAKE_SERIES}
    for shift, suffix in ((0, ""), (-12, "_last_year")):
        query = iql.lake_days(*periods[shift], LAKE_PARAMETERS)
        series.update(lake_means(iql.rows(client, bucket, query, timeout), suffix))
    (breaches,) = [int(r["_value"]) for r in reader.rows(mf.breach_count(bucket, start, stop))] or [
        0
    ]
    alerts = summarise_alerts(reader.rows(mf.alert_changes(bucket, start, stop)), stop)
    items = _shared(client, reader, sharing, main, party, start, stop, now or datetime.now(UTC))
    return MonthData(
        month=start.date(),
        party=party.value if party else None,
        bucket=bucket,
        stations=months[0],
        previous=months[-1],
        last_year=months[-12],
        lake_series=series,
        breaches=breaches,
        alerts=alerts,
        sharing=items,
    )


def _sharing_of(registry: Registry, year: int, path: Path | None = None) -> SharingList:
    """The list of ``year`` in the sharing file (default: shipped), else its newest."""
    lists = load_sharing_years(path, registry=registry)
    return lists.get(year) or lists[max(lists)]


def _stations(rows: list[dict[str, Any]]) -> dict[str, StationMonth]:
    """StationMonth per station from the rows of :func:`exports.influxql.good_means`."""
    means: dict[str, dict[str, float]] = {}
    counts: dict[str, dict[str, int]] = {}
    aggs: dict[str, set[str]] = {}
    for row in rows:
        station, parameter = row["station"], row["parameter"]
        if not row["count"]:
            continue
        means.setdefault(station, {})[parameter] = float(row["mean"])
        counts.setdefault(station, {})[parameter] = int(row["count"])
        have = aggs.setdefault(station, set())
        if row.get("agg"):
            have.add(row["agg"])
    return {
        station: StationMonth(
            station=station,
            means=dict(sorted(means[station].items())),
            counts=dict(sorted(counts[station].items())),
            valid=max(counts[station].values()),
            aggregated=tuple(sorted(aggs[station])),
        )
        for station in sorted(means)
    }


def lake_means(
    rows: list[dict[str, Any]], suffix: str = ""
) -> dict[str, list[tuple[datetime, float]]]:
    """The lake's daily means from :func:`exports.influxql.lake_days` rows (per station and day):
    per parameter and day, the mean of the stations' daily means, oldest first."""
    days: dict[tuple[str, int], list[float]] = {}
    for row in rows:
        if row.get("mean") is not None:
            days.setdefault((row["parameter"], int(row["time"])), []).append(float(row["mean"]))
    out: dict[str, list[tuple[datetime, float]]] = {}
    for (parameter, at), values in sorted(days.items()):
        day = datetime.fromtimestamp(at, BEIJING)
        out.setdefault(f"{parameter}{suffix}", []).append((day, sum(values) / len(values)))
    return out


def summarise_alerts(rows: list[dict[str, Any]], stop: datetime) -> AlertSummary:
    """The episodes of :func:`exports.month_flux.alert_changes` rows (oldest first): an episode
    is a change id less its last part (``alert id : episode start``)."""
    fired: dict[str, tuple[datetime, str, str]] = {}
    acked: dict[str, datetime] = {}
    resolved: dict[str, datetime] = {}
    for row in rows:
        episode = str(row["_value"]).rsplit(":", 1)[0]
        at = row["_time"]
        change = row["change"]
        if change == "firing":
            fired.setdefault(episode, (at, row["station"], row.get("jurisdiction") or ""))
        elif change == "acknowledged":
            acked.setdefault(episode, at)
        elif change == "resolved":
            resolved.setdefault(episode, at)
    spans = [resolved.get(e, stop) - at for e, (at, _, _) in fired.items()]
    to_ack = [acked[e] - at for e, (at, _, _) in fired.items() if e in acked]
    to_resolve = [resolved[e] - at for e, (at, _, _) in fired.items() if e in resolved]
    by_party = Counter(j for _, _, j in fired.values())
    return AlertSummary(
        count=len(fired),
        stations=len({station for _, station, _ in fired.values()}),
        longest=max(spans, default=None),
        mean_ack=_mean(to_ack),
        mean_resolve=_mean(to_resolve),
        by_jurisdiction=dict(sorted(by_party.items())),
    )


def _mean(spans: list[timedelta]) -> timedelta | None:
    return sum(spans, timedelta()) / len(spans) if spans else None


def _shared(
    client: Any,
    reader: _Reader,
    sharing: SharingList,
    main: str,
    party: Jurisdiction | None,
    start: datetime,
    stop: datetime,
    now: datetime,
) -> list[SharedItem]:
    """The list's grants (not a party's own data) to ``party`` (every party's when None),
    each with the results expected in the month and those its view holds."""
    parties = [party] if party else list(Jurisdiction)
    out: list[SharedItem] = []
    for who in parties:
        grants = [g for g in sharing.grants_for(who) if g.basis is not Basis.OWN]
        if not grants:
            continue
        view = view_bucket(main, who)
        found: Counter[tuple[str, str, str, str]] = Counter()
        if party or client.buckets_api().find_bucket_by_name(view) is not None:
            stations = {g.station for g in grants}
            for row in reader.rows(mf.delivered(view, start, stop, stations)):
                key = (
                    row["_measurement"],
                    row["station"],
                    row.get("parameter") or "",
                    row.get("agg") or "",
                )
                found[key] += int(row["_value"])
        out += [_item(grant, sharing.registry, found, start, stop, now) for grant in grants]
    return out


def _item(
    grant: Grant,
    registry: Registry,
    found: Counter[tuple[str, str, str, str]],
    start: datetime,
    stop: datetime,
    now: datetime,
) -> SharedItem:
    station = registry.get(grant.station)
    agg = AGG.get(grant.granularity, "")
    if grant.data in (QC, ALERTS):
        names = (m.QC,) if grant.data == QC else (m.ALERTS, m.BREACHES)
        delivered = sum(
            n for (meas, st, _, _), n in found.items() if meas in names and st == station.id
        )
        expected = None
    else:
        if grant.data == CLASS:
            key = (m.ASSESSMENT, station.id, "", agg)
        else:
            kind = m.HYDROLOGY if station.kind is StationKind.HYDROLOGY else m.WATER_QUALITY
            key = (kind, station.id, grant.data, agg)
        delivered = found.get(key, 0)
        span = min(stop, now - grant.delay) - start
        expected = expected_count(grant.granularity, station.interval_minutes, span)
    return SharedItem(
        owner=grant.owner.value,
        party=grant.party.value,
        station=grant.station,
        data=grant.data,
        granularity=grant.granularity.value,
        delay_hours=grant.delay_hours,
        expected=expected,
        delivered=delivered,
        basis=grant.basis.value,
    )
