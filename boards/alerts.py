"""告警 alerts: open alerts, time to acknowledge and to resolve, failed deliveries."""

from __future__ import annotations

from typing import Any

from boards.context import BoardContext
from boards.flux import Flux
from boards.panels import Layout, Place, new_dashboard, render, stat_panel, table_panel
from boards.schema import ALERTS, DELIVERIES

LOOKBACK = "90d"
_KEY = ("station", "rule", "parameter")


def open_query(ctx: BoardContext) -> str:
    return (
        Flux()
        .lookback(LOOKBACK)
        .select(ALERTS, ["state"])
        .group(*_KEY)
        .sort("_time")
        .stage("last()")
        .where_value('r._value != "resolved"')
        .group()
        .keep(
            "_time",
            "station",
            "station_name",
            "jurisdiction",
            "rule",
            "parameter",
            "severity",
            "_value",
        )
        .sort("_time", desc=True)
        .render()
    )


def elapsed_query(ctx: BoardContext, done: str, label: str) -> str:
    """Mean time from an alert's firing to its ``done`` change (acknowledged or resolved)."""
    return (
        Flux()
        .select(ALERTS, ["state"])
        .where("change", ["firing", done])
        .group(*_KEY)
        .sort("_time")
        .stage('elapsed(unit: 1m, columnName: "minutes")')
        .where_value(f'r.change == "{done}"', "change")
        .group()
        .stage(f'map(fn: (r) => ({{_field: "{label}", _value: float(v: r.minutes)}}))')
        .stage("mean()")
        .render()
    )


def failed_query(ctx: BoardContext) -> str:
    return (
        Flux()
        .select(DELIVERIES, ["title", "errors", "attempts"], ok="false")
        .pivot(["_time", "station", "receiver"], "_field")
        .group()
        .keep("_time", "station", "receiver", "title", "attempts", "errors")
        .sort("_time", desc=True)
        .render()
    )


def build(ctx: BoardContext) -> dict[str, Any]:
    ds = ctx.datasource
    layout = Layout()
    board = new_dashboard(
        ctx.uid("alerts"),
        ctx.title("告警 Alerts"),
        "Open alerts, time to acknowledge and to resolve, failed notification deliveries.",
        ["alerts"],
        shared=ctx.party is None,
    )
    board.with_panel(
        layout.place(
            table_panel(
                ds,
                "未关闭告警 Open alerts",
                f"Newest state not resolved (changes of the last {LOOKBACK}).",
                [open_query(ctx)],
            ),
            Place(24, 9),
        )
    )
    board.with_panel(
        layout.place(
            stat_panel(
                ds,
                "平均确认时间 Time to acknowledge",
                "Mean minutes from firing to acknowledged.",
                [elapsed_query(ctx, "acknowledged", "确认 ack")],
                "m",
            ),
            Place(6, 6),
        )
    )
    board.with_panel(
        layout.place(
            stat_panel(
                ds,
                "平均解除时间 Time to resolve",
                "Mean minutes from firing to resolved.",
                [elapsed_query(ctx, "resolved", "解除 resolve")],
                "m",
            ),
            Place(6, 6),
        )
    )
    board.with_panel(
        layout.place(
            table_panel(
                ds,
                "发送失败 Failed deliveries",
                "Notifications a receiver did not get.",
                [failed_query(ctx)],
            ),
            Place(12, 6),
        )
    )
    return render(board)
