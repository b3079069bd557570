"""Charts of plain data as PNG figures, with Chinese labels: the board snapshots draw with them,
and the monthly exports will.

Nothing here knows Grafana or InfluxDB: every function takes plain values (series of times and
numbers, categories, table rows, points with lon/lat and a class) and returns a matplotlib
:class:`~matplotlib.figure.Figure` (the object API, no pyplot state); :func:`save_png` writes it
with its title in the PNG's ``Title`` text chunk. A chart without data says so ("无数据 No data")
instead of showing empty axes.

The CJK font is Debian's ``fonts-noto-cjk`` (``deploy/local/fonts.sh install``);
:func:`use_cjk_font` fails with that advice when no CJK font is installed, rather than drawing
boxes for every Chinese character. The GB 3838-2002 class colours are :mod:`boards.colours`.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import matplotlib
import matplotlib.dates as mdates
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from boards.colours import CLASS_COLOURS, NO_CLASS_COLOUR
from stations.standard.gb3838 import CLASS_NAMES

matplotlib.use("Agg")

#: QC flags drawn on a series: suspect and failed values (ioos_qc / QARTOD flags 3 and 4).
FLAG_STYLES: Mapping[int, tuple[str, str, str]] = {
    3: ("可疑 suspect", "#ff9830", "o"),
    4: ("失败 failed", "#e02f44", "x"),
}
#: Font families tried in order; the first is in Debian's fonts-noto-cjk.
CJK_FAMILIES = ("Noto Sans CJK SC", "WenQuanYi Zen Hei", "Noto Sans CJK JP")
#: Where Debian puts them, added to matplotlib when its font cache predates the install.
FONT_FILES = (
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
)
NO_DATA = "无数据 No data"
#: The clock of the axes: Beijing time, as the boards and the published data.
TIMEZONE = ZoneInfo("Asia/Shanghai")
SIZE = (10.0, 5.6)
DPI = 110
MAX_TABLE_ROWS = 18


class FontMissing(RuntimeError):
    """No CJK font: Chinese labels would be drawn as boxes."""


def use_cjk_font() -> str:
    """Make matplotlib draw with a CJK font (Latin from the same font, DejaVu as fallback); the
    family chosen. Raises :class:`FontMissing` saying how to install one."""
    names = {font.name for font in font_manager.fontManager.ttflist}
    if not names.intersection(CJK_FAMILIES):
        for path in FONT_FILES:
            if path.is_file():
                font_manager.fontManager.addfont(str(path))
        names = {font.name for font in font_manager.fontManager.ttflist}
    for family in CJK_FAMILIES:
        if family in names:
            matplotlib.rcParams["font.family"] = [family, "DejaVu Sans"]
            matplotlib.rcParams["axes.unicode_minus"] = False
            return family
    raise FontMissing(
        "no CJK font for the Chinese labels (tried " + ", ".join(CJK_FAMILIES) + "); "
        "run: deploy/local/fonts.sh install"
    )


@dataclass(frozen=True)
class Series:
    """One line: times and values, and the QC flag of each value (None: not flagged)."""

    name: str
    times: Sequence[datetime]
    values: Sequence[float]
    flags: Sequence[int | None] = ()


@dataclass(frozen=True)
class Level:
    """A horizontal reference line: a target, a warning level, a class limit."""

    value: float
    label: str
    colour: str = "#616161"


@dataclass(frozen=True)
class MapPoint:
    """A station on the map: where it is and its class (None: no class)."""

    label: str
    lon: float
    lat: float
    water_class: int | None = None


@dataclass(frozen=True)
class Stat:
    """One big number with its label, coloured (e.g. by class) or not."""

    label: str
    value: str
    colour: str | None = None


@dataclass(frozen=True)
class Frame:
    """The common parts of every chart: title, a subtitle (time range, bucket), a footnote."""

    title: str
    subtitle: str = ""
    notes: Sequence[str] = field(default_factory=tuple)


def class_colour(water_class: int | None) -> str:
    return CLASS_COLOURS.get(water_class or 0, NO_CLASS_COLOUR)


def _figure(frame: Frame, size: tuple[float, float] = SIZE) -> Figure:
    figure = Figure(figsize=size, dpi=DPI, layout="constrained")
    figure.suptitle(frame.title, fontsize=15, fontweight="bold")
    lines = [frame.subtitle, *frame.notes] if frame.subtitle else list(frame.notes)
    if lines:
        footer = "\n".join(textwrap.fill(line, 150) for line in lines)
        figure.supxlabel(footer, fontsize=8, color="#555", x=0.01, ha="left")
    return figure


def _no_data(axes: Axes) -> None:
    axes.set_axis_off()
    axes.text(0.5, 0.5, NO_DATA, ha="center", va="center", fontsize=20, color="#757575")


def no_data_chart(frame: Frame) -> Figure:
    """A chart saying there is nothing to show."""
    figure = _figure(frame)
    _no_data(figure.add_subplot())
    return figure


def line_chart(
    frame: Frame,
    series: Sequence[Series],
    unit: str = "",
    levels: Sequence[Level] = (),
    ticks: Mapping[float, str] | None = None,
    span: tuple[datetime, datetime] | None = None,
) -> Figure:
    """Lines over time, flagged values marked, reference levels as dashed lines; ``ticks`` name
    the values of the y axis (classes: 1 -> Ⅰ类), ``span`` is the time range shown."""
    figure = _figure(frame)
    axes = figure.add_subplot()
    drawn = [s for s in series if s.values]
    if not drawn:
        _no_data(axes)
        return figure
    flagged: dict[int, tuple[list[datetime], list[float]]] = {}
    for line in drawn:
        if not line.flags or any(f not in FLAG_STYLES for f in line.flags):
            times = mdates.date2num(list(line.times))
            axes.plot(times, line.values, label=line.name, linewidth=1.4, marker=".", ms=3)
        for at, value, flag in zip(line.times, line.values, line.flags, strict=False):
            if flag is not None and flag in FLAG_STYLES:
                points = flagged.setdefault(flag, ([], []))
                points[0].append(at)
                points[1].append(value)
    for flag, (times, values) in sorted(flagged.items()):
        label, colour, marker = FLAG_STYLES[flag]
        axes.scatter(
            mdates.date2num(times), values, color=colour, marker=marker, s=40, zorder=3, label=label
        )
    for level in levels:
        axes.axhline(level.value, color=level.colour, linestyle="--", linewidth=1)
        axes.annotate(
            level.label,
            (1, level.value),
            xycoords=("axes fraction", "data"),
            ha="right",
            va="bottom",
            fontsize=8,
            color=level.colour,
        )
    if span is not None:
        axes.set_xlim(mdates.date2num(span[0]), mdates.date2num(span[1]))
    if ticks:
        shown = sorted(ticks)
        axes.set_yticks(shown, [ticks[v] for v in shown])
        axes.set_ylim(shown[0] - 0.5, shown[-1] + 0.5)
    locator = mdates.AutoDateLocator(minticks=3, maxticks=8, tz=TIMEZONE)
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, tz=TIMEZONE))
    axes.set_ylabel(unit)
    axes.grid(alpha=0.3)
    if len(drawn) > 1 or flagged:
        columns = 1 if len(drawn) + len(flagged) <= 8 else 2
        axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, ncols=columns)
    return figure


def bar_chart(
    frame: Frame,
    categories: Sequence[str],
    values: Sequence[float],
    colours: Sequence[str] | None = None,
    unit: str = "",
    shares: bool = False,
) -> Figure:
    """One bar per category (horizontal when there are many or long names), values written;
    with ``shares`` each value's share of the total too (what a pie chart shows)."""
    figure = _figure(frame)
    axes = figure.add_subplot()
    if not categories:
        _no_data(axes)
        return figure
    colour = list(colours) if colours else ["#5470c6"] * len(categories)
    horizontal = len(categories) > 8 or max(len(c) for c in categories) > 10
    if horizontal:
        bars = axes.barh(list(categories), list(values), color=colour)
        axes.invert_yaxis()
        axes.set_xlabel(unit)
        axes.grid(axis="x", alpha=0.3)
    else:
        bars = axes.bar(list(categories), list(values), color=colour)
        axes.set_ylabel(unit)
        axes.grid(axis="y", alpha=0.3)
    total = sum(values)
    suffix = "%" if unit == "%" else ""
    labels = [
        f"{number_text(v)}{suffix} ({v / total:.0%})"
        if shares and total
        else number_text(v) + suffix
        for v in values
    ]
    axes.bar_label(bars, labels=labels, fontsize=9, padding=2)
    axes.margins(x=0.08, y=0.12)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    return figure


