"""Reading CNEMC exports: real files, unit columns, missing marks, malformed input."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from stations.errors import CnemcFormatError, UnknownStationError
from stations.formats.cnemc import agreement, classify_rows, read_cnemc
from stations.registry import Registry

HEADER = (
    "省份,流域,断面名称,监测时间,水质类别,水温(℃),pH(无量纲),溶解氧(mg/L),电导率(μS/cm),浊度(NTU),"
    "高锰酸盐指数(mg/L),氨氮(mg/L),总磷(mg/L),总氮(mg/L),叶绿素α(mg/L),藻密度(cells/L),站点情况\n"
)
CST = timezone(timedelta(hours=8))


def write(tmp_path: Path, body: str, header: str = HEADER) -> Path:
    path = tmp_path / "section.csv"
    path.write_text(header + body, encoding="utf-8")
    return path


def test_real_file(cnemc_dir: Path) -> None:
    rows = read_cnemc(cnemc_dir / "西山.csv", year=2021)
    assert len(rows) == 28
    first = rows[0]
    # 江苏省,太湖流域,西山,04-01 04:00,Ⅲ,
    #   17.6,7.48,9.32,440.2,64.6,1.88,0.110,0.048,1.98,0.005,*,正常
    assert (first.province, first.basin, first.section) == ("江苏省", "太湖流域", "西山")
    assert first.observed_at == datetime(2021, 4, 1, 4, 0, tzinfo=CST)
    assert first.published_class == 3
    assert first.values == {
        "temp": 17.6,
        "ph": 7.48,
        "do": 9.32,
        "cond": 440.2,
        "turb": 64.6,
        "codmn": 1.88,
        "nh3n": 0.110,
        "tp": 0.048,
        "tn": 1.98,
        "chla": 0.005,
    }
    assert first.status == "正常"
    assert first.line == 2
    maintenance = rows[18]  # file line 20: 江苏省,太湖流域,西山,*,*,--,...,维护
    assert (maintenance.line, maintenance.observed_at, maintenance.published_class) == (
        20,
        None,
        None,
    )
    assert maintenance.values == {}
    assert maintenance.status == "维护"


def test_units_in_the_header_are_converted(tmp_path: Path) -> None:
    header = HEADER.replace("叶绿素α(mg/L)", "叶绿素α(μg/L)").replace(
        "电导率(μS/cm)", "电导率(mS/cm)"
    )
    path = write(
        tmp_path,
        "江苏省,太湖流域,西山,04-01 04:00,Ⅲ,"
        "17.6,7.48,9.32,0.44,64.6,1.88,0.110,0.048,1.98,12,*,正常\n",
        header,
    )
    (row,) = read_cnemc(path, year=2021)
    assert row.values["chla"] == pytest.approx(0.012)
    assert row.values["cond"] == pytest.approx(440.0)


def test_rows_before_the_first_timestamp_have_no_time(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "江苏省,太湖流域,西山,*,*,--,--,--,--,--,--,--,--,--,--,*,不具备运行条件\n"
        "江苏省,太湖流域,西山,04-02 00:00,Ⅱ,17,7.5,8,400,10,3,0.2,0.02,1,0.01,*,正常\n"
        "江苏省,太湖流域,西山,04-02 00:00,Ⅱ,17,7.5,8,400,10,3,0.2,0.02,1,0.01,*,正常\n",
    )
    rows = read_cnemc(path, year=2020)
    midnight = datetime(2020, 4, 2, tzinfo=CST)
    assert [r.observed_at for r in rows] == [None, midnight, midnight]
    assert rows[0].status == "不具备运行条件"


@pytest.mark.parametrize(
    ("body", "line", "message"),
    [
        ("江苏省,太湖流域,西山,04-01 04:00,Ⅲ,17.6\n", 2, "6 fields, expected 17"),
        (
            "江苏省,太湖流域,西山,04-01 04:00,Ⅲ,"
            "17.6,7.48,abc,440,64,1.88,0.1,0.04,1.9,0.005,*,正常\n",
            2,
            "do: not a number: 'abc'",
        ),
        (
            "江苏省,太湖流域,西山,04-01 04:00,Ⅲ,17.6,7.48,9,440,64,1.88,0.1,0.04,1.9,0.005,*,正常\n"
            "江苏省,太湖流域,西山,4/1 8:00,Ⅲ,17.6,7.48,9,440,64,1.88,0.1,0.04,1.9,0.005,*,正常\n",
            3,
            "'4/1 8:00' is not 'MM-DD HH:MM'",
        ),
        (
            "江苏省,太湖流域,西山,02-30 04:00,Ⅲ,"
            "17.6,7.48,9,440,64,1.88,0.1,0.04,1.9,0.005,*,正常\n",
            2,
            "02-30 04:00",
        ),
        (
            "江苏省,太湖流域,西山,04-01 04:00,Ⅵ,"
            "17.6,7.48,9,440,64,1.88,0.1,0.04,1.9,0.005,*,正常\n",
            2,
            "not a water-quality class: 'Ⅵ'",
        ),
    ],
)
def test_malformed_rows_name_file_and_line(
    tmp_path: Path, body: str, line: int, message: str
) -> None:
    path = write(tmp_path, body)
    with pytest.raises(CnemcFormatError, match=rf"^{path}:{line}: ") as caught:
        read_cnemc(path, year=2021)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (HEADER.replace("总磷(mg/L)", "总磷(g/L)"), "unknown unit 'g/L' for tp"),
        (HEADER.replace("总磷(mg/L)", "总铅(mg/L)"), "unknown column '总铅(mg/L)'"),
        ("a,b,c\n", "not a CNEMC export header"),
    ],
)
def test_bad_header(tmp_path: Path, header: str, message: str) -> None:
    path = write(tmp_path, "", header)
    with pytest.raises(CnemcFormatError, match=rf"^{path}:1: ") as caught:
        read_cnemc(path, year=2021)
    assert message in str(caught.value)


def test_empty_file(tmp_path: Path) -> None:
    path = write(tmp_path, "", "")
    with pytest.raises(CnemcFormatError, match="empty file"):
        read_cnemc(path, year=2021)


def test_classify_and_agreement_on_a_small_file(tmp_path: Path, shipped_registry: Registry) -> None:
    # 西山 is a lake section: TP 0.05 -> III, TP 0.06 -> IV (CODMn 3 II, NH3-N 0.2 II, DO 8 I)
    path = write(
        tmp_path,
        "江苏省,太湖流域,西山,04-01 04:00,Ⅲ,17,7.5,8,400,10,3,0.2,0.05,1,0.01,*,正常\n"
        "江苏省,太湖流域,西山,04-01 08:00,Ⅲ,17,7.5,8,400,10,3,0.2,0.06,1,0.01,*,正常\n"
        "江苏省,太湖流域,西山,04-01 12:00,*,17,7.5,8,400,10,3,--,0.06,1,0.01,*,维护\n",
    )
    classified = classify_rows(read_cnemc(path, year=2021), shipped_registry)
    assert [c.assessment.cls for c in classified] == [3, 4, None]
    assert [c.agrees for c in classified] == [True, False, None]
    assert classified[0].as_json() == {
        "section": "西山",
        "observed_at": "2021-04-01T04:00:00+08:00",
        "status": "正常",
        "class": 3,
        "limiting": ["tp"],
        "classes": {"ph": 1, "do": 1, "codmn": 2, "nh3n": 2, "tp": 3, "tn": 3},
    }
    result = agreement(classified)
    assert (result.rows, result.published, result.agree, result.percent) == (3, 2, 1, 50.0)
    assert result.mismatches[0].explain() == (
        f"{path}:3: 西山 04-01 08:00: published Ⅲ类, computed Ⅳ类 "
        "(ph=7.5 Ⅰ类, do=8 Ⅰ类, codmn=3 Ⅱ类, nh3n=0.2 Ⅱ类, tp=0.06 Ⅳ类)"
    )


def test_section_missing_from_the_registry(tmp_path: Path, shipped_registry: Registry) -> None:
    path = write(
        tmp_path,
        "江苏省,太湖流域,无名断面,04-01 04:00,Ⅲ,17,7.5,8,400,10,3,0.2,0.05,1,0.01,*,正常\n",
    )
    with pytest.raises(UnknownStationError, match="无名断面"):
        classify_rows(read_cnemc(path, year=2021), shipped_registry)
