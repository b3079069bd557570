"""站点 station board (variable ``station``): every parameter's series with suspect and failed
values marked, the class over time against the target, the level against its limits.

The alert messages link here: ``/d/<uid>?var-station=<id>`` (alerts.yaml ``board_url``).
"""

from __future__ import annotations

from typing import Any

from grafana_foundation_sdk.builders import dashboard
from grafana_foundation_sdk.models import dashboard as model

from boards.context import BoardContext
from boards.flux import Flux, Var, combine, dictionary
from boards.panels import Layout, Place, class_mappings, new_dashboard, render, timeseries
from boards.schema import ASSESSMENT, HYDROLOGY, WATER_QUALITY
from stations import parameters

UID = "station"
STATION = Var("station")
#: Series names of the parameter panels, by QC flag.
SERIES = (("1, 2", "正常 good"), ("3", "可疑 suspect"), ("4", "失败 fail"))


def parameter_query(parameter: str) -> str:
    """The station's values of one parameter, split into good, suspect and failed series."""
    data = (
        Flux()
        .select([WATER_QUALITY, HYDROLOGY], ["value", "qc"], station=STATION, parameter=parameter)
        .pivot_fields()
        .where_value("exists r.value", "value")
    )
    parts: dict[str, Flux] = {"data": data}
    names = []
    for i, (flags, label) in enumerate(SERIES):
        test = " or ".join(f"r.qc == {f.strip()}" for f in flags.split(","))
        name = f"s{i}"
        names.append(name)
        parts_text = (
            f"{name} = data\n  |> filter(fn: (r) => {test})\n"
            f'  |> map(fn: (r) => ({{_time: r._time, _value: r.value, _field: "{label}"}}))'
        )
        names[-1] = parts_text
    return combine(
        parts,
        "\n".join(names) + f"\nunion(tables: [{', '.join(f's{i}' for i in range(len(SERIES)))}])\n"
        '  |> group(columns: ["_field"])\n'
        '  |> sort(columns: ["_time"])',
    )


def class_query() -> str:
    return (
        Flux()
        .select(ASSESSMENT, ["class", "target_class"], station=STATION)
        .stage(
            "map(fn: (r) => ({_time: r._time, _value: r._value, "
            '_field: if r._field == "class" then "类别 class" else "目标 target"}))'
        )
        .render()
    )


def level_query(ctx: BoardContext) -> str:
    warning = {
        s.id: s.hydrology.warning_level
        for s in ctx.stations
        if s.hydrology is not None and s.hydrology.warning_level is not None
    }
    guaranteed = {
        s.id: s.hydrology.guaranteed_level
        for s in ctx.stations
        if s.hydrology is not None and s.hydrology.guaranteed_level is not None
    }
    level = (
        Flux()
        .uses("dict")
        .bind(dictionary("warning", warning, 0.0), dictionary("guaranteed", guaranteed, 0.0))
        .select(HYDROLOGY, ["value"], station=STATION, parameter="level")
    )
    return combine(
        {"level": level},
        "limits = level\n"
        '  |> map(fn: (r) => ({_time: r._time, _field: "警戒水位 warning", '
        "_value: dict.get(dict: warning, key: r.station, default: 0.0)}))\n"
        "  |> filter(fn: (r) => r._value > 0.0)\n"
        "guard = level\n"
        '  |> map(fn: (r) => ({_time: r._time, _field: "保证水位 guaranteed", '
        "_value: dict.get(dict: guaranteed, key: r.station, default: 0.0)}))\n"
        "  |> filter(fn: (r) => r._value > 0.0)\n"
        "measured = level\n"
        '  |> map(fn: (r) => ({_time: r._time, _field: "水位 level", _value: r._value}))\n'
        'union(tables: [measured, limits, guard])\n  |> group(columns: ["_field"])\n'
        '  |> sort(columns: ["_time"])',
    )


def _station_variable(ctx: BoardContext) -> dashboard.CustomVariable:
    """A custom variable ``name : id`` over the stations of this copy (no query needed)."""
    options = ", ".join(f"{s.name} : {s.id}" for s in ctx.stations)
    first = ctx.stations[0] if ctx.stations else None
    var = dashboard.CustomVariable("station").label("站点 station").values(options)
    if first is not None:
        var.current(model.VariableOption(text=first.name, value=first.id, selected=True))
    return var


def build(ctx: BoardContext) -> dict[str, Any]:
    ds = ctx.datasource
    layout = Layout()
    board = new_dashboard(
        ctx.uid(UID),
        ctx.title("站点 Station"),
        "One station: every parameter (suspect and failed values marked), class against target, "
        "level against the warning and guaranteed levels. Open it on a station with "
        "?var-station=ID.",
        ["station"],
        shared=ctx.party is None,
    ).with_variable(_station_variable(ctx))
    board.with_panel(
        layout.place(
            timeseries(
                ds,
                "类别与目标 Class and target",
                "Overall class (1–6 = Ⅰ–劣Ⅴ) and the target class.",
                [class_query()],
            )
            .mappings(class_mappings())
            .min(1)
            .max(6),
            Place(12, 8),
        )
    )
    board.with_panel(
        layout.place(
            timeseries(
                ds,
                "水位 Level",
                "Level against the warning and guaranteed levels of the registry.",
                [level_query(ctx)],
                "m",
            ),
            Place(12, 8),
        )
    )
    for key in sorted({p for s in ctx.stations for p in s.parameters} - {"level"}):
        known = parameters.get(key)
        panel = timeseries(
            ds,
            f"{known.name_zh} {key}",
            f"{known.name_zh} in {known.unit}; suspect (QC 3) and failed (QC 4) values as points.",
            [parameter_query(key)],
            "",
        )
        for _, label in SERIES[1:]:
            panel.override_by_name(
                label,
                [
                    model.DynamicConfigValue(id_val="custom.drawStyle", value="points"),
                    model.DynamicConfigValue(id_val="custom.pointSize", value=6),
                ],
            )
        board.with_panel(layout.place(panel, Place(8, 7)))
    return render(board)