def stat_chart(frame: Frame, stats: Sequence[Stat]) -> Figure:
    """Big numbers side by side (at most 6 per row)."""
    if not stats:
        return no_data_chart(frame)
    columns = min(len(stats), 6)
    rows = (len(stats) + columns - 1) // columns
    figure = _figure(frame, (SIZE[0], 1.2 + 1.6 * rows))
    grid = figure.subplots(rows, columns, squeeze=False)
    for index, axes in enumerate(grid.flat):
        axes.set_axis_off()
        if index >= len(stats):
            continue
        stat = stats[index]
        if stat.colour:
            axes.add_patch(
                matplotlib.patches.FancyBboxPatch(
                    (0.04, 0.06),
                    0.92,
                    0.88,
                    boxstyle="round,pad=0.01",
                    color=stat.colour,
                    alpha=0.25,
                    transform=axes.transAxes,
                )
            )
        axes.text(0.5, 0.58, stat.value, ha="center", va="center", fontsize=22, fontweight="bold")
        axes.text(0.5, 0.2, stat.label, ha="center", va="center", fontsize=9, wrap=True)
    return figure


def table_chart(
    frame: Frame,
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    cell_colours: Sequence[Sequence[str | None]] | None = None,
) -> Figure:
    """A table; the first :data:`MAX_TABLE_ROWS` rows, with a note on how many are left out."""
    shown = list(rows[:MAX_TABLE_ROWS])
    notes = list(frame.notes)
    if len(rows) > len(shown):
        notes.append(f"… 另有 {len(rows) - len(shown)} 行 ({len(rows) - len(shown)} more rows)")
    framed = Frame(frame.title, frame.subtitle, tuple(notes))
    figure = _figure(framed, (SIZE[0], max(2.4, 1.2 + 0.19 * (len(shown) + 1 + len(notes)))))
    axes = figure.add_subplot()
    axes.set_axis_off()
    if not shown:
        _no_data(axes)
        return figure
    colours = None
    if cell_colours is not None:
        colours = [[c or "white" for c in row] for row in cell_colours[: len(shown)]]
    table = axes.table(
        cellText=[[_cell(c) for c in row] for row in shown],
        colLabels=list(columns),
        cellColours=colours,
        loc="upper center",
        cellLoc="left",
    )
    table.auto_set_font_size(False)
    table.set_fontsize(8)
    table.auto_set_column_width(list(range(len(columns))))
    for (row, _), cell in table.get_celld().items():
        if row == 0:
            cell.set_facecolor("#eceff1")
            cell.set_text_props(fontweight="bold")
    return figure


