"""流域总览 basin overview: the station map, the class distribution and the basin's status, the
lake's TN and TP against the same period last year, open alerts per jurisdiction, completeness."""

from __future__ import annotations

from typing import Any

from boards.context import BoardContext, expected_rows, intervals
from boards.flux import Flux, Raw, combine, dictionary
from boards.panels import (
    Layout,
    Place,
    bar_panel,
    class_mappings,
    map_panel,
    new_dashboard,
    pie_panel,
    render,
    stat_panel,
    table_panel,
)
from boards.schema import ALERTS, ASSESSMENT, HYDROLOGY, WATER_QUALITY
from stations.standard.gb3838 import WaterBody

#: GB 3838 / 地表水环境质量评价办法 grades of a basin by its sections' classes, as
#: stations.standard.gb3838.basin_status applies them (the query tests check they agree).
GOOD_SHARE_EXCELLENT = 0.9
GOOD_SHARE_GOOD = 0.75
WORST_SHARE_LIGHT = 0.2
WORST_SHARE_MODERATE = 0.4
#: Alert states that are not closed.
OPEN_LOOKBACK = "90d"


def latest_class(ctx: BoardContext, stations: list[str]) -> Flux:
    """Each station's newest overall class in the range."""
    return Flux().select(ASSESSMENT, ["class"], station=stations).group("station").stage("last()")


def map_query(ctx: BoardContext) -> str:
    located = ctx.located
    lat = {s.id: float(s.lat) for s in located if s.lat is not None}
    lon = {s.id: float(s.lon) for s in located if s.lon is not None}
    if not located:
        return latest_class(ctx, ["-"]).stage("limit(n: 0)").render()
    return (
        latest_class(ctx, sorted(lat))
        .uses("dict")
        .bind(dictionary("lat", lat, 0.0), dictionary("lon", lon, 0.0))
        .stage(
            "map(fn: (r) => ({station: r.station, station_name: r.station_name, "
            "class: r._value, lat: dict.get(dict: lat, key: r.station, default: 0.0), "
            "lon: dict.get(dict: lon, key: r.station, default: 0.0)}))"
        )
        .group()
        .render()
    )


def unlocated_query(ctx: BoardContext) -> str:
    """Stations without coordinates: newest class, or 0 (no data) when none in the range."""
    missing = tuple(s for s in ctx.stations if s not in ctx.located)
    data = latest_class(ctx, [s.id for s in missing] or ["-"]).stage(
        "map(fn: (r) => ({station: r.station, station_name: r.station_name, "
        "jurisdiction: r.jurisdiction, _time: r._time, class: r._value}))"
    )
    none = expected_rows(missing, {"_time": Raw("1970-01-01T00:00:00Z"), "class": 0})
    return _with_array(
        combine(
            {"data": data},
            f"union(tables: [data, {none}])\n"
            '  |> group(columns: ["station"])\n'
            '  |> sort(columns: ["_time"])\n'
            '  |> last(column: "_time")\n'
            "  |> group()\n"
            '  |> sort(columns: ["station"])',
        )
    )


def _with_array(text: str) -> str:
    return text if 'import "array"' in text else 'import "array"\n' + text


def grades(ctx: BoardContext) -> Flux:
    """Newest class of each water-quality station, one table."""
    return latest_class(ctx, [s.id for s in ctx.water_quality]).group()


def distribution_query(ctx: BoardContext) -> str:
    return (
        grades(ctx)
        .stage(
            'map(fn: (r) => ({r with grade: if r._value <= 3 then "Ⅰ–Ⅲ类" '
            'else if r._value <= 5 then "Ⅳ–Ⅴ类" else "劣Ⅴ类"}))'
        )
        .group("grade")
        .stage("count()")
        .render()
    )


def status_query(ctx: BoardContext) -> str:
    share = "float(v: r.{0}) / float(v: r.total)"
    good, worst = share.format("good"), share.format("worst")
    return (
        grades(ctx)
        .stage(
            "reduce(identity: {total: 0, good: 0, worst: 0}, fn: (r, accumulator) => ({"
            "total: accumulator.total + 1, "
            "good: accumulator.good + (if r._value <= 3 then 1 else 0), "
            "worst: accumulator.worst + (if r._value == 6 then 1 else 0)}))"
        )
        .stage(
            f'map(fn: (r) => ({{status: if {good} >= {GOOD_SHARE_EXCELLENT} then "优" '
            f'else if {good} >= {GOOD_SHARE_GOOD} then "良好" '
            f'else if {worst} < {WORST_SHARE_LIGHT} then "轻度污染" '
            f'else if {worst} < {WORST_SHARE_MODERATE} then "中度污染" else "重度污染", '
            f"share_good: {good} * 100.0, share_worse_than_v: {worst} * 100.0, "
            "sections: r.total}))"
        )
        .render()
    )


def lake_nutrients(shift: str | None, label: str) -> str:
    query = Flux()
    if shift:
        query = query.shifted(shift)
    return (
        query.select(WATER_QUALITY, ["value", "qc"], water_body=WaterBody.LAKE.value)
        .where("parameter", ["tn", "tp"])
        .pivot_fields()
        .where_value("r.qc == 1", "qc")
        .group("parameter")
        .stage('mean(column: "value")')
        .stage(f'map(fn: (r) => ({{parameter: r.parameter, _field: "{label}", _value: r.value}}))')
        .render()
    )


