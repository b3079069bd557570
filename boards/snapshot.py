"""Board snapshots: each panel of a dashboard drawn as a PNG from the same Flux queries, with the
same variables and macros, run against InfluxDB (Grafana cannot run here; see docs/boards.md).

The adapter between Grafana's dashboard JSON and :mod:`boards.charts`: for each panel it
substitutes the variables and macros as Grafana does (:func:`boards.grafana_vars.interpolate`),
runs the query through a :data:`Runner` (InfluxDB in use, a function in unit tests), turns the
Flux tables into plain data by panel type and draws the chart:

- ``timeseries``: one line per table, named as Grafana names it (group key); series named
  suspect/fail (可疑/失败) as markers;
- ``stat``: the last value of each table (``class`` fields as class names and colours);
- ``piechart``, ``bargauge``, ``barchart``: one bar per table;
- ``table``: every row; ``class`` columns as class names on class colours;
- ``geomap``: points at ``lat``/``lon`` coloured by ``class``, the stations without coordinates
  (lat/lon missing or 0) named in a note;
- ``text`` and ``row`` panels are not drawn.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeGuard
from zoneinfo import ZoneInfo

from matplotlib.figure import Figure

from boards import charts
from boards.charts import Frame, MapPoint, Series, Stat
from boards.grafana_vars import interpolate
from stations.standard.gb3838 import CLASS_NAMES

BEIJING = ZoneInfo("Asia/Shanghai")
#: Columns of a Flux table that are not data.
_META = frozenset({"result", "table", "_start", "_stop"})
_SKIPPED = frozenset({"row", "text", "news", "dashlist"})
_BARS = frozenset({"piechart", "bargauge", "barchart"})


@dataclass(frozen=True)
class Table:
    """One Flux table: its group key and its rows (column -> value)."""

    group: Mapping[str, Any]
    rows: Sequence[Mapping[str, Any]]


#: Runs one Flux query (variables and macros already substituted) and returns its tables.
Runner = Callable[[str], list[Table]]


@dataclass(frozen=True)
class Window:
    """What Grafana would send with a query: time range, interval, bucket, org, variables."""

    start: datetime
    stop: datetime
    bucket: str
    org: str
    variables: Mapping[str, str | list[str]]

    @property
    def interval(self) -> timedelta:
        """``v.windowPeriod``: the range over ~1,000 points (Grafana: over the panel's width in
        pixels), at least a minute."""
        return max(timedelta(minutes=1), (self.stop - self.start) // 1000)

    def subtitle(self) -> str:
        start = self.start.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")
        stop = self.stop.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")
        chosen = ", ".join(
            f"{name} = {value if isinstance(value, str) else ','.join(value)}"
            for name, value in sorted(self.variables.items())
        )
        return f"{start} – {stop} 北京时间 · bucket {self.bucket}" + (
            f" · {chosen}" if chosen else ""
        )


def panels(dashboard: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The dashboard's panels in reading order (rows' panels included), without rows and text."""
    found: list[dict[str, Any]] = []
    for panel in dashboard.get("panels", []):
        found.append(panel)
        found.extend(panel.get("panels", []))
    drawn = [p for p in found if p.get("type") not in _SKIPPED]
    return sorted(
        drawn, key=lambda p: (p.get("gridPos", {}).get("y", 0), p.get("gridPos", {}).get("x", 0))
    )


def variables(
    dashboard: Mapping[str, Any], chosen: Mapping[str, str | list[str]]
) -> dict[str, str | list[str]]:
    """The dashboard's variables at their current values, overridden by ``chosen``."""
    values: dict[str, str | list[str]] = {}
    for variable in dashboard.get("templating", {}).get("list", []):
        current = (variable.get("current") or {}).get("value")
        if current in (None, "", "$__all", ["$__all"]):
            options = [o.get("value") for o in variable.get("options", []) if o.get("value")]
            current = [str(o) for o in options if o != "$__all"] or None
        if current is not None:
            values[variable["name"]] = current
    values.update(chosen)
    return values


