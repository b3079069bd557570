"""The export as an A4 PDF for the joint meeting: a title page, the summary in the bulletins'
style, the charts (drawn by the boards' charting code, :mod:`boards.charts`) and every table.

Made with matplotlib's ``PdfPages``: matplotlib is already the project's charting library, so the
charts are the boards' own, vector, and the Chinese is drawn with the same Debian CJK font
(``fonts-noto-cjk``, found by :func:`boards.charts.use_cjk_font`) embedded as a CID font
(``pdf.fonttype`` 42), so that the text can be searched and copied (pdftotext reads it). reportlab
was not chosen: it embeds TrueType outlines only, and Noto CJK is an OpenType/CFF collection;
its built-in CID fonts are not embedded and depend on the reader's fonts.

Tables are split over pages so nothing is cut: at most :data:`ROWS_PER_PAGE` rows per page, and
wide tables in parts of at most :data:`COLUMNS_PER_PART` columns, each part repeating the
table's first (identifying) columns.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import matplotlib
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from boards import charts
from boards.colours import CLASS_COLOURS
from exports.model import Column, Export, Kind, Table, texts

#: A4 in inches, portrait and landscape.
A4_PORTRAIT = (8.27, 11.69)
A4_LANDSCAPE = (11.69, 8.27)
ROWS_PER_PAGE = 26
COLUMNS_PER_PART = 12
#: The columns that identify a row, repeated in every part of a wide table.
KEY_COLUMNS = 2


def _title_page(export: Export, title: str) -> Figure:
    figure = Figure(figsize=A4_PORTRAIT)
    figure.text(0.5, 0.68, title, ha="center", fontsize=22, fontweight="bold")
    scope = (
        f"数据范围：{export.party} 的共享视图" if export.party else "数据范围：全流域（全部数据）"
    )
    lines = [
        f"{export.month[:4]}年{int(export.month[5:7])}月",
        scope,
        f"InfluxDB bucket: {export.bucket}",
        "评价方法：《地表水环境质量评价办法（试行）》（环办〔2011〕22号），GB 3838-2002",
        f"生成 generated: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC · basinwatch",
    ]
    for index, line in enumerate(lines):
        figure.text(0.5, 0.58 - index * 0.04, line, ha="center", fontsize=12 if index else 16)
    return figure


def _summary_page(export: Export) -> Figure:
    figure = Figure(figsize=A4_PORTRAIT)
    figure.text(0.08, 0.93, "概述 Summary", fontsize=16, fontweight="bold")
    wrapped = "\n".join(wrap_cjk(export.summary, 76))
    figure.text(0.08, 0.89, wrapped, fontsize=12, va="top", linespacing=1.8)
    return figure


def wrap_cjk(text: str, width: int) -> list[str]:
    """Lines of at most ``width`` columns, a CJK character two columns wide, never breaking a
    run of Latin letters and digits (``13.9%`` stays whole) and never starting a line with
    closing punctuation."""
    tokens = re.findall(r"[0-9A-Za-z.%()+\-]+|.", text)
    lines: list[str] = []
    line, used = "", 0
    for token in tokens:
        size = sum(1 if ch.isascii() else 2 for ch in token)
        if used + size > width and line and token not in "，。、；：）%":
            lines.append(line)
            line, used = "", 0
        line += token
        used += size
    if line:
        lines.append(line)
    return lines


def _parts(columns: Sequence[Column]) -> list[list[int]]:
    """Column indexes of each part of a table: the key columns, then the rest in chunks."""
    if len(columns) <= COLUMNS_PER_PART:
        return [list(range(len(columns)))]
    keys = list(range(min(KEY_COLUMNS, len(columns))))
    rest = list(range(len(keys), len(columns)))
    size = COLUMNS_PER_PART - len(keys)
    return [keys + rest[i : i + size] for i in range(0, len(rest), size)]


def _table_pages(table: Table) -> list[Figure]:
    parts = _parts(table.columns)
    row_chunks = [
        table.rows[i : i + ROWS_PER_PAGE] for i in range(0, len(table.rows), ROWS_PER_PAGE)
    ]
    pages: list[Figure] = []
    total = len(parts) * max(len(row_chunks), 1)
    for part_number, part in enumerate(parts, 1):
        columns = [table.columns[i] for i in part]
        for chunk_number, chunk in enumerate(row_chunks or [()], 1):
            figure = Figure(figsize=A4_LANDSCAPE)
            heading = f"{table.zh} {table.en}"
            if total > 1:
                heading += (
                    f"  ({(part_number - 1) * len(row_chunks or [()]) + chunk_number}/{total})"
                )
            figure.text(0.04, 0.95, heading, fontsize=13, fontweight="bold")
            axes = figure.add_axes((0.03, 0.08, 0.94, 0.84))
            axes.set_axis_off()
            if not chunk:
                axes.text(0.5, 0.5, charts.NO_DATA, ha="center", fontsize=18, color="#757575")
                pages.append(figure)
                continue
            cells = [texts([row[i] for i in part], columns) for row in chunk]
            colours = [[_colour(row[i], table.columns[i]) for i in part] for row in chunk]
            headers = [f"{c.header_zh()}\n{c.en}" for c in columns]
            drawn = axes.table(
                cellText=cells,
                colLabels=[_wrap(h) for h in headers],
                cellColours=colours,
                loc="upper center",
                cellLoc="left",
            )
            drawn.auto_set_font_size(False)
            drawn.set_fontsize(7)
            drawn.auto_set_column_width(list(range(len(columns))))
            for (row, _), cell in drawn.get_celld().items():
                if row == 0:
                    cell.set_facecolor("#eceff1")
                    cell.set_height(cell.get_height() * 3.4)
                    cell.set_text_props(fontweight="bold")
            if table.notes and chunk_number == len(row_chunks):
                figure.text(0.04, 0.03, "  ".join(table.notes), fontsize=8, color="#555")
            pages.append(figure)
    return pages


def _wrap(header: str) -> str:
    return "\n".join(
        "\n".join(textwrap.wrap(line, 18)) if line.isascii() else line
        for line in header.split("\n")
    )


def _colour(value: object, column: Column) -> str:
    if column.kind is Kind.CLASS and isinstance(value, int) and value in CLASS_COLOURS:
        return CLASS_COLOURS[value]
    return "white"


def write_pdf(export: Export, path: Path, title: str, figures: Sequence[Figure] = ()) -> Path:
    """Write the PDF to ``path``: title page, summary, the charts (figures of
    :mod:`boards.charts`, each drawn on an A4 landscape page), then every table."""
    charts.use_cjk_font()
    path.parent.mkdir(parents=True, exist_ok=True)
    with matplotlib.rc_context({"pdf.fonttype": 42}), PdfPages(path) as pdf:
        pdf.savefig(_title_page(export, title))
        pdf.savefig(_summary_page(export))
        for figure in figures:
            figure.set_size_inches(*A4_LANDSCAPE)
            pdf.savefig(figure)
        for table in export.tables:
            for page in _table_pages(table):
                pdf.savefig(page)
        info = pdf.infodict()
        info["Title"] = title
        info["Creator"] = "basinwatch exports/pdf.py"
    return path
