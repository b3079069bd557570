"""Panel defaults every board shares, in one place: the Flux target, the datasource, the class
value mappings (colours from boards.colours), the grid layout, and the dashboard's own defaults.

The foundation SDK builds the dashboard model; it has no InfluxDB Flux query type, so
:class:`FluxQuery` is one (a ``cog`` dataquery variant), registered for the ``influxdb``
datasource type so that ``Dashboard.from_json`` decodes a board's targets back into it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Self

from grafana_foundation_sdk.builders import bargauge, dashboard, geomap, piechart, stat, table
from grafana_foundation_sdk.builders import timeseries as ts
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import runtime as cogruntime
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import dashboard as model

from boards.colours import CLASS_COLOURS
from stations.standard.gb3838 import CLASS_NAMES

DATASOURCE_TYPE = "influxdb"
#: Beijing time: the boards' days and the published data's clock.
TIMEZONE = "Asia/Shanghai"
GRID_WIDTH = 24


class FluxQuery(cogvariants.Dataquery):
    """An InfluxDB Flux query target: the query text and the datasource it runs on."""

    def __init__(self, ref_id: str = "A", query: str = "", datasource_uid: str = "") -> None:
        self.ref_id = ref_id
        self.query = query
        self.datasource_uid = datasource_uid

    def to_json(self) -> dict[str, object]:
        return {
            "refId": self.ref_id,
            "query": self.query,
            "datasource": {"type": DATASOURCE_TYPE, "uid": self.datasource_uid},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        return cls(data.get("refId", ""), data.get("query", ""), data["datasource"]["uid"])


class FluxTarget(cogbuilder.Builder[cogvariants.Dataquery]):
    def __init__(self, query: FluxQuery) -> None:
        self._query = query

    def build(self) -> cogvariants.Dataquery:
        return self._query


def register_flux_variant() -> None:
    """Let the SDK's decoder read an ``influxdb`` target as a :class:`FluxQuery`."""
    cogruntime.register_dataquery_variant(
        cogruntime.DataqueryConfig(identifier=DATASOURCE_TYPE, from_json_hook=FluxQuery.from_json)
    )


register_flux_variant()


@dataclass(frozen=True)
class Place:
    """Width and height of a panel in grid units (24 across)."""

    w: int
    h: int


class Layout:
    """Places panels left to right, wrapping onto a new row, so that none overlap."""

    def __init__(self) -> None:
        self._x = 0
        self._y = 0
        self._row_height = 0
        self._next_id = 1

    def place(self, panel: Any, size: Place) -> Any:
        if size.w > GRID_WIDTH:
            raise ValueError(f"a panel is at most {GRID_WIDTH} wide, not {size.w}")
        if self._x + size.w > GRID_WIDTH:
            self._x, self._y, self._row_height = 0, self._y + self._row_height, 0
        panel.grid_pos(model.GridPos(h=size.h, w=size.w, x=self._x, y=self._y))
        panel.id(self._next_id)
        self._next_id += 1
        self._x += size.w
        self._row_height = max(self._row_height, size.h)
        return panel


def _common(
    panel: Any, datasource_uid: str, title: str, description: str, queries: Sequence[str]
) -> Any:
    panel.title(title).description(description)
    panel.datasource(model.DataSourceRef(type_val=DATASOURCE_TYPE, uid=datasource_uid))
    for i, text in enumerate(queries):
        panel.with_target(FluxTarget(FluxQuery(chr(ord("A") + i), text, datasource_uid)))
    return panel


def class_mappings() -> list[model.ValueMapping]:
    """Class 1..6 shown as Ⅰ类..劣Ⅴ类 in the class colours."""
    return [
        model.ValueMap(
            options={
                str(cls): model.ValueMappingResult(text=name, color=CLASS_COLOURS[cls], index=i)
                for i, (cls, name) in enumerate(sorted(CLASS_NAMES.items()))
            }
        )
    ]


