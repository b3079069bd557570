"""CSV exports of the national real-time publishing system (CNEMC), and re-classing them.

One file per section; header::

    省份,流域,断面名称,监测时间,水质类别,水温(℃),pH(无量纲),溶解氧(mg/L),电导率(μS/cm),浊度(NTU),
    高锰酸盐指数(mg/L),氨氮(mg/L),总磷(mg/L),总氮(mg/L),叶绿素α(mg/L),藻密度(cells/L),站点情况

Times are Beijing time ``MM-DD HH:MM`` without a year (the caller gives it); ``*`` and ``--`` mean
not published; rows without a time (``*``) keep ``observed_at=None``; repeated rows are kept as
they are (the scrape repeated some midnight rows). Measurement columns are recognised by their
Chinese name and their unit is converted to the canonical one.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from stations import parameters
from stations.errors import ClassificationError, CnemcFormatError, UnitError
from stations.formats.hj212 import BEIJING
from stations.registry import Registry
from stations.standard.gb3838 import ASSESSED, CLASS_NAMES, Assessment, classify_report, parse_class

#: Published column name (without its unit) -> parameter key.
COLUMN_PARAMETERS: Mapping[str, str] = {
    "水温": "temp",
    "pH": "ph",
    "溶解氧": "do",
    "电导率": "cond",
    "浊度": "turb",
    "高锰酸盐指数": "codmn",
    "化学需氧量": "cod",
    "氨氮": "nh3n",
    "总磷": "tp",
    "总氮": "tn",
    "叶绿素α": "chla",
    "叶绿素a": "chla",
    "藻密度": "algae",
}

_LEADING = ("省份", "流域", "断面名称", "监测时间", "水质类别")
_TRAILING = "站点情况"
_NOT_PUBLISHED = frozenset({"", "*", "--", "-"})
_TIME = re.compile(r"(\d{2})-(\d{2}) (\d{2}):(\d{2})")
_COLUMN = re.compile(r"(?P<name>[^()（）]+)[(（](?P<unit>[^()（）]*)[)）]")


@dataclass(frozen=True)
class CnemcRow:
    """One published result. ``values`` holds the published parameters, canonical units."""

    path: str
    line: int
    province: str
    basin: str
    section: str
    observed_at: datetime | None
    published_class: int | None
    values: Mapping[str, float]
    status: str


@dataclass(frozen=True)
class ClassifiedRow:
    """A published row with our GB 3838 reading of it."""

    row: CnemcRow
    assessment: Assessment

    @property
    def agrees(self) -> bool | None:
        """None when the row has no published class, else whether our class is the same."""
        if self.row.published_class is None:
            return None
        return self.row.published_class == self.assessment.cls

    def as_json(self) -> dict[str, object]:
        """The JSON line written by ``basin classify``."""
        row = self.row
        return {
            "section": row.section,
            "observed_at": row.observed_at.isoformat() if row.observed_at else None,
            "status": row.status,
            "class": self.assessment.cls,
            "limiting": list(self.assessment.limiting),
            "classes": dict(self.assessment.classes),
        }

    def explain(self) -> str:
        """One line for a human: where, published vs computed, and the assessed values."""
        row = self.row
        when = row.observed_at.strftime("%m-%d %H:%M") if row.observed_at else "no time"
        published = _class_label(row.published_class)
        computed = _class_label(self.assessment.cls)
        factors = ", ".join(
            f"{name}={row.values[name]:g} {_class_label(self.assessment.classes.get(name))}"
            for name in ASSESSED
            if name in row.values
        )
        return (
            f"{row.path}:{row.line}: {row.section} {when}: published {published}, "
            f"computed {computed} ({factors})"
        )


@dataclass(frozen=True)
class Agreement:
    """How many rows have a published class and how many of those we reproduce."""

    rows: int
    published: int
    agree: int
    mismatches: tuple[ClassifiedRow, ...]

    @property
    def percent(self) -> float:
        """Agreement in percent of the rows with a published class (0 when there is none)."""
        return 100.0 * self.agree / self.published if self.published else 0.0


def read_cnemc(path: str | Path, *, year: int) -> list[CnemcRow]:
    """Read one export; CnemcFormatError names the file and line of anything malformed."""
    name = str(path)
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            return list(_rows(name, csv.reader(handle), year))
    except (OSError, UnicodeDecodeError) as exc:
        raise CnemcFormatError(f"{name}: cannot read: {exc}") from exc
    except csv.Error as exc:
        raise CnemcFormatError(f"{name}: not CSV: {exc}") from exc


def classify_rows(rows: Iterable[CnemcRow], registry: Registry) -> list[ClassifiedRow]:
    """Class each row with its section's water body from the registry.

    UnknownStationError names a section missing from the registry.
    """
    result: list[ClassifiedRow] = []
    for row in rows:
        station = registry.by_name(row.section)
        result.append(ClassifiedRow(row, classify_report(row.values, station.water_body)))
    return result


def agreement(classified: Sequence[ClassifiedRow]) -> Agreement:
    """Compare our classes with the published ones."""
    published = [c for c in classified if c.agrees is not None]
    mismatches = tuple(c for c in published if not c.agrees)
    return Agreement(
        rows=len(classified),
        published=len(published),
        agree=len(published) - len(mismatches),
        mismatches=mismatches,
    )


def _rows(path: str, reader: Iterable[list[str]], year: int) -> Iterable[CnemcRow]:
    columns: list[str] | None = None
    for line, fields in enumerate(reader, start=1):
        if not any(field.strip() for field in fields):
            continue
        if columns is None:
            columns = _header(path, line, fields)
            continue
        if len(fields) != len(columns) + len(_LEADING) + 1:
            expected = len(columns) + len(_LEADING) + 1
            raise CnemcFormatError(f"{path}:{line}: {len(fields)} fields, expected {expected}")
        yield _row(path, line, fields, columns, year)
    if columns is None:
        raise CnemcFormatError(f"{path}: empty file, no header")


def _header(path: str, line: int, fields: list[str]) -> list[str]:
    fields = [field.strip() for field in fields]
    if tuple(fields[: len(_LEADING)]) != _LEADING or fields[-1] != _TRAILING:
        raise CnemcFormatError(
            f"{path}:{line}: not a CNEMC export header; expected {','.join(_LEADING)},...,"
            f"{_TRAILING}, got {','.join(fields)}"
        )
    keys: list[str] = []
    factors: list[float] = []
    for column in fields[len(_LEADING) : -1]:
        match = _COLUMN.fullmatch(column)
        key = COLUMN_PARAMETERS.get(match["name"]) if match else None
        if match is None or key is None:
            raise CnemcFormatError(f"{path}:{line}: unknown column {column!r}")
        try:
            factors.append(parameters.unit_factor(key, match["unit"]))
        except UnitError as exc:
            raise CnemcFormatError(f"{path}:{line}: column {column!r}: {exc}") from exc
        keys.append(f"{key}\t{match['unit']}")
    return keys


def _row(path: str, line: int, fields: list[str], columns: list[str], year: int) -> CnemcRow:
    province, basin, section, when, published = (f.strip() for f in fields[: len(_LEADING)])
    if not section:
        raise CnemcFormatError(f"{path}:{line}: no section name (断面名称)")
    try:
        published_class = parse_class(published)
    except ClassificationError as exc:
        raise CnemcFormatError(f"{path}:{line}: 水质类别: {exc}") from exc
    values: dict[str, float] = {}
    for column, text in zip(columns, fields[len(_LEADING) : -1], strict=True):
        key, unit = column.split("\t")
        value = text.strip()
        if value in _NOT_PUBLISHED:
            continue
        try:
            number = float(value)
        except ValueError:
            raise CnemcFormatError(f"{path}:{line}: {key}: not a number: {value!r}") from None
        if not math.isfinite(number):
            raise CnemcFormatError(f"{path}:{line}: {key}: not a finite number: {value!r}")
        values[key] = parameters.convert(key, number, unit)
    return CnemcRow(
        path=path,
        line=line,
        province=province,
        basin=basin,
        section=section,
        observed_at=_time(path, line, when, year),
        published_class=published_class,
        values=values,
        status=fields[-1].strip(),
    )


def _time(path: str, line: int, text: str, year: int) -> datetime | None:
    if text in _NOT_PUBLISHED:
        return None
    match = _TIME.fullmatch(text)
    if match is None:
        raise CnemcFormatError(f"{path}:{line}: 监测时间 {text!r} is not 'MM-DD HH:MM'")
    month, day, hour, minute = (int(part) for part in match.groups())
    try:
        return datetime(year, month, day, hour, minute, tzinfo=BEIJING)
    except ValueError as exc:
        raise CnemcFormatError(f"{path}:{line}: 监测时间 {text!r}: {exc}") from None


def _class_label(cls: int | None) -> str:
    return "*" if cls is None else CLASS_NAMES[cls]
