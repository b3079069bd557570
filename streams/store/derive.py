"""Deriving the views from the main bucket: the delayed and averaged selections, in Flux.

The store writes a party's real-time, undelayed selections as points arrive
(:class:`streams.store.views.Router`). Everything else is derived here: for each party and
terms, one Flux query reads the main bucket up to ``now - delay`` and writes with ``to()`` into
the party's view, either the points as they are (real time after a delay) or the means of a window
(hourly, or daily in Beijing time) stamped at the window's start with the tag ``agg``:

- a parameter's mean is the mean of its QC-good values (qc 1), written as ``value`` with qc 1;
- a class's mean is the worst class of the window (``class``; ``target_class`` too).

Only windows that have fully passed their delay are written (the range stops at a window
boundary), so a mean is never seen half-made. Re-deriving writes the same points at the same
times, so it is idempotent; the store worker re-derives the last ``lookback`` on a timer
(late reports included) and ``basin sharing apply`` re-derives the whole history of what
changed. The Flux is built here, pure; :class:`Deriver` runs it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from stations.jurisdictions import Jurisdiction
from stations.sharing.grants import Granularity
from streams.store import points as m
from streams.store.views import CLASS_FIELDS, VALUE_FIELDS, Selection, view_bucket

log = logging.getLogger(__name__)

#: Days are Beijing days: a daily window starts at 16:00 UTC (00:00 UTC+8).
BEIJING_OFFSET = timedelta(hours=8)
#: The earliest time a full re-derivation reads from.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, order=True)
class Group:
    """Selections derived by one query: one party, measurement, fields and terms."""

    party: Jurisdiction
    measurement: str
    fields: tuple[str, ...] | None
    granularity: Granularity
    delay_hours: int

    @property
    def window(self) -> timedelta | None:
        return self.granularity.window


def groups(selected: Iterable[Selection]) -> dict[Group, list[Selection]]:
    """Selections by the query that derives them."""
    out: dict[Group, list[Selection]] = {}
    for sel in sorted(selected):
        key = Group(sel.party, sel.measurement, sel.fields, sel.granularity, sel.delay_hours)
        out.setdefault(key, []).append(sel)
    return out


def flux_string(text: str) -> str:
    """A Flux string literal."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("${", "\\${")
    return f'"{escaped}"'


def flux_time(at: datetime) -> str:
    """A Flux time literal (RFC 3339, UTC, seconds)."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def flux_duration(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    return f"{seconds // 3600}h" if seconds % 3600 == 0 else f"{seconds}s"


def window_floor(at: datetime, window: timedelta | None) -> datetime:
    """The start of the window ``at`` falls in (daily windows start at midnight Beijing time);
    ``at`` itself for real time."""
    if window is None:
        return at
    offset = BEIJING_OFFSET if window >= timedelta(days=1) else timedelta(0)
    shifted = at.astimezone(UTC) - EPOCH + offset
    whole = shifted - shifted % window
    return EPOCH + whole - offset


def span(group: Group, now: datetime, since: datetime | None) -> tuple[datetime, datetime]:
    """What one derivation reads: from ``since`` (aligned down to a window) up to ``now`` less
    the delay, aligned down to a window (so only windows past their delay are written)."""
    stop = window_floor(now - timedelta(hours=group.delay_hours), group.window)
    start = window_floor(since, group.window) if since is not None else EPOCH
    return min(start, stop), stop


def series_filter(selected: Sequence[Selection]) -> str:
    """``r`` is one of the selections' series: their stations, per parameter when they have one."""
    by_parameter: dict[str | None, list[str]] = {}
    for sel in selected:
        by_parameter.setdefault(sel.parameter, []).append(sel.station)
    terms = []
    for parameter, stations in sorted(by_parameter.items(), key=lambda kv: kv[0] or ""):
        listed = ", ".join(flux_string(s) for s in sorted(set(stations)))
        inside = f"contains(value: r.station, set: [{listed}])"
        if parameter is not None:
            inside = f"r.parameter == {flux_string(parameter)} and {inside}"
        terms.append(f"({inside})")
    return " or ".join(terms)


def _field_filter(fields: Sequence[str]) -> str:
    return " or ".join(f"r._field == {flux_string(f)}" for f in fields)


def derivation_flux(
    group: Group,
    selected: Sequence[Selection],
    bucket: str,
    org: str,
    start: datetime,
    stop: datetime,
) -> str:
    """The Flux that writes one group's selections from the main ``bucket`` into the party's view,
    between ``start`` and ``stop``; it yields the rows written (one row: in ``_measurement``)."""
    view = view_bucket(bucket, group.party)
    head = [
        f"from(bucket: {flux_string(bucket)})",
        f"  |> range(start: {flux_time(start)}, stop: {flux_time(stop)})",
        f"  |> filter(fn: (r) => r._measurement == {flux_string(group.measurement)})",
        f"  |> filter(fn: (r) => {series_filter(selected)})",
    ]
    target = f"bucket: {flux_string(view)}, org: {flux_string(org)}"
    window = group.window
    if window is None:
        if group.fields is not None:
            head.insert(3, f"  |> filter(fn: (r) => {_field_filter(group.fields)})")
        body = [f"  |> to({target})"]
    else:
        every = flux_duration(window)
        offset = flux_duration(window - BEIJING_OFFSET) if window >= timedelta(days=1) else "0s"
        agg = flux_string(str(selected[0].agg))
        windowed = f'every: {every}, offset: {offset}, createEmpty: false, timeSrc: "_start"'
        if group.fields == VALUE_FIELDS:
            body = [
                '  |> filter(fn: (r) => r._field == "value" or r._field == "qc")',
                '  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")',
                "  |> filter(fn: (r) => r.qc == 1 and exists r.value)",
                "  |> map(fn: (r) => ({r with _value: r.value}))",
                '  |> drop(columns: ["value", "qc", "class"])',
                f"  |> aggregateWindow({windowed}, fn: mean)",
                f'  |> set(key: "agg", value: {agg})',
                f'  |> to({target}, fieldFn: (r) => ({{"value": r._value, "qc": 1}}))',
            ]
        else:
            fields = (
                CLASS_FIELDS if group.measurement != m.ASSESSMENT else ("class", "target_class")
            )
            body = [
                f"  |> filter(fn: (r) => {_field_filter(fields)})",
                f"  |> aggregateWindow({windowed}, fn: max)",
                f'  |> set(key: "agg", value: {agg})',
                f"  |> to({target})",
            ]
    tail = [
        '  |> keep(columns: ["_measurement"])',
        "  |> group()",
        '  |> count(column: "_measurement")',
    ]
    return "\n".join([*head, *body, *tail]) + "\n"


@dataclass(frozen=True)
class Derivation:
    """One query of a derivation run: its group, the span it reads and its Flux."""

    group: Group
    start: datetime
    stop: datetime
    flux: str


def plan(
    selected: Iterable[Selection],
    bucket: str,
    org: str,
    now: datetime,
    since: datetime | None,
    *,
    everything: bool = False,
) -> list[Derivation]:
    """The queries that derive the selections not written at ingestion (``everything``: those
    too, as a re-derivation after a change needs), from ``since`` (None: all history) to
    ``now``; spans that are empty are left out."""
    out = []
    wanted = [s for s in selected if everything or not s.at_ingestion]
    for group, members in groups(wanted).items():
        start, stop = span(group, now, since)
        if start < stop:
            flux = derivation_flux(group, members, bucket, org, start, stop)
            out.append(Derivation(group, start, stop, flux))
    return out


def points_read(tables: Any) -> int:
    """The count a derivation query yields."""
    return sum(int(record.values.get("_measurement") or 0) for table in tables for record in table)


class Deriver:
    """Runs derivations with an influxdb-client (sync) query API."""

    def __init__(self, selected: Sequence[Selection], bucket: str, org: str) -> None:
        self.selected = tuple(selected)
        self.bucket, self.org = bucket, org

    def plan(
        self, now: datetime, since: datetime | None, everything: bool = False
    ) -> list[Derivation]:
        return plan(self.selected, self.bucket, self.org, now, since, everything=everything)

    def run(
        self, query_api: Any, now: datetime, since: datetime | None, everything: bool = False
    ) -> int:
        """Derive synchronously; the number of points written."""
        total = 0
        for derivation in self.plan(now, since, everything):
            total += points_read(query_api.query(derivation.flux, org=self.org))
        return total

    async def run_async(self, query_api: Any, now: datetime, since: datetime | None) -> int:
        """:meth:`run` in a thread, with a sync query API (the store worker's timer: the async
        client's result parser needs a package the project does not install)."""
        return await asyncio.to_thread(self.run, query_api, now, since)
