"""`basin export` on the command line: its options refused with a usage error (exit 2) before
anything is read, and a run on a stand-in reader writing what it says it wrote."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from exports.reading import MonthData
from streams.cli import main
from streams.cli.common import SettingsInfo
from streams.settings import Settings
from tests.unit.exports.test_tables import data


def run(args: list[str]) -> tuple[int, str]:
    settings = Settings(_env_file=None, influx_token="t")  # type: ignore[call-arg]
    result = CliRunner().invoke(main, ["export", *args], obj=SettingsInfo(settings))
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--month", "2021-13"], "give a month like 2021-04"),
        (["--month", "April"], "give a month like 2021-04"),
        (["--month", "2021-04", "--format", "docx"], "a comma-separated list of xlsx, csv, pdf"),
        (["--month", "2021-04", "--party", "XX"], "'XX' is not one of"),
    ],
)
def test_bad_options_are_usage_errors(args: list[str], message: str) -> None:
    code, output = run(args)
    assert code == 2, output
    assert message in output


def test_a_run_reads_the_month_and_lists_what_it_wrote(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[tuple[object, ...]] = []

    def read_month(source: object, month: object, party: object, **kwargs: object) -> MonthData:
        asked.append((month, party))
        return data()

    monkeypatch.setattr("exports.reading.read_month", read_month)
    code, output = run(["--month", "2021-04", "--format", "csv,xlsx", "--out", str(tmp_path)])
    assert code == 0, output
    assert [(str(m), p) for m, p in asked] == [("2021-04-01", None)]
    assert "2021年4月，太湖流域4个断面中" in output
    assert "wrote 7 files to" in output
    written = sorted(p.name for p in tmp_path.iterdir())
    assert "basinwatch-2021-04-basin.xlsx" in written
    assert "basinwatch-2021-04-basin-sections.csv" in written
    for name in written:
        assert name in output
