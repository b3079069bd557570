"""Board snapshots without InfluxDB: a small dashboard, a recording query runner, real PNGs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from boards import charts
from boards.snapshot import Table, Window, figure, snapshot

START = datetime(2021, 4, 1, tzinfo=UTC)
STOP = datetime(2021, 5, 1, tzinfo=UTC)
WINDOW = Window(START, STOP, "basinwatch-zj", "basinwatch", {"station": "JS-TH-028"})

DASHBOARD = {
    "uid": "bw-test",
    "title": "站点 station",
    "templating": {"list": [{"name": "station", "current": {"value": "JS-TH-001"}}]},
    "panels": [
        {
            "id": 1,
            "type": "timeseries",
            "title": "总磷 TP",
            "gridPos": {"x": 0, "y": 0, "w": 12, "h": 8},
            "fieldConfig": {"defaults": {"unit": "mg/L"}},
            "targets": [
                {
                    "refId": "A",
                    "query": "from(bucket: v.defaultBucket) |> range(start: v.timeRangeStart, "
                    'stop: v.timeRangeStop) |> filter(fn: (r) => r.station == "${station}")',
                }
            ],
        },
        {"id": 2, "type": "text", "title": "说明", "gridPos": {"x": 0, "y": 8, "w": 24, "h": 2}},
        {
            "id": 3,
            "type": "stat",
            "title": "告警 open alerts",
            "gridPos": {"x": 12, "y": 0, "w": 12, "h": 8},
            "targets": [{"refId": "A", "query": "empty"}],
        },
    ],
}


def _runner(seen: list[str]):  # type: ignore[no-untyped-def]
    def run(query: str) -> list[Table]:
        seen.append(query)
        if query == "empty":
            return []
        rows = [
            {"_time": START + timedelta(hours=4 * i), "_value": 0.05 + 0.01 * (i % 5)}
            for i in range(60)
        ]
        suspect = [{"_time": START + timedelta(hours=40), "_value": 0.2}]
        return [Table({"_field": "正常 good"}, rows), Table({"_field": "可疑 suspect"}, suspect)]

    return run


def test_a_snapshot_is_one_readable_png_per_panel_with_its_title(tmp_path: Path) -> None:
    seen: list[str] = []

    written = snapshot(DASHBOARD, _runner(seen), WINDOW, tmp_path)

    # The text panel is not drawn; panels in reading order.
    assert written == [tmp_path / "bw-test" / "01-1.png", tmp_path / "bw-test" / "02-3.png"]
    assert seen[0] == (
        'from(bucket: "basinwatch-zj") |> range(start: 2021-04-01T00:00:00Z, '
        'stop: 2021-05-01T00:00:00Z) |> filter(fn: (r) => r.station == "JS-TH-028")'
    )
    titles = []
    for path in written:
        with Image.open(path) as image:
            assert image.format == "PNG"
            pixels = np.asarray(image.convert("L"), dtype=float)
            titles.append(image.info["Title"])
        assert pixels.std() > 10, f"{path} is blank"
    assert titles == ["站点 station · 总磷 TP", "站点 station · 告警 open alerts"]


def test_a_panel_without_data_says_so() -> None:
    charts.use_cjk_font()
    empty = figure(DASHBOARD, DASHBOARD["panels"][2], [], WINDOW)  # type: ignore[index]

    texts = [t.get_text() for t in empty.findobj(lambda a: hasattr(a, "get_text"))]

    assert charts.NO_DATA in texts
    assert empty.get_suptitle() == "站点 station · 告警 open alerts"


def test_the_map_names_the_stations_it_cannot_place() -> None:
    charts.use_cjk_font()
    rows = [
        {"station": "JS-TH-028", "station_name": "西山", "class": 3, "lat": 31.13, "lon": 120.4},
        {"station": "JS-TH-001", "station_name": "五里湖心", "class": 6, "lat": 0.0, "lon": 0.0},
    ]
    panel = {"type": "geomap", "title": "站点地图 map"}

    drawn = figure({"title": "流域总览"}, panel, [Table({}, rows)], WINDOW)

    texts = " ".join(t.get_text() for t in drawn.findobj(lambda a: hasattr(a, "get_text")))
    assert "1 stations without coordinates, not on the map): 五里湖心" in texts
    assert "西山" in texts


def test_chinese_is_drawn_with_a_cjk_font_and_no_missing_glyph(tmp_path: Path) -> None:
    family = charts.use_cjk_font()
    assert family in charts.CJK_FAMILIES
    chart = charts.bar_chart(
        charts.Frame("流域总览 类别分布"), ["Ⅰ–Ⅲ类", "Ⅳ–Ⅴ类", "劣Ⅴ类"], [20, 12, 5], shares=True
    )
    # A glyph missing from the font is a warning, an error under this suite's filterwarnings.
    charts.save_png(chart, tmp_path / "classes.png")
    labels = [t.get_text() for t in chart.axes[0].texts]
    assert labels == ["20 (54%)", "12 (32%)", "5 (14%)"]


@pytest.mark.parametrize("water_class", [1, 2, 3, 4, 5, 6])
def test_every_class_has_its_colour(water_class: int) -> None:
    assert charts.class_colour(water_class) == charts.CLASS_COLOURS[water_class]
    assert charts.class_colour(None) == charts.NO_CLASS_COLOUR
