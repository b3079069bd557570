"""The table model every writer shares: a table is a key, titles and columns, then rows of plain
values. A column has a Chinese header (as the bulletins print it), an English header, a stable
snake_case key (the CSV header, documented in docs/exports.md), a unit and a kind that says how a
value is written. The XLSX, CSV and PDF writers (:mod:`exports.xlsx`, :mod:`exports.csv`,
:mod:`exports.pdf`) read nothing else, so the same tables go into every format.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from stations.standard.gb3838 import CLASS_NAMES

#: A cell: text, a number, a class (int 1..6), a yes/no, or nothing.
Value = str | float | int | bool | None


class Kind(StrEnum):
    """How a column's values are written."""

    TEXT = "text"
    NUMBER = "number"  # a float, written to the column's digits
    INTEGER = "integer"
    PERCENT = "percent"  # a float 0..100, written as a number with "%" in the header's unit
    CLASS = "class"  # GB 3838 class 1..6 (6 = 劣Ⅴ); CSV: the number, XLSX/PDF: Ⅲ类, coloured
    CHANGE = "change"  # a class change, >0 worse; written +1 / -1 / 0
    YES_NO = "yes_no"  # bool: 是 / 否


@dataclass(frozen=True)
class Column:
    """One column: ``key`` is the stable English snake_case name (CSV header)."""

    key: str
    zh: str
    en: str
    kind: Kind = Kind.TEXT
    unit: str = ""
    digits: int = 3

    def header_zh(self) -> str:
        """The Chinese header with its unit: ``总磷(mg/L)``."""
        return f"{self.zh}({self.unit})" if self.unit else self.zh

    def header_en(self) -> str:
        """The English header with its unit: ``total phosphorus (mg/L)``."""
        return f"{self.en} ({self.unit})" if self.unit else self.en


@dataclass(frozen=True)
class Table:
    """One table of the export: its key names the sheet and the CSV file."""

    key: str
    zh: str
    en: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Value, ...], ...]
    notes: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        width = len(self.columns)
        for number, row in enumerate(self.rows, 1):
            if len(row) != width:
                raise ValueError(
                    f"table {self.key}: row {number} has {len(row)} cells, not {width}"
                )

    def column(self, key: str) -> int:
        """The index of the column ``key``."""
        for index, column in enumerate(self.columns):
            if column.key == key:
                return index
        raise KeyError(f"table {self.key} has no column {key!r}")

    def values(self, key: str) -> list[Value]:
        """Every row's value in the column ``key``."""
        index = self.column(key)
        return [row[index] for row in self.rows]


@dataclass(frozen=True)
class Export:
    """Everything one export writes: the tables, the summary paragraph, and what it is of."""

    month: str  # "2021-04"
    party: str | None  # None: the basin-wide export of all data
    bucket: str
    summary: str
    tables: tuple[Table, ...]

    def table(self, key: str) -> Table:
        for table in self.tables:
            if table.key == key:
                return table
        raise KeyError(f"no table {key!r}")

    @property
    def scope(self) -> str:
        """``basin`` or the party code, as in file names."""
        return self.party or "basin"


def text(value: Value, column: Column) -> str:
    """A cell as the PDF (and any text view) shows it."""
    if value is None:
        return ""
    if column.kind is Kind.CLASS and isinstance(value, int):
        return CLASS_NAMES.get(value, str(value))
    if column.kind is Kind.YES_NO:
        return "是" if value else "否"
    if column.kind is Kind.CHANGE and isinstance(value, int):
        return f"{value:+d}" if value else "0"
    if column.kind is Kind.PERCENT and isinstance(value, int | float):
        return f"{value:.1f}"
    if column.kind is Kind.NUMBER and isinstance(value, int | float):
        return f"{value:.{column.digits}f}"
    return str(value)


def texts(row: Sequence[Value], columns: Sequence[Column]) -> list[str]:
    return [text(value, column) for value, column in zip(row, columns, strict=True)]
