"""跨界断面 cross-boundary sections: each boundary section with its upstream and downstream
parties, its newest class and its newest values."""

from __future__ import annotations

from typing import Any

from boards.context import BoardContext
from boards.flux import Flux, dictionary
from boards.panels import Layout, Place, class_mappings, new_dashboard, render, table_panel
from boards.schema import ASSESSMENT, WATER_QUALITY
from stations.station import Station

#: The parameters shown beside the class (the usual limiting ones).
SHOWN = ("codmn", "nh3n", "tp", "tn", "do")


def sections(ctx: BoardContext) -> tuple[Station, ...]:
    return tuple(s for s in ctx.water_quality if s.boundary is not None)


def _parties(stations: tuple[Station, ...], side: str) -> dict[str, str]:
    out = {}
    for s in stations:
        assert s.boundary is not None
        parties = getattr(s.boundary, side) or (s.boundary.shared if side == "upstream" else ())
        out[s.id] = "、".join(p.value for p in parties) or "-"
    return out


def class_query(ctx: BoardContext) -> str:
    found = sections(ctx)
    return (
        Flux()
        .uses("dict")
        .bind(
            dictionary("upstream", _parties(found, "upstream"), ""),
            dictionary("downstream", _parties(found, "downstream"), ""),
        )
        .select(ASSESSMENT, ["class"], station=[s.id for s in found] or ["-"])
        .group("station")
        .stage("last()")
        .group()
        .stage(
            "map(fn: (r) => ({station: r.station, station_name: r.station_name, "
            'upstream: dict.get(dict: upstream, key: r.station, default: ""), '
            'downstream: dict.get(dict: downstream, key: r.station, default: ""), '
            "class: r._value, _time: r._time}))"
        )
        .sort("station")
        .render()
    )


def values_query(ctx: BoardContext) -> str:
    return (
        Flux()
        .select(WATER_QUALITY, ["value"], station=[s.id for s in sections(ctx)] or ["-"])
        .where("parameter", list(SHOWN))
        .group("station", "station_name", "parameter")
        .stage("last()")
        .group("station", "station_name")
        .pivot(["station", "station_name"], "parameter")
        .group()
        .sort("station")
        .render()
    )


def build(ctx: BoardContext) -> dict[str, Any]:
    ds = ctx.datasource
    layout = Layout()
    board = new_dashboard(
        ctx.uid("boundary"),
        ctx.title("跨界断面 Cross-boundary sections"),
        "Each boundary section with its upstream and downstream parties (a junction's parties "
        "as upstream), its newest class and values. Directions are example defaults of the "
        "registry (confirm:).",
        ["boundary"],
        shared=ctx.party is None,
    )
    board.with_panel(
        layout.place(
            table_panel(
                ds,
                "断面类别 Sections and class",
                "Upstream / downstream parties and newest class.",
                [class_query(ctx)],
            ).mappings(class_mappings()),
            Place(12, 12),
        )
    )
    board.with_panel(
        layout.place(
            table_panel(
                ds,
                "断面最新值 Newest values (mg/L)",
                f"Newest {', '.join(SHOWN)}.",
                [values_query(ctx)],
            ),
            Place(12, 12),
        )
    )
    return render(board)
