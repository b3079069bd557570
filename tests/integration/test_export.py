"""`basin export` end to end on the real servers: the published April 2021 results of 37 Jiangsu
sections go as reports through Kafka, the worker and the store (writing the party views) into
InfluxDB; then the export's means, classes and main pollutants of every section are those this
test computes on its own from the published CSV files; the XLSX, CSV and PDF are read back; and
ZJ's export holds no JS data the sharing list does not give ZJ.

The test's own computation: the CSV values (stations/formats/cnemc.py reads them) of the results
the worker's QC keeps (the pure replay of the worker, streams.testing.pipeline, says which), their
arithmetic means, and the GB 3838 limits and the method's rules written out below, not the
assessment code the export uses.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from matplotlib import image as mpimg
from openpyxl import load_workbook

from boards.colours import CLASS_COLOURS
from stations.formats.assessed import AssessedReport
from stations.formats.cnemc import read_cnemc
from stations.jurisdictions import Jurisdiction
from stations.registry import load_registry
from stations.sharing.config import load_sharing
from streams.store.apply import Applier
from streams.store.views import selections, view_bucket
from streams.testing.pipeline import DATA, expected_outcome, published_reports
from streams.topics import publish_all
from tests.integration.conftest import Influx, TopicSet
from tests.integration.store import expected_points, settled_points

TOPICS = ("raw", "assessed", "rejected", "breaches", "alerts", "commands")
FIVE = ("ph", "do", "codmn", "nh3n", "tp")
#: GB 3838-2002 upper limits of Ⅰ..Ⅴ (DO: lower limits), written out for this test.
LIMITS = {
    "codmn": (2.0, 4.0, 6.0, 10.0, 15.0),
    "nh3n": (0.15, 0.5, 1.0, 1.5, 2.0),
    "tp@river": (0.02, 0.1, 0.2, 0.3, 0.4),
    "tp@lake": (0.01, 0.025, 0.05, 0.1, 0.2),
}
DO_LIMITS = (7.5, 6.0, 5.0, 3.0, 2.0)
NAMES = {"ph": "pH", "do": "溶解氧", "codmn": "高锰酸盐指数", "nh3n": "氨氮", "tp": "总磷"}


def grade(parameter: str, value: float, body: str) -> int:
    if parameter == "ph":
        return 1 if 6.0 <= value <= 9.0 else 6
    if parameter == "do":
        return next((n for n, low in enumerate(DO_LIMITS, 1) if value >= low), 6)
    limits = LIMITS[f"tp@{body}" if parameter == "tp" else parameter]
    return next((n for n, high in enumerate(limits, 1) if value <= high), 6)


def expected_sections() -> dict[str, dict[str, Any]]:
    """Per station: means, class and main pollutants from the published CSV files."""
    registry = load_registry()
    docs = [
        d for d in expected_outcome(published_reports())["docs"] if isinstance(d, AssessedReport)
    ]
    kept = {
        (d.station, d.observed_at, name)
        for d in docs
        for name, entry in d.values.items()
        if entry.good is not None
    }
    values: dict[tuple[str, datetime, str], float] = {}
    for path in sorted(DATA.glob("*.csv")):
        for row in read_cnemc(path, year=2021):
            if row.observed_at is None:
                continue
            station = registry.by_name(row.section).id
            for name, value in row.values.items():
                if (station, row.observed_at, name) in kept:
                    values.setdefault((station, row.observed_at, name), value)
    series: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for (station, _, name), value in values.items():
        series[station][name].append(value)
    result: dict[str, dict[str, Any]] = {}
    for station, by_name in series.items():
        body = registry.get(station).water_body.value
        means = {name: sum(v) / len(v) for name, v in by_name.items()}
        water_class = None
        pollutants = ""
        if all(p in means for p in FIVE):
            classes = {p: grade(p, means[p], body) for p in FIVE}
            water_class = max(classes.values())
            if water_class > 3:
                worse = []
                for p, c in classes.items():
                    if c <= 3:
                        continue
                    if p in ("ph", "do"):
                        worse.append((c, -1.0, NAMES[p]))
                        continue
                    third = LIMITS[f"tp@{body}" if p == "tp" else p][2]
                    multiple = (means[p] - third) / third
                    worse.append((c, multiple, f"{NAMES[p]}({multiple:.2f})"))
                worse.sort(key=lambda w: (-w[0], -w[1]))
                pollutants = "、".join(text for _, _, text in worse[:3])
        result[station] = {"means": means, "class": water_class, "pollutants": pollutants}
    return result


def read_csv(path: Path) -> list[dict[str, str]]:
    assert path.read_bytes().startswith(b"\xef\xbb\xbf"), f"{path.name} has no BOM"
    with path.open(encoding="utf-8-sig", newline="") as file:
        return list(csv.DictReader(file))


def export(env: dict[str, str], out: Path, *extra: str) -> str:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "streams",
            "export",
            "--month",
            "2021-04",
            "--out",
            str(out),
            *extra,
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_the_april_2021_export_from_the_published_data(
    kafka: str, influx: Influx, topics: TopicSet, start_worker: Any, tmp_path: Path
) -> None:
    registry = load_registry()
    sharing = load_sharing(registry=registry, year=2021)
    state = tmp_path / "state"
    with influx.client() as client:
        Applier(client, influx.bucket, influx.org, state).apply(
            selections(sharing), now=datetime(2021, 5, 10, tzinfo=UTC)
        )
    topics.create(*TOPICS)
    messages = published_reports()
    want = expected_points(expected_outcome(messages)["docs"])
    publish_all(kafka, topics.name("raw"), messages)
    env = topics.worker_env(
        **influx.env(),
        BASIN_STATE_DIR=str(state),
        BASIN_STORE_VIEWS="true",
        BASIN_VIEWS_DERIVE_SECONDS="2",
        BASIN_VIEWS_LOOKBACK_HOURS="200000",
    )
    worker = start_worker(env, name="worker")
    store = start_worker(env, name="store", command="store")
    try:
        assert settled_points(influx, want) == want
        deadline = time.monotonic() + 120
        while "derived the views" not in store.output() and time.monotonic() < deadline:
            time.sleep(1)
        assert "derived the views" in store.output(), store.output()[-3000:]
    finally:
        store.stop()
        worker.stop()
    cli_env = {**os.environ, **influx.env(), "BASIN_STATE_DIR": str(state)}
    cli_env["PYTHONPATH"] = os.getcwd()

    basin = tmp_path / "basin"
    output = export(cli_env, basin)
    assert "wrote 8 files to" in output and "太湖流域" in output

    # every section: the means, class and main pollutants computed from the CSV files
    expected = expected_sections()
    rows = {r["station"]: r for r in read_csv(basin / "basinwatch-2021-04-basin-sections.csv")}
    assert len(expected) >= 36  # of the 37 published sections, those with QC-good results
    assert set(expected) == {station for station, row in rows.items() if row["valid"]}
    for station, want_section in expected.items():
        row = rows[station]
        assert row["name"] == registry.get(station).name
        assert row["jurisdiction"] == "JS"
        for name in ("ph", "do", "codmn", "nh3n", "tp", "tn", "chla"):
            if name in want_section["means"]:
                assert float(row[name]) == pytest.approx(want_section["means"][name], rel=1e-9), (
                    station,
                    name,
                )
            else:
                assert row[name] == "", (station, name)
        wanted_class = want_section["class"]
        assert row["class"] == ("" if wanted_class is None else str(wanted_class)), station
        assert row["main_pollutants"] == want_section["pollutants"], station
        assert row["expected"] == "180"
    assert {r["class"] for r in rows.values() if r["station"] not in expected} == {""}

    # XLSX: sheets, numbers as numbers, class colours
    book = load_workbook(basin / "basinwatch-2021-04-basin.xlsx")
    assert book.sheetnames == [
        "断面水质",
        "责任方与流域",
        "湖库营养状态",
        "跨界断面",
        "超标与告警",
        "数据共享",
    ]
    sheet = book["断面水质"]
    header = [c.value for c in sheet[2]]
    tp_column = header.index("total phosphorus (mg/L)") + 1
    class_column = header.index("class this month") + 1
    checked = 0
    for row_cells in sheet.iter_rows(min_row=3):
        station = row_cells[0].value
        if station not in expected or expected[station]["class"] is None:
            continue
        tp = row_cells[tp_column - 1].value
        assert isinstance(tp, float) and tp == pytest.approx(expected[station]["means"]["tp"])
        cell = row_cells[class_column - 1]
        colour = CLASS_COLOURS[expected[station]["class"]].lstrip("#").upper()
        assert cell.fill.fgColor.rgb == "FF" + colour, station
        checked += 1
    assert checked >= 30

    # PDF: the sections and classes in its text, pages not blank
    pdf = basin / "basinwatch-2021-04-basin.pdf"
    assert shutil.which("pdftotext"), "poppler-utils missing: run deploy/local/fonts.sh install"
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    assert "2021年4月，太湖流域" in text
    for station in expected:
        assert registry.get(station).name in text, station
    for water_class in {expected[s]["class"] for s in expected} - {None}:
        assert ("Ⅰ类", "Ⅱ类", "Ⅲ类", "Ⅳ类", "Ⅴ类", "劣Ⅴ类")[water_class - 1] in text
    pages = tmp_path / "pages"
    pages.mkdir()
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(pages / "p")], check=True)
    rendered = sorted(pages.glob("p-*.png"))
    assert len(rendered) >= 8
    for page in rendered:
        pixels = np.asarray(mpimg.imread(page))[..., :3]
        assert (pixels < 0.5).mean() > 0.001, f"{page.name} is blank"

    # ZJ's export: nothing of JS's that the list does not give ZJ
    zj = tmp_path / "zj"
    output = export(cli_env, zj, "--party", "ZJ", "--format", "csv")
    assert view_bucket(influx.bucket, "ZJ") in output
    zj_rows = read_csv(zj / "basinwatch-2021-04-ZJ-sections.csv")
    means = ("ph", "do", "codmn", "nh3n", "tp", "tn", "chla")
    shown = 0
    for row in zj_rows:
        if not row["station"].startswith("JS-"):
            continue
        for name in means:
            if row[name] != "":
                assert Jurisdiction.ZJ in sharing.audience(row["station"], name), (row, name)
                shown += 1
        assert row["ph"] == "" and row["do"] == "", row  # never shared with ZJ
    assert shown > 0, "ZJ sees the JS data the list shares with it"
    for item in read_csv(zj / "basinwatch-2021-04-ZJ-sharing.csv"):
        assert item["party"] == "ZJ"
