"""数据质量 data quality: completeness against the results expected per day (HJ 915: six a day at
a 4-hour interval; each station's own interval), QC flag shares, silent stations, QC reasons and
rejected messages (dead letters) by reason.

Dead letters are in the ``rejected`` measurement (the store writes one point per dead letter). A
party's view holds only those of its own stations (they carry the bytes its stations sent); those
whose station is unknown stay in the main bucket, shown as jurisdiction ``—`` by a basin-wide copy.
"""

from __future__ import annotations

from typing import Any

from boards.context import BoardContext, expected_rows, intervals
from boards.flux import Flux, Raw, combine
from boards.panels import Layout, Place, new_dashboard, pie_panel, render, table_panel
from boards.schema import ASSESSMENT, HYDROLOGY, QC, REJECTED, WATER_QUALITY

DAY_MINUTES = 1440
#: The jurisdiction of a dead letter whose station is unknown.
NO_JURISDICTION = "—"


def _reports(ctx: BoardContext) -> dict[str, Flux]:
    ids = [s.id for s in ctx.stations] or ["-"]
    return {
        "wq": Flux().select(ASSESSMENT, ["late"], station=ids),
        "hy": Flux().select(HYDROLOGY, ["qc"], station=ids, parameter="level"),
    }


def completeness_query(ctx: BoardContext) -> str:
    """Per station and Beijing day: results received / results expected, in per cent."""
    parts = _reports(ctx)
    parts["hy"] = parts["hy"].uses("dict", "timezone").bind(intervals("interval", ctx.stations))
    return combine(
        parts,
        "union(tables: [wq, hy])\n"
        '  |> group(columns: ["station", "station_name"])\n'
        '  |> aggregateWindow(every: 1d, fn: count, timeSrc: "_start", createEmpty: false, '
        'location: timezone.location(name: "Asia/Shanghai"))\n'
        "  |> map(fn: (r) => ({_time: r._time, station: r.station, station_name: r.station_name, "
        "_value: 100.0 * float(v: r._value) * "
        "float(v: dict.get(dict: interval, key: r.station, default: 240)) / "
        f"{DAY_MINUTES}.0}}))\n"
        "  |> group()\n"
        '  |> sort(columns: ["station", "_time"])',
    )


def qc_share_query(ctx: BoardContext) -> str:
    ids = [s.id for s in ctx.stations] or ["-"]
    return (
        Flux()
        .select([WATER_QUALITY, HYDROLOGY], ["qc"], station=ids)
        .group()
        .stage(
            'map(fn: (r) => ({r with flag: if r._value == 1 then "1 正常 good" '
            'else if r._value == 2 then "2 未评价 not evaluated" '
            'else if r._value == 3 then "3 可疑 suspect" '
            'else if r._value == 4 then "4 失败 fail" else "9 缺失 missing"}))'
        )
        .group("flag")
        .stage("count()")
        .render()
    )


def silent_query(ctx: BoardContext) -> str:
    """Stations whose newest result is older than two intervals before the range's end (or that
    sent none in the range)."""
    parts = _reports(ctx)
    parts["hy"] = parts["hy"].uses("dict", "array").bind(intervals("interval", ctx.stations))
    epoch = expected_rows(ctx.stations, {"_time": Raw("1970-01-01T00:00:00Z")}, names=False)
    return combine(
        parts,
        "seen = union(tables: [wq, hy])\n"
        '  |> group(columns: ["station", "jurisdiction"])\n'
        "  |> last()\n"
        "  |> map(fn: (r) => ({station: r.station, jurisdiction: r.jurisdiction, "
        "_time: r._time}))\n"
        f"union(tables: [seen, {epoch}])\n"
        '  |> group(columns: ["station", "jurisdiction"])\n'
        '  |> sort(columns: ["_time"])\n  |> last(column: "_time")\n  |> group()\n'
        "  |> filter(fn: (r) => int(v: r._time) < int(v: v.timeRangeStop) - "
        "2 * dict.get(dict: interval, key: r.station, default: 240) * 60000000000)\n"
        '  |> sort(columns: ["station"])',
    )


def reasons_query(ctx: BoardContext) -> str:
    ids = [s.id for s in ctx.stations] or ["-"]
    return (
        Flux()
        .select(QC, ["reasons"], station=ids)
        .stage("map(fn: (r) => ({reason: r._value, count: 1}))")
        .group("reason")
        .stage('sum(column: "count")')
        .group()
        .sort("count", desc=True)
        .render()
    )


def rejected_query(ctx: BoardContext) -> str:
    """Dead letters in the range per jurisdiction and reason, most first (a party's board: its
    own stations' only)."""
    query = Flux().select(REJECTED, ["count"])
    if ctx.party is not None:
        query = query.where("jurisdiction", ctx.party.value)
    return (
        query.stage(
            "map(fn: (r) => ({jurisdiction: if exists r.jurisdiction then r.jurisdiction "
            f'else "{NO_JURISDICTION}", reason: r.reason, _value: r._value}}))'
        )
        .group("jurisdiction", "reason")
        .stage("sum()")
        .group()
        .sort("_value", desc=True)
        .render()
    )


def build(ctx: BoardContext) -> dict[str, Any]:
    ds = ctx.datasource
    layout = Layout()
    board = new_dashboard(
        ctx.uid("quality"),
        ctx.title("数据质量 Data quality"),
        "Completeness per day against each station's interval (HJ 915: 6 a day at 4 h), QC flag "
        "shares, silent stations, why values failed QC, rejected messages by reason.",
        ["quality"],
        shared=ctx.party is None,
    )
    board.with_panel(
        layout.place(
            table_panel(
                ds,
                "每日完整率 Completeness per day",
                "Results received / expected per Beijing day, %.",
                [completeness_query(ctx)],
            ).unit("percent"),
            Place(12, 10),
        )
    )
    board.with_panel(
        layout.place(
            pie_panel(
                ds,
                "质控标记 QC flag shares",
                "Share of values per QARTOD flag.",
                [qc_share_query(ctx)],
            ).display_name("${__field.labels.flag}"),
            Place(12, 10),
        )
    )
    board.with_panel(
        layout.place(
            table_panel(
                ds,
                "静默站点 Silent stations",
                "Newest result older than two intervals before the end of the range "
                "(1970 = none in the range).",
                [silent_query(ctx)],
            ),
            Place(12, 10),
        )
    )
    board.with_panel(
        layout.place(
            table_panel(
                ds,
                "质控不合格原因 QC reasons",
                "Why values were flagged.",
                [reasons_query(ctx)],
            ),
            Place(12, 10),
        )
    )
    board.with_panel(
        layout.place(
            table_panel(
                ds,
                "被拒消息 Rejected messages by reason",
                "Messages that could not be used (dead letters) in the range, per jurisdiction "
                f"and reason ({NO_JURISDICTION}: station unknown). The original bytes are on the "
                "rejected topic.",
                [rejected_query(ctx)],
            ),
            Place(24, 8),
        )
    )
    return render(board)