def map_chart(frame: Frame, points: Sequence[MapPoint], missing: Sequence[str] = ()) -> Figure:
    """Stations at lon/lat coloured by class, with a legend of the classes present; the stations
    without coordinates are named in a note, so the map never looks complete when it is not."""
    notes = list(frame.notes)
    if missing:
        listed = ", ".join(missing[:12]) + (" …" if len(missing) > 12 else "")
        notes.append(
            f"{len(missing)} 个站点无坐标，未在图上 ({len(missing)} stations without "
            f"coordinates, not on the map): {listed}"
        )
    figure = _figure(Frame(frame.title, frame.subtitle, tuple(notes)))
    axes = figure.add_subplot()
    if not points:
        _no_data(axes)
        return figure
    for water_class in sorted({p.water_class or 0 for p in points}):
        group = [p for p in points if (p.water_class or 0) == water_class]
        axes.scatter(
            [p.lon for p in group],
            [p.lat for p in group],
            s=70,
            color=class_colour(water_class),
            edgecolors="#263238",
            linewidths=0.6,
            label=CLASS_NAMES.get(water_class, "无类别 no class"),
            zorder=3,
        )
    for point in points:
        axes.annotate(
            point.label,
            (point.lon, point.lat),
            xytext=(5, 4),
            textcoords="offset points",
            fontsize=8,
        )
    axes.set_xlabel("经度 longitude (°E)")
    axes.set_ylabel("纬度 latitude (°N)")
    axes.set_aspect("equal", adjustable="datalim")
    axes.margins(0.15)
    axes.grid(alpha=0.3)
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8, title="水质类别 class")
    return figure


def save_png(figure: Figure, path: Path) -> Path:
    """Write ``figure`` as a PNG whose ``Title`` text chunk is the figure's title."""
    path.parent.mkdir(parents=True, exist_ok=True)
    metadata = {"Title": figure.get_suptitle(), "Software": "basinwatch boards/charts.py"}
    figure.savefig(path, format="png", metadata=metadata)
    return path


def number_text(value: float) -> str:
    """A number as a chart writes it: integers whole, others to 3 significant digits."""
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.3g}"


def _cell(value: object) -> str:
    if isinstance(value, float):
        return number_text(value)
    text = str(value)
    return text if len(text) <= 40 else text[:39] + "…"


def stacked_bar_chart(
    frame: Frame,
    categories: Sequence[str],
    stacks: Sequence[tuple[str, str, Sequence[float]]],
    unit: str = "",
) -> Figure:
    """One horizontal bar per category, made of stacked parts ``(label, colour, values)`` (e.g.
    the class shares of each jurisdiction), each part's value written inside when it fits."""
    figure = _figure(frame)
    axes = figure.add_subplot()
    if not categories or not stacks:
        _no_data(axes)
        return figure
    left = [0.0] * len(categories)
    for label, colour, values in stacks:
        bars = axes.barh(list(categories), list(values), left=left, color=colour, label=label)
        texts = [number_text(v) + ("%" if unit == "%" else "") if v >= 6 else "" for v in values]
        axes.bar_label(bars, labels=texts, label_type="center", fontsize=9)
        left = [a + b for a, b in zip(left, values, strict=True)]
    axes.invert_yaxis()
    axes.set_xlabel(unit)
    axes.grid(axis="x", alpha=0.3)
    axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    return figure
