from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from stations.errors import UnknownStationError
from stations.formats.cnemc import read_cnemc
from stations.formats.history import reports_from_cnemc
from stations.formats.report import from_json
from stations.registry import load_registry

DATA = Path(__file__).parents[3] / "data" / "cnemc-2021-04" / "江苏省"
NOW = datetime(2026, 11, 21, tzinfo=UTC)


def test_published_rows_become_reports_keyed_by_station_id() -> None:
    rows = read_cnemc(DATA / "西山.csv", year=2021)
    converted = reports_from_cnemc(rows, load_registry(), NOW)
    first = converted.reports[0]
    # 西山,04-01 04:00: pH 7.48, DO 9.32, TP 0.048 (first data row of the file)
    assert first.station == load_registry().by_name("西山").id
    assert first.observed_at.isoformat() == "2021-04-01T04:00:00+08:00"
    assert first.readings["tp"].value == pytest.approx(0.048)
    assert first.readings["do"].value == pytest.approx(9.32)
    assert {r.flag for r in first.readings.values()} == {"N"}
    assert "algae" not in first.readings  # '*' is not published, so not a reading
    assert len(converted.reports) + len(converted.skipped) == len(rows)


def test_maintenance_rows_are_kept_with_flag_m_and_untimed_rows_are_counted() -> None:
    rows = [r for path in sorted(DATA.glob("*.csv")) for r in read_cnemc(path, year=2021)]
    converted = reports_from_cnemc(rows, load_registry(), NOW)
    maintenance_rows = [r for r in rows if r.status == "维护" and r.observed_at is not None]
    flagged = [r for r in converted.reports if {v.flag for v in r.readings.values()} == {"M"}]
    assert maintenance_rows and len(flagged) == len(maintenance_rows)
    assert all("no observation time" in reason for _, reason in converted.skipped)
    assert len(converted.skipped) == sum(1 for r in rows if r.observed_at is None)


def test_reports_survive_their_json_round_trip() -> None:
    rows = read_cnemc(DATA / "西山.csv", year=2021)
    for report in reports_from_cnemc(rows, load_registry(), NOW).reports:
        assert from_json(report.to_json()) == report


def test_a_section_missing_from_the_registry_is_named(tmp_path: Path) -> None:
    text = (DATA / "西山.csv").read_text(encoding="utf-8").replace("西山", "不存在断面")
    path = tmp_path / "x.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UnknownStationError, match="不存在断面"):
        reports_from_cnemc(read_cnemc(path, year=2021), load_registry(), NOW)
