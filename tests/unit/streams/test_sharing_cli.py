"""`basin sharing check` and `basin sharing show`: the shipped list, a bad one, the settings."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from stations.sharing.config import DEFAULT_SHARING
from streams.cli import main
from streams.cli.common import SettingsInfo
from streams.settings import Settings

BAD = """\
version: 1
years:
  2021:
    owners:
      JS:
        - stations: [lake, JS-TH-999]
          data: [tp, tpp]
          shared_with: [ZJ, HZ]
"""


def run(args: list[str], settings: Settings | None = None) -> Any:
    """`basin ARGS` with ``settings`` (default: the defaults), as the group hands them over."""
    return CliRunner().invoke(main, args, obj=SettingsInfo(settings or Settings()))


def line_in(path: Path, marker: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, start=1) if marker in line)


def test_check_the_shipped_list() -> None:
    result = run(["sharing", "check"])
    assert result.exit_code == 0, result.output
    assert result.output == (
        f"{DEFAULT_SHARING}: 2021: 12 items OK (JS 3, ZJ 3, SH 3, AH 2, TBA 1); EXAMPLE list, "
        "8 items with fields to confirm; stations received from others: "
        "JS 36, ZJ 43, SH 69, AH 41, TBA 88\n"
    )


def test_check_prints_every_problem_and_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "sharing.yaml"
    path.write_text(BAD, encoding="utf-8")
    result = run(["sharing", "check", str(path)])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"{path}:6: 2021 JS item 1.stations[1]: unknown station 'JS-TH-999' (not in the "
        "registry; selectors: all, lake, river, cross_boundary, hydrology)",
        f"{path}:7: 2021 JS item 1.data[1]: unknown parameter 'tpp' (parameters: ph, do, "
        "codmn, cod, bod5, nh3n, tp, tn, temp, cond, turb, chla, algae, level, flow; "
        "or parameters, qc, class, alerts)",
        f"{path}:8: 2021 JS item 1.shared_with[1]: unknown party 'HZ' "
        "(one of JS, ZJ, SH, AH, TBA, or all)",
    ]


def test_check_reads_the_configured_list(tmp_path: Path) -> None:
    path = tmp_path / "sharing.yaml"
    path.write_text(BAD, encoding="utf-8")
    result = run(["sharing", "check"], Settings(sharing_path=path))
    assert result.exit_code == 1
    assert result.output.startswith(f"{path}:6: ")


def test_show_prints_what_zj_receives_from_whom() -> None:
    result = run(["sharing", "show", "--party", "ZJ"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == (
        "What ZJ 浙江省 receives under the 2021 list "
        "(an EXAMPLE list, to be agreed at the joint meeting)"
    )
    assert lines[1] == "own: 31 stations, all their data in real time"
    headings = [line for line in lines if line.startswith("from ")]
    assert headings == [
        "from JS 江苏省: 37 stations",
        "from SH 上海市: 2 stations",
        "from AH 安徽省: 1 station",
        "from TBA 太湖流域管理局: 3 stations",
    ]
    lake_item = line_in(DEFAULT_SHARING, "- stations: lake")
    daily_item = line_in(DEFAULT_SHARING, "shared_with: [ZJ, SH, AH]") - 2
    rows = {line.split("\t")[0]: line.split("\t") for line in lines if "\t" in line}
    assert rows["JS-TH-028"] == [
        "JS-TH-028",
        "西山",
        "codmn, nh3n, tp, tn, chla, algae, class, alerts",
        "real time at once",
        f"list, line {lake_item}",
    ]
    assert rows["JS-TH-003"] == [
        "JS-TH-003",
        "五牧",
        "codmn, nh3n, tp, tn, class",
        "daily means after 24 h",
        f"list, line {daily_item}",
    ]
    assert rows["SH-CJ-013"] == [
        "SH-CJ-013",
        "汾湖大桥(界标)",
        "all",
        "real time at once",
        "cross-boundary section",
    ]
    assert "SH-CJ-019" not in rows  # 黄渡: SH shares it with TBA only
    assert not any(station.startswith("ZJ-") for station in rows)  # own data: one line


def test_show_json_lists_every_grant_by_owner() -> None:
    result = run(["sharing", "show", "--party", "ZJ", "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert (document["party"], document["party_name"], document["year"]) == ("ZJ", "浙江省", 2021)
    assert document["example"] is True
    owners = [group["owner"] for group in document["from"]]
    assert owners == ["ZJ", "JS", "SH", "AH", "TBA"]
    js = {row["station"]: row for row in document["from"][1]["rows"]}
    assert js["JS-TH-003"]["data"] == ["codmn", "nh3n", "tp", "tn", "class"]
    assert (js["JS-TH-003"]["granularity"], js["JS-TH-003"]["delay_hours"]) == ("daily", 24)
    assert js["JS-TH-028"]["name"] == "西山" and js["JS-TH-028"]["basis"] == "list"
    own = document["from"][0]["rows"]
    assert len(own) == 31 and {row["basis"] for row in own} == {"own"}
    assert js["JS-TH-028"]["lines"] == [line_in(DEFAULT_SHARING, "- stations: lake")]


def test_show_merges_the_items_that_share_a_station_on_the_same_terms() -> None:
    result = run(["sharing", "show", "--party", "TBA"])
    assert result.exit_code == 0, result.output
    rows = {line.split("\t")[0]: line.split("\t") for line in result.output.splitlines()}
    lake, every = (
        line_in(DEFAULT_SHARING, "- stations: lake"),
        line_in(DEFAULT_SHARING, "- stations: all"),
    )
    # 西山: its nutrients by JS's lake item, the rest by the item for TBA, both in real time
    assert rows["JS-TH-028"] == [
        "JS-TH-028",
        "西山",
        "all",
        "real time at once",
        f"list, lines {lake}, {every}",
    ]


def test_show_refuses_an_unknown_party_and_a_missing_year() -> None:
    unknown = run(["sharing", "show", "--party", "HZ"])
    assert unknown.exit_code == 2
    assert "'HZ' is not one of" in unknown.output
    missing = run(["sharing", "show", "--party", "ZJ", "--year", "2030"])
    assert missing.exit_code == 1
    assert f"{DEFAULT_SHARING}: no list for 2030 (lists: 2021)" in missing.output