def queries(panel: Mapping[str, Any], window: Window) -> list[str]:
    """The panel's Flux queries as InfluxDB receives them."""
    return [
        interpolate(
            target["query"],
            window.variables,
            window.start,
            window.stop,
            window.interval,
            window.bucket,
            window.org,
        )
        for target in panel.get("targets", [])
        if target.get("query") and not target.get("hide")
    ]


def series_name(table: Table) -> str:
    """As Grafana names a Flux series: the group key's values (measurement and field first)."""
    key = {k: v for k, v in table.group.items() if k not in _META}
    parts = [str(key.pop(k)) for k in ("_measurement", "_field") if k in key]
    parts += [str(v) for _, v in sorted(key.items())]
    return " ".join(parts) or "_value"


def _flag_of(name: str) -> int | None:
    lowered = name.lower()
    if "失败" in name or "fail" in lowered:
        return 4
    if "可疑" in name or "suspect" in lowered:
        return 3
    return None


def _is_number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def figure(
    dashboard: Mapping[str, Any], panel: Mapping[str, Any], tables: list[Table], window: Window
) -> Figure:
    """The chart of one panel from its query results."""
    title = f"{dashboard.get('title', '')} · {panel.get('title', '')}".strip(" ·")
    notes = tuple(filter(None, [str(panel.get("description", "")).strip()]))
    frame = Frame(title, window.subtitle(), notes)
    kind = panel.get("type")
    defaults = (panel.get("fieldConfig") or {}).get("defaults") or {}
    unit = unit_label(str(defaults.get("unit") or ""))
    mapped = value_mappings(defaults)
    rows = [row for table in tables for row in table.rows]
    if not rows:
        return charts.no_data_chart(frame)
    if kind == "timeseries":
        ticks = {float(k): text for k, (text, _) in mapped.items() if _is_float(k)}
        span = (window.start, window.stop)
        return charts.line_chart(frame, [_series(t) for t in tables], unit, (), ticks, span)
    if kind == "stat":
        return charts.stat_chart(frame, [s for t in tables for s in _stats(t, mapped, unit)])
    if kind in _BARS:
        return _bars(frame, tables, unit, shares=kind == "piechart")
    if kind == "geomap":
        return _map(frame, rows)
    return _table(frame, rows, mapped)


def value_mappings(defaults: Mapping[str, Any]) -> dict[str, tuple[str, str | None]]:
    """Grafana's value mappings of a panel (type "value"): value text -> (text, colour)."""
    mapped: dict[str, tuple[str, str | None]] = {}
    for mapping in defaults.get("mappings") or []:
        if mapping.get("type") != "value":
            continue
        for value, result in (mapping.get("options") or {}).items():
            mapped[str(value)] = (str(result.get("text", value)), result.get("color"))
    return mapped


def unit_label(unit: str) -> str:
    """A Grafana unit id as a reader writes it (``percent`` -> %, ``suffix:X`` -> X)."""
    if unit in ("", "none", "short"):
        return ""
    if unit in ("percent", "percentunit"):
        return "%"
    return unit.split(":", 1)[1] if ":" in unit else unit


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _text(
    value: Any, mapped: Mapping[str, tuple[str, str | None]], column: str = ""
) -> tuple[str, str | None]:
    """A value as a panel shows it: its mapping (class names and colours), times in Beijing
    time ("—" for the epoch, a placeholder), numbers shortened."""
    key = _number_text(value) if _is_number(value) else str(value)
    if key in mapped:
        return mapped[key]
    if column and "class" in column and _is_number(value) and int(value) in CLASS_NAMES:
        return CLASS_NAMES[int(value)], charts.class_colour(int(value))
    if isinstance(value, datetime):
        if value.timestamp() == 0:
            return "—", None
        return value.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M"), None
    if _is_number(value):
        return charts.number_text(float(value)), None
    return ("" if value is None else str(value)), None


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _series(table: Table) -> Series:
    name = series_name(table)
    points = [
        (r["_time"], r["_value"])
        for r in table.rows
        if "_time" in r and _is_number(r.get("_value"))
    ]
    flag = _flag_of(name)
    return Series(
        name,
        [at.astimezone(BEIJING) for at, _ in points],
        [float(v) for _, v in points],
        [flag] * len(points) if flag else (),
    )


