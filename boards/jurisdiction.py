"""辖区 jurisdiction board (one per party, in its folder): its stations' newest values, class,
whether the target is met, and the breaches still open."""

from __future__ import annotations

from typing import Any

from boards.context import BoardContext
from boards.flux import Flux
from boards.panels import Layout, Place, class_mappings, new_dashboard, render, table_panel
from boards.schema import ASSESSMENT, BREACHES, WATER_QUALITY

OPEN_LOOKBACK = "30d"


def own(ctx: BoardContext) -> list[str]:
    ids = [s.id for s in ctx.stations if ctx.party is None or s.jurisdiction is ctx.party]
    return ids or ["-"]


def values_query(ctx: BoardContext) -> str:
    return (
        Flux()
        .select(WATER_QUALITY, ["value"], station=own(ctx))
        .group("station", "station_name", "parameter")
        .stage("last()")
        .group("station", "station_name")
        .pivot(["station", "station_name"], "parameter")
        .group()
        .sort("station")
        .render()
    )


def class_query(ctx: BoardContext) -> str:
    return (
        Flux()
        .select(ASSESSMENT, ["class", "target_class", "target_met"], station=own(ctx))
        .group("station", "station_name", "_field")
        .stage("last()")
        .stage("map(fn: (r) => ({r with _value: int(v: r._value)}))")
        .group("station", "station_name")
        .pivot(["station", "station_name"], "_field")
        .group()
        .sort("station")
        .render()
    )


def breaches_query(ctx: BoardContext) -> str:
    return (
        Flux()
        .lookback(OPEN_LOOKBACK)
        .select(BREACHES, ["message"], station=own(ctx))
        .group("station", "rule", "parameter")
        .sort("_time")
        .stage("last()")
        .where("kind", "breach")
        .group()
        .keep("_time", "station", "station_name", "rule", "parameter", "severity", "_value")
        .sort("_time", desc=True)
        .render()
    )


def build(ctx: BoardContext) -> dict[str, Any]:
    ds = ctx.datasource
    layout = Layout()
    board = new_dashboard(
        ctx.uid("jurisdiction"),
        ctx.title("辖区 Jurisdiction"),
        "The party's own stations: newest values, class against target, open breaches.",
        ["jurisdiction"],
        shared=ctx.party is None,
    )
    board.with_panel(
        layout.place(
            table_panel(
                ds,
                "最新监测值 Newest values",
                "Newest value of each parameter (canonical units).",
                [values_query(ctx)],
            ),
            Place(24, 10),
        )
    )
    board.with_panel(
        layout.place(
            table_panel(
                ds,
                "类别与达标 Class and target",
                "Newest class, target class, target met.",
                [class_query(ctx)],
            ).mappings(class_mappings()),
            Place(12, 10),
        )
    )
    board.with_panel(
        layout.place(
            table_panel(
                ds,
                "未恢复超标 Open breaches",
                f"Breaches without a recovery since (last {OPEN_LOOKBACK}).",
                [breaches_query(ctx)],
            ),
            Place(12, 10),
        )
    )
    return render(board)
