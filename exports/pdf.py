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
table's first (identifying) columns; column widths follow their text so a page's table fits its
width (the font gets smaller, down to :data:`MIN_FONT`, when it would not). A table longer than
:data:`MAX_PDF_ROWS` rows shows that many and says how many more the XLSX and CSV hold.
"""

from __future__ import annotations

import math
import re
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
ROWS_PER_PAGE = 36
COLUMNS_PER_PART = 14
#: Longer tables (the sharing list's items) are cut in the PDF: the XLSX and CSV have them all.
MAX_PDF_ROWS = 144
TABLE_FONT = 7.0
MIN_FONT = 5.0
#: Display columns (a CJK character is two) that fit across the page at TABLE_FONT.
PAGE_COLUMNS = 200
HEADER_WIDTH = 16
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
    return [stripped for line in lines if (stripped := line.strip())]


def _chunks(items: Sequence[int], most: int) -> list[list[int]]:
    """``items`` in as few chunks of at most ``most`` as possible, of even sizes."""
    if not items:
        return []
    count = math.ceil(len(items) / most)
    size = math.ceil(len(items) / count)
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


def _parts(needs: Sequence[int]) -> list[list[int]]:
    """Column indexes of each part of a table: the key columns, then as many of the others as
    fit the page's width (``needs``: each column's display width), at most
    :data:`COLUMNS_PER_PART` in all, in even parts."""
    if sum(needs) <= PAGE_COLUMNS and len(needs) <= COLUMNS_PER_PART:
        return [list(range(len(needs)))]
    keys = list(range(min(KEY_COLUMNS, len(needs))))
    room = PAGE_COLUMNS - sum(needs[i] for i in keys)
    count, used, fitted = 1, 0, 0
    for index in range(len(keys), len(needs)):
        if fitted and (used + needs[index] > room or fitted >= COLUMNS_PER_PART - len(keys)):
            count, used, fitted = count + 1, 0, 0
        used, fitted = used + needs[index], fitted + 1
    rest = list(range(len(keys), len(needs)))
    size = math.ceil(len(rest) / count)
    return [keys + rest[i : i + size] for i in range(0, len(rest), size)]


def _needs(columns: Sequence[Column], cells: Sequence[Sequence[str]]) -> list[int]:
    """Each column's display width: its longest header or cell line, plus padding."""
    headers = [_header(c) for c in columns]
    return [
        max(_width(line) for text in [h, *(row[i] for row in cells)] for line in text.split("\n"))
        + 2
        for i, h in enumerate(headers)
    ]


def _width(text: str) -> int:
    """Display width: a CJK (full-width) character is two columns."""
    return sum(1 if ch.isascii() else 2 for ch in text)


def _header(column: Column) -> str:
    lines = wrap_cjk(column.zh, HEADER_WIDTH) + wrap_cjk(column.en, HEADER_WIDTH)
    if column.unit:
        lines.append(f"({column.unit})")
    return "\n".join(lines)


def _table_page(
    table: Table, columns: Sequence[Column], cells: list[list[str]], colours: list[list[str]]
) -> Figure:
    figure = Figure(figsize=A4_LANDSCAPE)
    axes = figure.add_axes((0.03, 0.06, 0.94, 0.86))
    axes.set_axis_off()
    headers = [_header(c) for c in columns]
    # Column widths from the longest line of each column, so the table fits the page's width;
    # when the text needs more, the font is made smaller instead.
    needs = _needs(columns, cells)
    total = sum(needs)
    fontsize = max(MIN_FONT, min(TABLE_FONT, TABLE_FONT * PAGE_COLUMNS / total))
    drawn = axes.table(
        cellText=cells,
        colLabels=headers,
        cellColours=colours,
        colWidths=[n * fontsize / TABLE_FONT / PAGE_COLUMNS for n in needs],
        loc="upper left",
        cellLoc="left",
    )
    drawn.auto_set_font_size(False)
    drawn.set_fontsize(fontsize)
    lines = max(h.count("\n") + 1 for h in headers)
    row_height = 1.0 / (ROWS_PER_PAGE + 4 + lines)
    for (row, _), cell in drawn.get_celld().items():
        cell.set_height(row_height * (lines * 0.8 + 0.4) if row == 0 else row_height)
        cell.PAD = 0.04
        if row == 0:
            cell.set_facecolor("#eceff1")
            cell.set_text_props(fontweight="bold")
    return figure


def _table_pages(table: Table) -> list[Figure]:
    shown = table.rows[:MAX_PDF_ROWS]
    parts = _parts(_needs(table.columns, [texts(row, table.columns) for row in shown]))
    notes = list(table.notes)
    if len(table.rows) > len(shown):
        left = len(table.rows) - len(shown)
        notes.append(f"另有 {left} 行见 XLSX/CSV ({left} more rows in the XLSX and CSV files).")
    chunks = _chunks(range(len(shown)), ROWS_PER_PAGE) or [[]]
    pages: list[Figure] = []
    total = len(parts) * len(chunks)
    for chunk_number, chunk in enumerate(chunks, 1):
        for part_number, part in enumerate(parts, 1):
            columns = [table.columns[i] for i in part]
            rows = [shown[r] for r in chunk]
            if rows:
                cells = [texts([row[i] for i in part], columns) for row in rows]
                colours = [[_colour(row[i], table.columns[i]) for i in part] for row in rows]
                figure = _table_page(table, columns, cells, colours)
            else:
                figure = Figure(figsize=A4_LANDSCAPE)
                figure.text(0.5, 0.5, charts.NO_DATA, ha="center", fontsize=18, color="#757575")
            heading = f"{table.zh} {table.en}"
            if total > 1:
                number = (chunk_number - 1) * len(parts) + part_number
                heading += f"  ({number}/{total})"
            figure.text(0.03, 0.95, heading, fontsize=13, fontweight="bold")
            if notes and chunk_number == len(chunks):
                figure.text(0.03, 0.025, "  ".join(notes), fontsize=8, color="#555")
            pages.append(figure)
    return pages


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
