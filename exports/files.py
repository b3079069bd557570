"""Writing one export in the formats asked for, with the file names the docs give
(docs/exports.md): ``basinwatch-2021-04-basin.xlsx``, ``basinwatch-2021-04-ZJ.pdf``,
``basinwatch-2021-04-basin-sections.csv`` ..."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from matplotlib.figure import Figure

from exports.csv import write_csv
from exports.model import Export

FORMATS = ("xlsx", "csv", "pdf")


def stem(export: Export) -> str:
    return f"basinwatch-{export.month}-{export.scope}"


def title(export: Export) -> str:
    year, month = export.month.split("-")
    who = "" if export.party is None else f"（{export.party}）"
    return f"太湖流域水质月报{who} {year}年{int(month)}月"


def write_export(
    export: Export,
    out: Path,
    formats: Sequence[str] = FORMATS,
    figures: Callable[[], Sequence[Figure]] = list,
    progress: Callable[[str], None] = lambda _: None,
) -> list[Path]:
    """Write ``export`` into ``out`` in each of ``formats``; every path written, in order.
    ``figures`` makes the PDF's charts (only called when a PDF is asked for)."""
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ValueError(f"unknown format {', '.join(unknown)}; known: {', '.join(FORMATS)}")
    written: list[Path] = []
    name = stem(export)
    for fmt in formats:
        progress(f"writing {fmt}")
        if fmt == "xlsx":
            from exports.xlsx import write_xlsx

            written.append(write_xlsx(export, out / f"{name}.xlsx"))
        elif fmt == "csv":
            written.extend(write_csv(export, out, name))
        else:
            from boards.charts import use_cjk_font
            from exports.pdf import write_pdf

            use_cjk_font()  # before the charts are made: their texts keep the font they get
            written.append(write_pdf(export, out / f"{name}.pdf", title(export), figures()))
    return written
