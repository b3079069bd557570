"""The sharing list from YAML: the shipped file, and every kind of mistake with its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from stations.errors import SharingError
from stations.jurisdictions import Jurisdiction
from stations.registry import Registry
from stations.sharing.config import DEFAULT_SHARING, check_sharing, load_sharing
from stations.sharing.grants import Granularity

HEAD = "version: 1\nyears:\n  2021:\n    owners:\n"

#: A valid JS item (lake sections' TP with everyone, as measured).
LAKE_TP = "      JS:\n        - stations: lake\n          data: tp\n          shared_with: all\n"


def line_of(text: str, marker: str, occurrence: int = 1) -> int:
    """1-based line of the n-th line containing ``marker`` in the text the test wrote."""
    hits = [n for n, line in enumerate(text.splitlines(), start=1) if marker in line]
    return hits[occurrence - 1]


def problems_of(tmp_path: Path, registry: Registry, text: str) -> list[str]:
    path = tmp_path / "sharing.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SharingError) as caught:
        load_sharing(path, registry=registry)
    assert check_sharing(path, registry=registry) == list(caught.value.problems)
    return [str(problem) for problem in caught.value.problems]


# --- the shipped list -----------------------------------------------------------------------


def test_the_shipped_list_loads_against_the_shipped_registry(shipped_registry: Registry) -> None:
    sharing = load_sharing(registry=shipped_registry)
    assert sharing.path == str(DEFAULT_SHARING)
    assert sharing.year == 2021
    owners = {item.owner for item in sharing.items}
    assert owners == set(Jurisdiction)  # every party shares something
    assert check_sharing(registry=shipped_registry) == []


def test_the_shipped_list_says_it_is_an_example_and_what_to_confirm(
    shipped_registry: Registry,
) -> None:
    sharing = load_sharing(registry=shipped_registry)
    assert sharing.example
    assert sharing.to_confirm  # items whose terms the joint meeting must confirm
    assert all(item.line is not None for item in sharing.to_confirm)
    header = DEFAULT_SHARING.read_text(encoding="utf-8").split("\nversion: 1")[0]
    assert "EXAMPLE" in header and "joint meeting" in header


def test_every_party_shares_its_lake_sections_nutrients_with_all_in_real_time(
    shipped_registry: Registry,
) -> None:
    sharing = load_sharing(registry=shipped_registry)
    lakes = [s for s in shipped_registry if s.water_body == "lake" and s.kind == "water_quality"]
    assert {s.jurisdiction for s in lakes} == {Jurisdiction.JS, Jurisdiction.SH}
    for station in lakes:
        for data in ("tp", "tn"):
            audience = sharing.audience(station.id, data)
            assert set(audience) == set(Jurisdiction), (station.id, data)
            assert {g.granularity for g in audience.values()} == {Granularity.REALTIME}
            assert {g.delay_hours for g in audience.values()} == {0}


# --- years ----------------------------------------------------------------------------------


def test_next_years_list_sits_beside_and_the_newest_is_in_force(
    tmp_path: Path, shipped_registry: Registry
) -> None:
    daily = LAKE_TP + "          granularity: daily\n"
    text = HEAD + LAKE_TP + "  2022:\n    owners:\n" + daily
    path = tmp_path / "sharing.yaml"
    path.write_text(text, encoding="utf-8")
    newest = load_sharing(path, registry=shipped_registry)
    earlier = load_sharing(path, registry=shipped_registry, year=2021)
    assert (newest.year, earlier.year) == (2022, 2021)
    assert newest.audience("JS-TH-028", "tp")[Jurisdiction.ZJ].granularity is Granularity.DAILY
    assert earlier.audience("JS-TH-028", "tp")[Jurisdiction.ZJ].granularity is Granularity.REALTIME
    assert newest.items[0].line == line_of(text, "- stations: lake", 2)


def test_a_year_without_a_list_is_refused(tmp_path: Path, shipped_registry: Registry) -> None:
    path = tmp_path / "sharing.yaml"
    path.write_text(HEAD + LAKE_TP, encoding="utf-8")
    with pytest.raises(SharingError) as caught:
        load_sharing(path, registry=shipped_registry, year=2023)
    assert [str(p) for p in caught.value.problems] == [f"{path}: no list for 2023 (lists: 2021)"]


# --- mistakes, each with its line -----------------------------------------------------------


def test_an_unknown_station_is_refused_with_its_line(
    tmp_path: Path, shipped_registry: Registry
) -> None:
    text = HEAD + (
        "      JS:\n"
        "        - stations:\n"
        "            - lake\n"
        "            - JS-TH-999\n"
        "          data: tp\n"
        "          shared_with: all\n"
    )
    assert problems_of(tmp_path, shipped_registry, text) == [
        f"{tmp_path / 'sharing.yaml'}:{line_of(text, 'JS-TH-999')}: 2021 JS item 1.stations[1]: "
        "unknown station 'JS-TH-999' (not in the registry; selectors: all, lake, river, "
        "cross_boundary, hydrology)"
    ]


def test_an_unknown_party_is_refused_with_its_line(
    tmp_path: Path, shipped_registry: Registry
) -> None:
    text = HEAD + LAKE_TP.replace("shared_with: all", "shared_with: [ZJ, HZ]")
    [problem] = problems_of(tmp_path, shipped_registry, text)
    assert problem.endswith(
        f":{line_of(text, 'HZ')}: 2021 JS item 1.shared_with[1]: "
        "unknown party 'HZ' (one of JS, ZJ, SH, AH, TBA, or all)"
    )


def test_an_unknown_owner_is_refused_with_its_line(
    tmp_path: Path, shipped_registry: Registry
) -> None:
    text = HEAD + LAKE_TP.replace("JS:", "HZ:")
    [problem] = problems_of(tmp_path, shipped_registry, text)
    assert problem.endswith(
        f":{line_of(text, 'HZ:')}: 2021.owners: unknown owner 'HZ' (one of JS, ZJ, SH, AH, TBA)"
    )


def test_an_unknown_parameter_is_refused_with_its_line(
    tmp_path: Path, shipped_registry: Registry
) -> None:
    text = HEAD + LAKE_TP.replace("data: tp", "data:\n            - tp\n            - tpp")
    [problem] = problems_of(tmp_path, shipped_registry, text)
    assert f":{line_of(text, '- tpp')}: 2021 JS item 1.data[1]: unknown parameter 'tpp'" in problem
    assert (
        "(parameters: ph, do, codmn" in problem and "or parameters, qc, class, alerts)" in problem
    )


def test_a_station_listed_under_another_owner_is_refused(
    tmp_path: Path, shipped_registry: Registry
) -> None:
    text = HEAD + LAKE_TP.replace("stations: lake", "stations: [ZJ-TH-002]")
    assert problems_of(tmp_path, shipped_registry, text) == [
        f"{tmp_path / 'sharing.yaml'}:{line_of(text, 'ZJ-TH-002')}: 2021 JS item 1.stations[0]: "
        "station ZJ-TH-002 belongs to ZJ: list it there"
    ]


def test_conflicting_terms_for_the_same_station_data_and_party_give_both_lines(
    tmp_path: Path, shipped_registry: Registry
) -> None:
    text = HEAD + (
        "      JS:\n"
        "        - stations: lake\n"
        "          data: [tp, tn]\n"
        "          shared_with: all\n"
        "        - stations: [JS-TH-028]  # 西山\n"
        "          data: [tp, do]\n"
        "          shared_with: [TBA, ZJ]\n"
        "          granularity: daily\n"
        "          delay_hours: 24\n"
    )
    first, second = line_of(text, "stations: lake"), line_of(text, "JS-TH-028")
    assert problems_of(tmp_path, shipped_registry, text) == [
        f"{tmp_path / 'sharing.yaml'}:{second}: 2021 JS item 2: shares JS-TH-028 tp and 1 more "
        "with TBA, ZJ as daily means after 24 h, but item 1 shares it as real time at once "
        f"(first at line {first})"
    ]


def test_the_same_terms_twice_are_no_conflict(tmp_path: Path, shipped_registry: Registry) -> None:
    text = HEAD + LAKE_TP + LAKE_TP.replace("      JS:\n", "").replace("lake", "[JS-TH-028]")
    path = tmp_path / "sharing.yaml"
    path.write_text(text, encoding="utf-8")
    sharing = load_sharing(path, registry=shipped_registry)
    assert sharing.audience("JS-TH-028", "tp")[Jurisdiction.ZJ].line == line_of(text, "lake")


def test_flags_and_alerts_are_not_averaged(tmp_path: Path, shipped_registry: Registry) -> None:
    text = HEAD + LAKE_TP.replace("data: tp", "data: [tp, qc, alerts]")
    text += "          granularity: hourly\n"
    line = line_of(text, "data:")
    assert problems_of(tmp_path, shipped_registry, text) == [
        f"{tmp_path / 'sharing.yaml'}:{line}: 2021 JS item 1.data[{n}]: "
        f"{name} is not averaged: share it in real time (delayed or not)"
        for n, name in ((1, "qc"), (2, "alerts"))
    ]


def test_a_selector_that_selects_nothing_and_data_no_station_gives(
    tmp_path: Path, shipped_registry: Registry
) -> None:
    text = HEAD + (
        "      AH:\n"
        "        - stations: lake\n"  # AH has no lake section
        "          data: tp\n"
        "          shared_with: all\n"
        "      TBA:\n"
        "        - stations: hydrology\n"
        "          data:\n"
        "            - level\n"
        "            - tp\n"
        "            - class\n"
        "          shared_with: all\n"
    )
    path = tmp_path / "sharing.yaml"
    assert problems_of(tmp_path, shipped_registry, text) == [
        f"{path}:{line_of(text, 'stations: lake')}: 2021 AH item 1.stations: "
        "selects none of AH's stations",
        f"{path}:{line_of(text, '- tp')}: 2021 TBA item 1.data[1]: "
        "none of the selected stations measures tp",
        f"{path}:{line_of(text, '- class')}: 2021 TBA item 1.data[2]: "
        "none of the selected stations has a class",
    ]


def test_an_owner_does_not_share_with_itself(tmp_path: Path, shipped_registry: Registry) -> None:
    text = HEAD + LAKE_TP.replace("shared_with: all", "shared_with: [ZJ, JS]")
    [problem] = problems_of(tmp_path, shipped_registry, text)
    assert problem.endswith(
        f":{line_of(text, 'shared_with')}: 2021 JS item 1.shared_with[1]: "
        "JS sees its own data in full: do not share with it"
    )


def test_every_problem_of_a_file_is_reported_at_once(
    tmp_path: Path, shipped_registry: Registry
) -> None:
    text = HEAD + (
        "      JS:\n"
        "        - stations: [lake, lake]\n"
        "          data: [tp, tp]\n"
        "          shared_with: [all, ZJ]\n"
        "          granularity: weekly\n"
        "          delay_hours: 1000\n"
        "          confirm: [whom]\n"
        "          colour: blue\n"
        "        - stations: river\n"
        "          shared_with: TBA\n"
        "      ZJ: []\n"
        "  '21':\n"
        "    owners: {}\n"
    )
    path = tmp_path / "sharing.yaml"
    item = "2021 JS item 1"
    year_21 = "'21'"
    assert problems_of(tmp_path, shipped_registry, text) == [
        f"{path}:{line_of(text, '[lake, lake]')}: {item}.stations[1]: 'lake' is listed twice",
        f"{path}:{line_of(text, '[tp, tp]')}: {item}.data[1]: 'tp' is listed twice",
        f"{path}:{line_of(text, '[all, ZJ]')}: {item}.shared_with: 'all' already names every party",
        f"{path}:{line_of(text, 'weekly')}: {item}.granularity: "
        "'weekly' is not one of daily, hourly, realtime",
        f"{path}:{line_of(text, '1000')}: {item}.delay_hours: 1000 is outside 0..720",
        f"{path}:{line_of(text, 'whom')}: {item}.confirm[0]: 'whom' is not one of data, "
        "delay_hours, excluding, granularity, shared_with, stations",
        f"{path}:{line_of(text, 'colour')}: {item}: unknown key 'colour' (allowed: confirm, "
        "data, delay_hours, excluding, granularity, note, shared_with, stations)",
        f"{path}:{line_of(text, 'stations: river')}: 2021 JS item 2: missing required key 'data'",
        f"{path}:{line_of(text, 'ZJ: []')}: 2021.owners.ZJ: "
        "list the owner's items, or leave it out",
        f"{path}:{line_of(text, year_21)}: years: '21' is not a year (2000..2100)",
    ]


def test_a_file_that_is_not_a_list_at_all(tmp_path: Path, shipped_registry: Registry) -> None:
    path = tmp_path / "sharing.yaml"
    assert problems_of(tmp_path, shipped_registry, "version: 2\nyears: {}\n") == [
        f"{path}:1: version: 2 is outside 1..1",
        f"{path}:2: years: give one year's list",
    ]


def test_the_example_in_the_docs_loads(shipped_registry: Registry) -> None:
    docs = Path(__file__).resolve().parents[4] / "docs" / "sharing.md"
    example = docs.read_text(encoding="utf-8").split("```yaml\n")[1].split("```")[0]
    sharing = load_sharing("sharing.md", registry=shipped_registry, text=example)
    river = sharing.audience("JS-TH-001", "tp")
    assert river[Jurisdiction.AH].terms == "daily means after 24 h"
    assert Jurisdiction.AH not in sharing.audience("JS-TH-021", "tp")  # excluded