def _stats(table: Table, mapped: Mapping[str, tuple[str, str | None]], unit: str) -> list[Stat]:
    last = table.rows[-1]
    if "_value" in last:
        columns = {series_name(table): last["_value"]}
    else:
        columns = {k: v for k, v in last.items() if k not in _META and not k.startswith("_")}
    stats = []
    for column, value in columns.items():
        text, colour = _text(value, mapped, str(column))
        if _is_number(value) and not colour and unit:
            text = f"{text} {unit}" if unit != "%" else f"{text}%"
        stats.append(Stat(str(column), text, colour))
    return stats


def _bars(frame: Frame, tables: list[Table], unit: str, shares: bool) -> Figure:
    categories, values, colours = [], [], []
    for table in tables:
        last = table.rows[-1]
        value = last.get("_value")
        if not _is_number(value):
            continue
        name = series_name(table)
        categories.append(name)
        values.append(float(value))
        colours.append(_category_colour(name))
    return charts.bar_chart(frame, categories, values, colours, unit, shares)


def _category_colour(name: str) -> str:
    """Class categories (Ⅰ类, Ⅰ–Ⅲ类, Ⅳ–Ⅴ类, 劣Ⅴ类) in the colour of their worst class."""
    if "劣" in name:
        return charts.CLASS_COLOURS[6]
    for numeral, water_class in (("Ⅴ", 5), ("Ⅳ", 4), ("Ⅲ", 3), ("Ⅱ", 2), ("Ⅰ", 1)):
        if numeral in name:
            return charts.CLASS_COLOURS[water_class]
    return "#5470c6"


def _map(frame: Frame, rows: list[Mapping[str, Any]]) -> Figure:
    points, missing = [], []
    for row in rows:
        label = str(row.get("station_name") or row.get("station") or "?")
        lat, lon = row.get("lat"), row.get("lon")
        water_class = row.get("class")
        if _is_number(lat) and _is_number(lon) and (lat, lon) != (0, 0):
            cls = int(water_class) if _is_number(water_class) else None
            points.append(MapPoint(label, float(lon), float(lat), cls))
        else:
            missing.append(label)
    return charts.map_chart(frame, points, missing)


def _table(
    frame: Frame, rows: list[Mapping[str, Any]], mapped: Mapping[str, tuple[str, str | None]]
) -> Figure:
    columns: list[str] = []
    for row in rows:
        columns += [c for c in row if c not in _META and c not in columns]
    cells, colours = [], []
    for row in rows:
        texts = [_text(row.get(column), mapped, column) for column in columns]
        cells.append([text for text, _ in texts])
        colours.append([colour for _, colour in texts])
    return charts.table_chart(frame, columns, cells, colours)


def snapshot(dashboard: Mapping[str, Any], run: Runner, window: Window, out: Path) -> list[Path]:
    """Each panel of ``dashboard`` as ``out/<uid>/<nn>-<panel id>.png``; the paths written."""
    charts.use_cjk_font()
    window = replace(window, variables=variables(dashboard, window.variables))
    folder = out / str(dashboard.get("uid", "board"))
    written = []
    for number, panel in enumerate(panels(dashboard), start=1):
        tables = [table for query in queries(panel, window) for table in run(query)]
        chart = figure(dashboard, panel, tables, window)
        written.append(
            charts.save_png(chart, folder / f"{number:02d}-{panel.get('id', number)}.png")
        )
    return written


def influx_runner(query_api: Any, org: str) -> Runner:
    """A :data:`Runner` over influxdb-client's ``QueryApi``."""

    def run(query: str) -> list[Table]:
        tables = []
        for flux_table in query_api.query(query, org=org):
            rows = [dict(record.values) for record in flux_table.records]
            group = {
                column.label: rows[0].get(column.label) if rows else None
                for column in flux_table.columns
                if column.group
            }
            tables.append(Table(group, rows))
        return tables

    return run
