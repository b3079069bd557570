"""The export as CSV files, one per table: UTF-8 with a byte-order mark (so Excel opens the
Chinese), the stable English snake_case column keys as the header (docs/exports.md), classes as
the numbers 1..6 (6 = 劣Ⅴ, empty when none), yes/no as 1/0, numbers unrounded."""

from __future__ import annotations

import csv
from pathlib import Path

from exports.model import Column, Export, Kind, Table, Value

ENCODING = "utf-8-sig"


def _cell(value: Value, column: Column) -> str | float | int:
    if value is None:
        return ""
    if column.kind is Kind.YES_NO:
        return 1 if value else 0
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float):
        return repr(value)
    return value


def write_table(table: Table, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding=ENCODING, newline="") as file:
        writer = csv.writer(file)
        writer.writerow([c.key for c in table.columns])
        for row in table.rows:
            writer.writerow([_cell(v, c) for v, c in zip(row, table.columns, strict=True)])
    return path


def write_csv(export: Export, directory: Path, stem: str) -> list[Path]:
    """One ``{stem}-{table}.csv`` per table in ``directory``; the paths."""
    return [write_table(t, directory / f"{stem}-{t.key}.csv") for t in export.tables]
