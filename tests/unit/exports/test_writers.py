"""The writers on a hand-made export: XLSX read back with openpyxl (sheets, numbers, headers,
frozen rows, class colours), CSV (BOM, keys, classes as numbers), PDF (pdftotext, pdftoppm)."""

from __future__ import annotations

import csv
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from matplotlib import image as mpimg
from openpyxl import load_workbook

from boards.colours import CLASS_COLOURS
from exports.files import write_export
from exports.model import Column, Export, Kind, Table

COLUMNS = (
    Column("station", "站点编码", "station id"),
    Column("name", "断面名称", "section name"),
    Column("class", "本月水质类别", "class this month", Kind.CLASS),
    Column("target_met", "是否达标", "target met", Kind.YES_NO),
    Column("main_pollutants", "主要污染指标", "main pollutants"),
    Column("completeness", "数据完整率", "data completeness", Kind.PERCENT, "%"),
    Column("tp", "总磷", "total phosphorus", Kind.NUMBER, "mg/L", 3),
)
ROWS = (
    ("JS-TH-001", "西山", 4, False, "总磷(0.52)", 96.7, 0.076),
    ("ZJ-TH-002", "新塘港", 3, True, "", 100.0, 0.15),
    ("SH-CJ-003", "淀峰", 6, False, "氨氮(1.10)、总磷(0.76)", 50.0, 0.352),
    ("AH-TH-004", "无数据站", None, None, "", None, None),
)


def export() -> Export:
    sections = Table("sections", "断面水质", "Sections", COLUMNS, ROWS)
    other = Table(
        "alerts",
        "超标与告警",
        "Exceedances and alerts",
        (Column("measure", "项目代码", "measure"), Column("value", "数值", "value", Kind.NUMBER)),
        (("breaches", 12.0),),
    )
    summary = "2021年4月，太湖流域3个断面中，Ⅰ～Ⅲ类占33.3%，主要污染指标为总磷。"
    return Export("2021-04", None, "basinwatch", summary, (sections, other))


def test_a_row_of_the_wrong_width_is_refused() -> None:
    with pytest.raises(ValueError, match="row 1 has 1 cells"):
        Table("t", "表", "table", COLUMNS, (("only one",),))


def test_xlsx_has_a_sheet_per_table_numbers_as_numbers_and_class_colours(tmp_path: Path) -> None:
    (path,) = write_export(export(), tmp_path, ["xlsx"])
    assert path.name == "basinwatch-2021-04-basin.xlsx"
    book = load_workbook(path)
    assert book.sheetnames == ["断面水质", "超标与告警"]
    sheet = book["断面水质"]
    assert sheet.freeze_panes == "A3"
    assert [c.value for c in sheet[1]][-1] == "总磷(mg/L)"
    assert [c.value for c in sheet[2]][-1] == "total phosphorus (mg/L)"
    assert sheet["G3"].value == pytest.approx(0.076)
    assert isinstance(sheet["G3"].value, float)
    assert sheet["G3"].number_format == "0.000"
    assert sheet["F5"].value == pytest.approx(50.0)
    assert sheet["C3"].value == "Ⅳ类"
    assert sheet["C5"].value == "劣Ⅴ类"
    assert sheet["C3"].fill.fgColor.rgb == "FF" + CLASS_COLOURS[4].lstrip("#").upper()
    assert sheet["C4"].fill.fgColor.rgb == "FF" + CLASS_COLOURS[3].lstrip("#").upper()
    assert sheet["C5"].fill.fgColor.rgb == "FF" + CLASS_COLOURS[6].lstrip("#").upper()
    assert sheet["C6"].value is None and sheet["C6"].fill.fill_type is None
    assert sheet["D3"].value == "否" and sheet["D4"].value == "是"
    assert book["超标与告警"]["B3"].value == 12.0


def test_csv_is_utf8_with_bom_one_file_per_table_keys_and_class_numbers(tmp_path: Path) -> None:
    paths = write_export(export(), tmp_path, ["csv"])
    assert [p.name for p in paths] == [
        "basinwatch-2021-04-basin-sections.csv",
        "basinwatch-2021-04-basin-alerts.csv",
    ]
    raw = paths[0].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    with paths[0].open(encoding="utf-8-sig", newline="") as file:
        rows = list(csv.DictReader(file))
    assert list(rows[0]) == [c.key for c in COLUMNS]
    assert [r["class"] for r in rows] == ["4", "3", "6", ""]
    assert rows[2]["main_pollutants"] == "氨氮(1.10)、总磷(0.76)"
    assert rows[2]["name"] == "淀峰"
    assert [r["target_met"] for r in rows] == ["0", "1", "0", ""]
    assert float(rows[0]["tp"]) == pytest.approx(0.076)


def test_an_unknown_format_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown format docx"):
        write_export(export(), tmp_path, ["docx"])


def test_pdf_text_has_the_summary_sections_and_classes_and_pages_are_not_blank(
    tmp_path: Path,
) -> None:
    assert shutil.which("pdftotext"), "poppler-utils missing: run deploy/local/fonts.sh install"
    (path,) = write_export(export(), tmp_path, ["pdf"])
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    assert "太湖流域水质月报 2021年4月" in text
    assert "Ⅰ～Ⅲ类占33.3%" in text
    for name, water_class in (("西山", "Ⅳ类"), ("新塘港", "Ⅲ类"), ("淀峰", "劣Ⅴ类")):
        assert name in text
        assert water_class in text
    assert "总磷(0.52)" in text
    subprocess.run(["pdftoppm", "-r", "30", "-png", str(path), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) == 4  # title, summary, two tables
    for page in pages:
        pixels = np.asarray(mpimg.imread(page))[..., :3]
        assert (pixels < 0.5).mean() > 0.001, f"{page.name} is blank"
