"""The export's charts, drawn by the boards' charting code (:mod:`boards.charts`): the class
distribution per jurisdiction, the lake's daily TN and TP over the month against the same month a
year before, and the station map coloured by class (the stations without coordinates named)."""

from __future__ import annotations

from datetime import datetime

from matplotlib.figure import Figure

from boards import charts
from boards.colours import CLASS_COLOURS
from exports.tables import BASIN, Assessed, month_span
from stations.jurisdictions import Jurisdiction
from stations.parameters import PARAMETERS
from stations.standard.gb3838 import CLASS_NAMES


def _month_text(assessed: Assessed) -> str:
    month = assessed.data.month
    return f"{month.year}年{month.month}月"


def class_distribution(assessed: Assessed) -> Figure:
    """Per jurisdiction (and the basin), the share of its sections in each class."""
    groups: dict[str, list[int]] = {}
    for station in assessed.stations:
        section = assessed.now.get(station.id)
        if section is None or section.water_class is None:
            continue
        groups.setdefault(station.jurisdiction.value, []).append(section.water_class)
        groups.setdefault(BASIN, []).append(section.water_class)
    names = [j.value for j in Jurisdiction if j.value in groups] + (
        [BASIN] if BASIN in groups else []
    )
    categories = [
        f"{BASIN if n == BASIN else Jurisdiction(n).name_zh} ({len(groups[n])})" for n in names
    ]
    stacks = [
        (
            CLASS_NAMES[c],
            CLASS_COLOURS[c],
            [100.0 * groups[n].count(c) / len(groups[n]) for n in names],
        )
        for c in range(1, 7)
        if any(c in groups[n] for n in names)
    ]
    frame = charts.Frame(
        f"{_month_text(assessed)} 各责任方断面水质类别比例",
        f"class distribution per jurisdiction · bucket {assessed.data.bucket}",
        ("括号内为参评断面数 (sections with a class in brackets)",),
    )
    return charts.stacked_bar_chart(frame, categories, stacks, unit="%")


def _series(points: list[tuple[datetime, float]], name: str, shift_years: int = 0) -> charts.Series:
    times = [t.replace(year=t.year + shift_years) for t, _ in points]
    return charts.Series(name, times, [v for _, v in points])


def lake_nutrient(assessed: Assessed, parameter: str) -> Figure:
    """The lake's daily mean of ``parameter`` (tn or tp) this month, and a year before drawn
    on the same days."""
    month = assessed.data.month
    series = assessed.data.lake_series
    name = PARAMETERS[parameter].name_zh
    lines = [
        _series(series.get(parameter, []), f"{name} {month.year}年{month.month}月"),
        _series(
            series.get(f"{parameter}_last_year", []),
            f"{name} {month.year - 1}年{month.month}月",
            shift_years=1,
        ),
    ]
    frame = charts.Frame(
        f"{_month_text(assessed)} 太湖{name}日均值（与去年同期对比）",
        f"daily lake mean of {PARAMETERS[parameter].name_en}, this month and a year before",
    )
    return charts.line_chart(frame, lines, unit="mg/L", span=month_span(month))


def station_map(assessed: Assessed) -> Figure:
    """The sections at their coordinates, coloured by this month's class."""
    points: list[charts.MapPoint] = []
    missing: list[str] = []
    for station in assessed.stations:
        section = assessed.now.get(station.id)
        if station.lat is None or station.lon is None:
            missing.append(station.name)
            continue
        water_class = None if section is None else section.water_class
        points.append(charts.MapPoint(station.name, station.lon, station.lat, water_class))
    frame = charts.Frame(
        f"{_month_text(assessed)} 断面水质类别分布", "sections coloured by class this month"
    )
    return charts.map_chart(frame, points, missing)


def figures(assessed: Assessed) -> list[Figure]:
    """Every chart of the PDF, in order."""
    return [
        class_distribution(assessed),
        lake_nutrient(assessed, "tn"),
        lake_nutrient(assessed, "tp"),
        station_map(assessed),
    ]