def open_alerts_query(ctx: BoardContext) -> str:
    return (
        Flux()
        .lookback(OPEN_LOOKBACK)
        .select(ALERTS, ["state"])
        .group("station", "rule", "parameter", "jurisdiction")
        .sort("_time")
        .stage("last()")
        .where_value('r._value != "resolved"')
        .group("jurisdiction")
        .stage("count()")
        .render()
    )


def completeness_query(ctx: BoardContext) -> str:
    """Results received over expected (range / interval) per jurisdiction, in per cent."""
    stations = ctx.stations
    wq = Flux().select(ASSESSMENT, ["late"], station=[s.id for s in stations] or ["-"])
    hy = Flux().select(
        HYDROLOGY, ["qc"], parameter="level", station=[s.id for s in stations] or ["-"]
    )
    counted = (
        'union(tables: [wq, hy])\n  |> group(columns: ["station", "jurisdiction"])\n  |> count()\n'
        "  |> map(fn: (r) => ({station: r.station, jurisdiction: r.jurisdiction, "
        "_value: r._value}))"
    )
    zero = expected_rows(stations, {"_value": 0}, names=False)
    minutes = "float(v: int(v: v.timeRangeStop) - int(v: v.timeRangeStart)) / 60000000000.0"
    return _with_array(
        combine(
            {"wq": wq, "hy": hy.uses("dict").bind(intervals("interval", stations))},
            f"counted = {counted}\n"
            f"union(tables: [counted, {zero}])\n"
            '  |> group(columns: ["station", "jurisdiction"])\n'
            "  |> sum()\n"
            "  |> map(fn: (r) => ({jurisdiction: r.jurisdiction, received: float(v: r._value), "
            f"expected: {minutes} / "
            "float(v: dict.get(dict: interval, key: r.station, default: 240))}))\n"
            '  |> group(columns: ["jurisdiction"])\n'
            "  |> reduce(identity: {received: 0.0, expected: 0.0}, fn: (r, accumulator) => ("
            "{received: accumulator.received + r.received, "
            "expected: accumulator.expected + r.expected}))\n"
            "  |> map(fn: (r) => ({jurisdiction: r.jurisdiction, "
            "_value: 100.0 * r.received / r.expected}))",
        )
    )


def build(ctx: BoardContext) -> dict[str, Any]:
    ds = ctx.datasource
    located, total = len(ctx.located), len(ctx.stations)
    layout = Layout()
    board = new_dashboard(
        ctx.uid("overview"),
        ctx.title("流域总览 Basin overview"),
        "The basin at a glance: where the sections are and what class they are in now.",
        ["overview"],
        shared=ctx.party is None,
    )
    complete = "" if located == total else " (incomplete: not every station has coordinates)"
    board.with_panel(
        layout.place(
            map_panel(
                ds,
                f"站点地图 Station map — {located}/{total} 站有坐标",
                f"Colour = newest class. Only {located} of {total} stations have coordinates in "
                f"the registry{complete}; the others are in the table beside the map.",
                [map_query(ctx)],
            ),
            Place(14, 12),
        )
    )
    board.with_panel(
        layout.place(
            table_panel(
                ds,
                f"无坐标站点 Stations without coordinates ({total - located})",
                "Not on the map. Class 0 = no class in the range (or a hydrology gauge).",
                [unlocated_query(ctx)],
            ).mappings(class_mappings()),
            Place(10, 12),
        )
    )
    board.with_panel(
        layout.place(
            pie_panel(
                ds,
                "水质类别分布 Class distribution",
                "Newest class of each section.",
                [distribution_query(ctx)],
            ).display_name("${__field.labels.grade}"),
            Place(8, 8),
        )
    )
    board.with_panel(
        layout.place(
            stat_panel(
                ds,
                "流域水质状况 Basin status",
                "优 ≥90 % in Ⅰ–Ⅲ; 良好 75–90 %; else by the 劣Ⅴ share: "
                "<20 % 轻度, 20–40 % 中度, ≥40 % 重度污染.",
                [status_query(ctx)],
            ),
            Place(8, 8),
        )
    )
    board.with_panel(
        layout.place(
            stat_panel(
                ds,
                "湖体总氮总磷 Lake TN and TP vs same period last year",
                "Mean of QC-good values of the lake sections, this period and one year earlier.",
                [
                    lake_nutrients(None, "本期 this period"),
                    lake_nutrients("1y", "去年同期 last year"),
                ],
                "mg/L",
            ),
            Place(8, 8),
        )
    )
    board.with_panel(
        layout.place(
            bar_panel(
                ds,
                "未关闭告警 Open alerts per jurisdiction",
                f"Alerts not resolved (changes of the last {OPEN_LOOKBACK}).",
                [open_alerts_query(ctx)],
            ),
            Place(12, 8),
        )
    )
    board.with_panel(
        layout.place(
            bar_panel(
                ds,
                "数据完整率 Completeness",
                "Results received over results expected (range / station interval), "
                "per jurisdiction.",
                [completeness_query(ctx)],
                "percent",
            ),
            Place(12, 8),
        )
    )
    return render(board)
