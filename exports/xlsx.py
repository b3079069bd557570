"""The export as one XLSX workbook (openpyxl): one sheet per table, numbers stored as numbers,
two header rows (Chinese with units, then English) frozen above the data, and class cells filled
in the national class colours (:mod:`boards.colours`, the same as the boards and charts)."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from boards.colours import CLASS_COLOURS
from exports.model import Column, Export, Kind, Table, Value, text

HEADER_FILL = PatternFill("solid", fgColor="ECEFF1")
#: Sheet names: at most 31 characters, Chinese first so Excel users know the tab.
SHEET_NAME_LIMIT = 31


def class_fill(water_class: int) -> PatternFill:
    """The solid fill of a class cell: ``CLASS_COLOURS`` as opaque ARGB."""
    return PatternFill("solid", fgColor="FF" + CLASS_COLOURS[water_class].lstrip("#").upper())


def _cell_value(value: Value, column: Column) -> str | float | int | None:
    if value is None:
        return None
    if column.kind in (Kind.NUMBER, Kind.PERCENT) and isinstance(value, int | float):
        return float(value)
    if column.kind in (Kind.INTEGER, Kind.CHANGE) and isinstance(value, int):
        return int(value)
    return text(value, column)


def _number_format(column: Column) -> str | None:
    if column.kind is Kind.NUMBER:
        return "0." + "0" * column.digits if column.digits else "0"
    if column.kind is Kind.PERCENT:
        return "0.0"
    if column.kind is Kind.CHANGE:
        return "+0;-0;0"
    return None


def _sheet(workbook: Workbook, table: Table) -> None:
    sheet = workbook.create_sheet(table.zh[:SHEET_NAME_LIMIT])
    bold = Font(bold=True)
    for index, column in enumerate(table.columns, 1):
        for row, header in ((1, column.header_zh()), (2, column.header_en())):
            cell = sheet.cell(row=row, column=index, value=header)
            cell.font = bold if row == 1 else Font(italic=True, color="455A64")
            cell.fill = HEADER_FILL
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        width = max(len(column.header_zh()) * 2, len(column.header_en()), 6)
        sheet.column_dimensions[get_column_letter(index)].width = min(width + 2, 40)
    formats = [_number_format(c) for c in table.columns]
    for number, values in enumerate(table.rows, 3):
        for index, (value, column) in enumerate(zip(values, table.columns, strict=True), 1):
            cell = sheet.cell(row=number, column=index, value=_cell_value(value, column))
            if formats[index - 1] is not None:
                cell.number_format = formats[index - 1] or "General"
            if column.kind is Kind.CLASS and isinstance(value, int) and value in CLASS_COLOURS:
                cell.fill = class_fill(value)
    sheet.freeze_panes = "A3"
    if table.notes:
        first = len(table.rows) + 4
        for offset, note in enumerate(table.notes):
            sheet.cell(row=first + offset, column=1, value=note).font = Font(color="616161")


def write_xlsx(export: Export, path: Path) -> Path:
    """Write the workbook to ``path``; the path."""
    workbook = Workbook()
    default = workbook.active
    if default is not None:
        workbook.remove(default)
    for table in export.tables:
        _sheet(workbook, table)
    workbook.properties.title = f"basinwatch {export.month} {export.scope}"
    workbook.properties.creator = "basinwatch"
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path
