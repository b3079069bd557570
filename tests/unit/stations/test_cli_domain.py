"""`basin classify` over the 37 real published files, and `basin stations`.

The agreement is computed here from the CSV files and taihu_sections.csv, independently of the
code's own summary; every disagreement must be one of the two known kinds (a value printed
rounded onto a class limit, or a midnight row of the scrape).
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from streams.cli import main

# GB 3838-2002 limits of the five assessed parameters (pH: the 6..9 range ends).
LIMITS = {
    "pH(无量纲)": {6.0, 9.0},
    "溶解氧(mg/L)": {7.5, 6.0, 5.0, 3.0, 2.0},
    "高锰酸盐指数(mg/L)": {2.0, 4.0, 6.0, 10.0, 15.0},
    "氨氮(mg/L)": {0.15, 0.5, 1.0, 1.5, 2.0},
}
TP_LIMITS = {"river": {0.02, 0.1, 0.2, 0.3, 0.4}, "lake": {0.01, 0.025, 0.05, 0.1, 0.2}}
CLASSES = {"Ⅰ": 1, "Ⅱ": 2, "Ⅲ": 3, "Ⅳ": 4, "Ⅴ": 5, "劣Ⅴ": 6}


def published_rows(cnemc_dir: Path) -> list[tuple[Path, int, dict[str, str]]]:
    rows = []
    for path in sorted(cnemc_dir.glob("*.csv")):
        with open(path, encoding="utf-8", newline="") as handle:
            for line, row in enumerate(csv.DictReader(handle), start=2):
                rows.append((path, line, row))
    return rows


def why_it_differs(row: dict[str, str], water_body: str) -> str | None:
    on_limit = [
        f"{column}={row[column]}"
        for column, limits in [*LIMITS.items(), ("总磷(mg/L)", TP_LIMITS[water_body])]
        if row[column] not in ("*", "--") and float(row[column]) in limits
    ]
    if on_limit:
        return "value printed on a class limit: " + ", ".join(on_limit)
    if row["监测时间"].endswith("00:00"):
        return "midnight row of the scrape"
    return None


def test_classify_all_published_files(cnemc_dir: Path, sections_csv: Path) -> None:
    files = sorted(cnemc_dir.glob("*.csv"))
    assert len(files) == 37
    with open(sections_csv, encoding="utf-8", newline="") as handle:
        water_bodies = {row["section"]: row["water_body"] for row in csv.DictReader(handle)}

    result = CliRunner().invoke(
        main, ["classify", "--format", "cnemc", "--year", "2021", "--summary", *map(str, files)]
    )
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    rows = published_rows(cnemc_dir)
    assert len(lines) == len(rows)

    published = agree = 0
    disagreements = []
    for (path, line, row), out in zip(rows, lines, strict=True):
        assert out["section"] == row["断面名称"]
        assert out["status"] == row["站点情况"]
        when = row["监测时间"]
        expected_time = None if when == "*" else f"2021-{when.replace(' ', 'T')}:00+08:00"
        assert out["observed_at"] == expected_time
        assert set(out) == {"section", "observed_at", "status", "class", "limiting", "classes"}
        if row["水质类别"] == "*":
            continue
        published += 1
        if out["class"] == CLASSES[row["水质类别"]]:
            agree += 1
            continue
        reason = why_it_differs(row, water_bodies[row["断面名称"]])
        disagreements.append((f"{path.name}:{line}", row["水质类别"], out["class"], reason))

    percent = 100.0 * agree / published
    print(f"\nagreement: {agree}/{published} = {percent:.2f}%")
    for where, theirs, ours, reason in disagreements:
        print(f"  {where}: published {theirs}, computed {ours}: {reason}")

    assert percent >= 98.5
    assert all(reason is not None for *_, reason in disagreements), disagreements
    summary = result.stderr.splitlines()[-1]
    assert re.search(rf"with a published class \(水质类别\): {published}; agree: {agree} ", summary)
    assert len([s for s in result.stderr.splitlines() if s.startswith("disagree: ")]) == len(
        disagreements
    )


def test_classify_rows_without_five_parameters_have_no_class(cnemc_dir: Path) -> None:
    result = CliRunner().invoke(main, ["classify", "--year", "2021", str(cnemc_dir / "五牧.csv")])
    assert result.exit_code == 0, result.output
    by_line = [json.loads(line) for line in result.stdout.splitlines()]
    # file line 20: 五牧,04-04 04:00,*,16.2,7.71,6.62,510.5,59.7,--,--,--,--,*,*,维护
    maintenance = by_line[18]
    assert maintenance["observed_at"] == "2021-04-04T04:00:00+08:00"
    assert (maintenance["class"], maintenance["limiting"]) == (None, [])
    assert maintenance["classes"] == {"ph": 1, "do": 2}


def test_section_missing_from_the_registry_fails(tmp_path: Path, cnemc_dir: Path) -> None:
    text = (cnemc_dir / "西山.csv").read_text(encoding="utf-8").replace(",西山,", ",无名断面,")
    path = tmp_path / "x.csv"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["classify", "--year", "2021", str(path)])
    assert result.exit_code == 1
    assert "无名断面" in result.stderr
    assert "not in the station registry" in result.stderr


def test_malformed_file_fails_with_file_and_line(tmp_path: Path, cnemc_dir: Path) -> None:
    lines = (cnemc_dir / "西山.csv").read_text(encoding="utf-8").splitlines()
    lines[3] = lines[3] + ",extra"
    path = tmp_path / "bad.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["classify", "--year", "2021", str(path)])
    assert result.exit_code == 1
    assert f"{path}:4: 18 fields, expected 17" in result.stderr


def test_year_is_required(cnemc_dir: Path) -> None:
    result = CliRunner().invoke(main, ["classify", str(cnemc_dir / "西山.csv")])
    assert result.exit_code == 2
    assert "--year" in result.stderr


def test_stations_check_shipped_registry() -> None:
    result = CliRunner().invoke(main, ["stations", "check"])
    assert result.exit_code == 0, result.output
    (line,) = result.stdout.splitlines()
    assert "(JS 37, ZJ 31, SH 19, AH 1, TBA 3)" in line


def test_stations_check_with_qc_and_rules() -> None:
    data = Path(__file__).resolve().parents[3] / "stations" / "data"
    result = CliRunner().invoke(
        main,
        ["stations", "check", "--qc", str(data / "qc.yaml"), "--rules", str(data / "rules.yaml")],
    )
    assert result.exit_code == 0, result.output


def test_stations_check_prints_every_problem_as_path_line_message(tmp_path: Path) -> None:
    path = tmp_path / "stations.yaml"
    path.write_text(
        "version: 1\n"
        "stations:\n"
        "  - id: JS-TH-001\n"
        "    name: 甲\n"
        "    jurisdiction: JS\n"
        "    basin: 太湖流域\n"
        "    water_body: pond\n"
        "    kind: water_quality\n"
        "    target_class: 3\n"
        "    parameters: {tp: {unit: mg/L, range: [0, 10]}}\n"
        "    colour: red\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["stations", "check", str(path)])
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"{path}:7: station JS-TH-001.water_body: 'pond' is not one of lake, river",
        f"{path}:11: station JS-TH-001: unknown key 'colour' (allowed: basin, boundary, confirm, "
        "example, hj212, hydrology, id, interval_minutes, jurisdiction, kind, lat, lon, name, "
        "note, parameters, profile, target_class, water_body)",
    ]


@pytest.mark.parametrize(("jurisdiction", "expected"), [("AH", "殷桥"), ("SH", "汾湖大桥(界标)")])
def test_stations_list(jurisdiction: str, expected: str) -> None:
    runner = CliRunner(env={"COLUMNS": "200"})
    result = runner.invoke(main, ["stations", "list", "--jurisdiction", jurisdiction])
    assert result.exit_code == 0, result.output
    assert expected in result.stdout
