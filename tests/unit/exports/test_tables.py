"""The tables from a hand-made month (contract R's MonthData) and the shipped registry: classes,
main pollutants with multiples, completeness, changes, groups, the lake, boundary relations,
alerts and sharing, the summary; what a party's export leaves out."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest

from exports.model import Table
from exports.reading import AlertSummary, MonthData, SharedItem, StationMonth
from exports.tables import BEIJING, boundary_relation, build, month_span
from stations.registry import load_registry

REGISTRY = load_registry()
XISHAN = {"ph": 8.0, "do": 9.0, "codmn": 4.5, "nh3n": 0.3, "tp": 0.076, "tn": 1.8, "chla": 0.02}
XUHU = {"ph": 8.1, "do": 8.5, "codmn": 3.9, "nh3n": 0.2, "tp": 0.05, "tn": 1.2, "chla": 0.01}
DIANFENG = {"ph": 7.5, "do": 6.5, "codmn": 3.5, "nh3n": 0.8, "tp": 0.15}
CHIJIABANG = {"ph": 7.2, "do": 4.0, "codmn": 5.0, "nh3n": 2.2, "tp": 0.35}


def month(means: dict[str, float], valid: int = 180) -> StationMonth:
    return StationMonth("", dict(means), {k: valid for k in means}, valid)


def data(party: str | None = None) -> MonthData:
    stations = {
        "JS-TH-028": month(XISHAN),
        "JS-TH-024": month(XUHU, 90),
        "SH-CJ-015": month(DIANFENG),
        "ZJ-TH-020": month(CHIJIABANG),
    }
    if party == "ZJ":
        stations = {k: v for k, v in stations.items() if k.startswith("ZJ")}
    previous = {"ZJ-TH-020": month(DIANFENG), "JS-TH-028": month(XISHAN)}
    start = datetime(2021, 4, 1, tzinfo=BEIJING)
    return MonthData(
        month=date(2021, 4, 1),
        party=party,
        bucket="basinwatch" if party is None else "basinwatch-zj",
        stations=stations,
        previous={k: v for k, v in previous.items() if k in stations},
        last_year={},
        lake_series={"tn": [(start, 1.5), (start + timedelta(days=1), 1.6)], "tp": []},
        breaches=7,
        alerts=AlertSummary(3, 2, timedelta(hours=5), timedelta(minutes=30), None, {"JS": 3}),
        sharing=[SharedItem("JS", "ZJ", "JS-TH-028", "tp", "realtime", 0, 180, 171)],
    )


def row(table: Table, station: str) -> dict[str, object]:
    for values in table.rows:
        if values[0] == station:
            return {c.key: v for c, v in zip(table.columns, values, strict=True)}
    raise AssertionError(f"{station} not in {table.key}")


def test_april_in_beijing_time_has_180_four_hour_results() -> None:
    start, stop = month_span(date(2021, 4, 1))
    assert (start.isoformat(), stop.isoformat()) == (
        "2021-04-01T00:00:00+08:00",
        "2021-05-01T00:00:00+08:00",
    )


def test_sections_carry_class_main_pollutants_completeness_and_means() -> None:
    export, _ = build(data(), REGISTRY)
    sections = export.table("sections")
    xishan = row(sections, "JS-TH-028")
    assert xishan["name"] == "西山"
    assert xishan["river_or_lake"] == "湖库"
    assert (xishan["jurisdiction"], xishan["jurisdiction_name"]) == ("JS", "江苏省")
    assert xishan["class"] == 4  # lake TP 0.076 in (0.05, 0.1]
    assert xishan["main_pollutants"] == "总磷(0.52)"  # (0.076 - 0.05) / 0.05
    assert xishan["target"] == 4 and xishan["target_met"] is True
    assert xishan["class_previous"] == 4 and xishan["change_previous"] == 0
    assert xishan["class_last_year"] is None and xishan["change_last_year"] is None
    assert xishan["completeness"] == pytest.approx(100.0)
    assert xishan["tp"] == pytest.approx(0.076)
    assert xishan["tn"] == pytest.approx(1.8)
    assert row(sections, "JS-TH-024")["completeness"] == pytest.approx(50.0)
    chijiabang = row(sections, "ZJ-TH-020")
    assert chijiabang["class"] == 6  # NH3-N 2.2 > 2.0
    assert chijiabang["main_pollutants"] == "氨氮(1.20)、总磷(0.75)、溶解氧"
    assert chijiabang["target_met"] is False
    assert chijiabang["boundary"] == "浙江省→上海市"
    assert chijiabang["class_previous"] == 3 and chijiabang["change_previous"] == 3
    dianfeng = row(sections, "SH-CJ-015")
    assert (dianfeng["class"], dianfeng["main_pollutants"]) == (3, "")
    # every water-quality station of the basin-wide export has a row, with or without data
    quality = [s.id for s in REGISTRY if s.kind.value == "water_quality"]
    assert sections.values("station") == quality
    without = row(sections, "JS-TH-001")
    assert without["class"] is None and without["valid"] is None and without["name"]


def test_groups_shares_status_and_changes() -> None:
    export, assessed = build(data(), REGISTRY)
    groups = export.table("jurisdictions")
    basin = row(groups, "basin")
    assert basin["sections"] == 4
    assert basin["share_1_3"] == pytest.approx(50.0)
    assert basin["share_4_5"] == pytest.approx(25.0)
    assert basin["share_worse_5"] == pytest.approx(25.0)
    assert basin["status_by_means"] is True  # fewer than 5 sections
    # last month: 西山 Ⅳ and 池家浜 Ⅲ -> 50 % Ⅰ–Ⅲ, 0 % 劣Ⅴ; now 50 %, 25 %
    assert basin["d_1_3_previous"] == pytest.approx(0.0)
    assert basin["d_worse_5_previous"] == pytest.approx(25.0)
    assert basin["marked_previous"] is True
    assert basin["d_1_3_last_year"] is None
    assert row(groups, "ZJ")["share_worse_5"] == pytest.approx(100.0)
    assert [r[0] for r in groups.rows] == ["JS", "ZJ", "SH", "basin"]
    assert export.summary.startswith("2021年4月，太湖流域4个断面中，Ⅰ～Ⅲ类占50.0%")
    assert "与上月相比，Ⅰ～Ⅲ类比例持平，劣Ⅴ类比例上升25.0个百分点，水质有明显变化" in export.summary
    assert assessed.lake is not None and f"{assessed.lake.tli:.1f}" in export.summary


def test_lake_table_per_section_and_the_whole_lake() -> None:
    export, assessed = build(data(), REGISTRY)
    lake = export.table("lake")
    assert [r[0] for r in lake.rows] == ["JS-TH-024", "JS-TH-028", "lake"]
    whole = row(lake, "lake")
    assert whole["tn"] == pytest.approx(1.5)
    assert whole["tp"] == pytest.approx(0.063)
    assert whole["parameters_used"] == "chla,tp,tn,codmn"
    assert whole["tli"] == pytest.approx(assessed.lake.tli if assessed.lake else -1)
    assert row(lake, "JS-TH-028")["grade"] in {"中营养", "轻度富营养", "中度富营养"}


def test_cross_boundary_alerts_and_sharing_tables() -> None:
    export, _ = build(data(), REGISTRY)
    boundary = export.table("cross_boundary")
    assert all(REGISTRY.get(str(r[0])).boundary is not None for r in boundary.rows)
    assert row(boundary, "ZJ-TH-020")["class"] == 6
    alerts = {r[0]: r[2] for r in export.table("alerts").rows}
    assert alerts["breaches"] == 7.0 and alerts["alerts"] == 3.0
    assert alerts["longest_hours"] == pytest.approx(5.0)
    assert alerts["mean_ack_hours"] == pytest.approx(0.5)
    assert alerts["mean_resolve_hours"] is None
    assert alerts["alerts_js"] == 3.0
    sharing = row(export.table("sharing"), "JS")
    assert sharing["completeness"] == pytest.approx(95.0)
    assert sharing["name"] == "西山"


def test_boundary_relations_as_the_bulletins_write_them() -> None:
    assert boundary_relation(REGISTRY.get("ZJ-TH-020")) == "浙江省→上海市"
    assert boundary_relation(REGISTRY.get("SH-CJ-013")) == "上海市、江苏省、浙江省(交界)"
    assert boundary_relation(REGISTRY.get("JS-TH-028")) == ""


def test_a_party_export_shows_only_what_it_read_and_its_own_stations() -> None:
    export, _ = build(data("ZJ"), REGISTRY)
    stations = export.table("sections").values("station")
    assert "ZJ-TH-020" in stations
    assert not [s for s in stations if not str(s).startswith("ZJ-")]
    assert export.scope == "ZJ"


def test_a_party_given_daily_means_without_ph_and_do_is_owed_per_day_and_gets_no_class() -> None:
    """As ZJ receives JS's river sections under the shipped list: daily means of N and P only."""
    shared = {k: v for k, v in XISHAN.items() if k not in ("ph", "do")}
    read = StationMonth("JS-TH-028", shared, {k: 5 for k in shared}, 5, aggregated=("1d",))
    export, _ = build(replace(data("ZJ"), stations={"JS-TH-028": read}, previous={}), REGISTRY)
    xishan = row(export.table("sections"), "JS-TH-028")
    assert (xishan["valid"], xishan["expected"], xishan["class"]) == (5, 30, None)
    assert xishan["completeness"] == pytest.approx(100 * 5 / 30)
    assert "无可评价的断面" in export.summary and "0个断面中" not in export.summary