def timeseries(
    uid: str, title: str, description: str, queries: Sequence[str], unit: str = ""
) -> ts.Panel:
    panel = _common(ts.Panel(), uid, title, description, queries)
    panel.line_width(1).fill_opacity(0).show_points(common.VisibilityMode.AUTO).span_nulls(False)
    return panel.unit(unit) if unit else panel


def stat_panel(
    uid: str, title: str, description: str, queries: Sequence[str], unit: str = ""
) -> stat.Panel:
    panel = _common(stat.Panel(), uid, title, description, queries)
    panel.graph_mode(common.BigValueGraphMode.NONE).color_mode(common.BigValueColorMode.VALUE)
    return panel.unit(unit) if unit else panel


def table_panel(uid: str, title: str, description: str, queries: Sequence[str]) -> table.Panel:
    return _common(table.Panel(), uid, title, description, queries)


def pie_panel(uid: str, title: str, description: str, queries: Sequence[str]) -> piechart.Panel:
    return _common(piechart.Panel(), uid, title, description, queries)


def bar_panel(
    uid: str, title: str, description: str, queries: Sequence[str], unit: str = ""
) -> bargauge.Panel:
    panel = _common(bargauge.Panel(), uid, title, description, queries)
    return panel.unit(unit) if unit else panel


def map_panel(uid: str, title: str, description: str, queries: Sequence[str]) -> geomap.Panel:
    """A geomap of points at the ``lat``/``lon`` columns, coloured by the ``class`` field."""
    panel = _common(geomap.Panel(), uid, title, description, queries)
    view = geomap.MapViewConfig().id("coords").lat(31).lon(120).zoom(8)
    markers = common.MapLayerOptions(
        type_val="markers",
        name="站点 stations",
        config={
            "showLegend": True,
            "style": {
                "color": {"field": "class", "fixed": "grey"},
                "size": {"fixed": 8},
                "text": {"field": "station_name", "mode": "field"},
            },
        },
        location=common.FrameGeometrySource(
            mode=common.FrameGeometrySourceMode.COORDS, latitude="lat", longitude="lon"
        ),
        tooltip=True,
    )
    panel.view(view).layers([_Built(markers)]).mappings(class_mappings())
    return panel


class _Built(cogbuilder.Builder[Any]):
    """A built model handed to an SDK method that wants a builder."""

    def __init__(self, value: Any) -> None:
        self._value = value

    def build(self) -> Any:
        return self._value


#: Keys the SDK writes on every variable but that only an interval variable has; Grafana 11.6's
#: dashboard schema refuses them elsewhere.
INTERVAL_ONLY = ("auto", "auto_count", "auto_min")


def to_json(board: Any) -> dict[str, Any]:
    """A dashboard model (``board.build()`` or ``Dashboard.from_json``) as Grafana stores it:
    plain dicts and lists, without the interval-only keys on other variables."""
    out: dict[str, Any] = json.loads(json.dumps(board, cls=JSONEncoder))
    for variable in out.get("templating", {}).get("list", []):
        if variable.get("type") != "interval":
            for key in INTERVAL_ONLY:
                variable.pop(key, None)
    return out


def render(board: dashboard.Dashboard) -> dict[str, Any]:
    """The dashboard's JSON as Grafana stores it."""
    return to_json(board.build())


def new_dashboard(
    uid: str, title: str, description: str, tags: Sequence[str], shared: bool = False
) -> dashboard.Dashboard:
    """A dashboard with the shared defaults: Beijing time, the last 7 days, refresh 5 min; a
    shared (basin-wide) one has a ``datasource`` variable over the basinwatch views."""
    if len(uid) > 40:
        raise ValueError(f"{uid}: a Grafana uid is at most 40 characters")
    board = (
        dashboard.Dashboard(title)
        .uid(uid)
        .description(description)
        .tags(["basinwatch", *tags])
        .timezone(TIMEZONE)
        .time("now-7d", "now")
        .refresh("5m")
        .editable()
    )
    if shared:
        board.with_variable(
            dashboard.DatasourceVariable("datasource")
            .label("数据视图 view")
            .type(DATASOURCE_TYPE)
            .regex("/^basinwatch /")
        )
    return board
