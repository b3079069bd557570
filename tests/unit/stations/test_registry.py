"""The station registry: the shipped file, and every kind of mistake reported with its line."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from stations.errors import RegistryError, UnknownStationError
from stations.jurisdictions import Jurisdiction
from stations.registry import DEFAULT_REGISTRY, Registry, StationKind, load_registry
from stations.standard.gb3838 import WaterBody

HEADER = """\
version: 1
profiles:
  basic:
    ph: {unit: dimensionless, range: [0, 14]}
    tp: {unit: mg/L, range: [0, 10]}
stations:
"""


def station(sid: str, name: str, mn: str, extra: str = "", jurisdiction: str = "JS") -> str:
    return (
        f"  - id: {sid}\n"
        f"    name: {name}\n"
        f"    jurisdiction: {jurisdiction}\n"
        f"    basin: 太湖流域\n"
        f"    water_body: river\n"
        f"    kind: water_quality\n"
        f"    target_class: 3\n"
        f"    profile: basic\n"
        f'    hj212: {{mn: "{mn}", password_ref: hj212/{sid}}}\n'
        f"{extra}"
    )


def line_of(text: str, marker: str, occurrence: int = 1) -> int:
    """1-based line of the n-th line containing ``marker`` in the text the test wrote."""
    hits = [n for n, line in enumerate(text.splitlines(), start=1) if marker in line]
    return hits[occurrence - 1]


def problems_of(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "stations.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(RegistryError) as caught:
        load_registry(path)
    return [str(problem) for problem in caught.value.problems]


# --- the shipped registry -------------------------------------------------------------------


def read_sections(sections_csv: Path) -> list[dict[str, str]]:
    with open(sections_csv, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_shipped_registry_has_all_88_sections_as_published(
    shipped_registry: Registry, sections_csv: Path
) -> None:
    sections = read_sections(sections_csv)
    assert len(sections) == 88
    water_quality = [s for s in shipped_registry if s.kind is StationKind.WATER_QUALITY]
    assert sorted(s.name for s in water_quality) == sorted(row["section"] for row in sections)
    for row in sections:
        found = shipped_registry.by_name(row["section"])
        assert found.jurisdiction == row["province_code"], row["section"]
        assert found.basin == row["published_basin"], row["section"]
        assert found.water_body == row["water_body"], row["section"]
        assert found.interval_minutes == 240
        assert found.target_class in (1, 2, 3, 4, 5)


def test_boundary_hints_become_cross_boundary_parties(
    shipped_registry: Registry, sections_csv: Path
) -> None:
    hinted = [row for row in read_sections(sections_csv) if row["boundary_hint"]]
    assert len(hinted) == 7
    for row in hinted:
        found = shipped_registry.by_name(row["section"])
        parties = set(re.split(r"[>|]", row["boundary_hint"])) | {"TBA"}
        assert set(found.jurisdictions) == parties, row["section"]
        assert found.jurisdictions[0] == row["province_code"]
        assert found.jurisdictions[-1] is Jurisdiction.TBA
        assert "boundary" in found.confirm
    directed = shipped_registry.by_name("太浦河桥").boundary
    assert directed is not None
    assert (directed.upstream, directed.downstream) == ((Jurisdiction.JS,), (Jurisdiction.SH,))


def test_shipped_ids_mns_and_secret_references(shipped_registry: Registry) -> None:
    ids = [s.id for s in shipped_registry]
    assert len(ids) == len(set(ids))
    for item in shipped_registry:
        assert re.fullmatch(r"(JS|ZJ|SH|AH|TBA)-[A-Z]{2}-\d{3}", item.id)
        assert item.id.startswith(item.jurisdiction.value + "-")
        if item.hj212 is not None:
            assert item.hj212.password_ref == f"hj212/{item.id}"
            assert "hj212.mn" in item.confirm
    mns = [s.hj212.mn for s in shipped_registry if s.hj212]
    assert len(mns) == 88 == len(set(mns))
    assert "password:" not in DEFAULT_REGISTRY.read_text(encoding="utf-8")


def test_shipped_hydrology_examples(shipped_registry: Registry) -> None:
    lake = shipped_registry.by_name("太湖平均水位")
    assert lake.kind is StationKind.HYDROLOGY
    assert lake.jurisdiction is Jurisdiction.TBA
    assert lake.hydrology is not None
    assert (lake.hydrology.warning_level, lake.hydrology.guaranteed_level) == (3.80, 4.65)
    assert lake.parameters == ("level",)
    hydrology = [s for s in shipped_registry if s.kind is StationKind.HYDROLOGY]
    assert hydrology and all(s.example for s in hydrology)


def test_lookups(shipped_registry: Registry) -> None:
    xishan = shipped_registry.by_name("西山")
    assert xishan.water_body is WaterBody.LAKE
    assert shipped_registry.get(xishan.id) is xishan
    assert xishan.hj212 is not None
    assert shipped_registry.by_mn(xishan.hj212.mn) is xishan
    with pytest.raises(UnknownStationError, match="不存在"):
        shipped_registry.by_name("不存在")
    with pytest.raises(UnknownStationError, match="XX-TH-001"):
        shipped_registry.get("XX-TH-001")


def test_counts_per_jurisdiction(shipped_registry: Registry) -> None:
    counts = shipped_registry.counts()
    # taihu_sections.csv: 37 JS, 31 ZJ, 19 SH, 1 AH; plus the TBA hydrology examples.
    assert (counts[Jurisdiction.JS], counts[Jurisdiction.ZJ]) == (37, 31)
    assert (counts[Jurisdiction.SH], counts[Jurisdiction.AH]) == (19, 1)


# --- problems, with file and line ------------------------------------------------------------


def test_a_valid_small_registry_loads(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text(HEADER + station("JS-TH-001", "甲", "A1"), encoding="utf-8")
    registry = load_registry(path)
    assert [s.name for s in registry] == ["甲"]
    assert registry.get("JS-TH-001").parameters == ("ph", "tp")


def test_unknown_key_names_file_line_and_key(tmp_path: Path) -> None:
    text = HEADER + station("JS-TH-001", "甲", "A1", "    colour: blue\n")
    path = tmp_path / "stations.yaml"
    problems = problems_of(tmp_path, text)
    assert len(problems) == 1
    assert problems[0].startswith(f"{path}:{line_of(text, 'colour')}: ")
    assert "unknown key 'colour'" in problems[0]


def test_duplicates_are_reported_at_the_second_occurrence(tmp_path: Path) -> None:
    text = (
        HEADER
        + station("JS-TH-001", "甲", "A1")
        + station("JS-TH-001", "乙", "A2")  # same id
        + station("JS-TH-003", "甲", "A3")  # same name
        + station("JS-TH-004", "丁", "A1")  # same MN
    )
    problems = problems_of(tmp_path, text)
    first = line_of(text, "- id: JS-TH-001")
    assert problems == [
        f"{tmp_path}/stations.yaml:{line_of(text, '- id: JS-TH-001', 2)}: "
        f"duplicate id 'JS-TH-001' (first at line {first})",
        f"{tmp_path}/stations.yaml:{line_of(text, '- id: JS-TH-003')}: "
        f"duplicate name '甲' (first at line {first})",
        f"{tmp_path}/stations.yaml:{line_of(text, '- id: JS-TH-004')}: "
        f"duplicate HJ 212 MN 'A1' (first at line {first})",
    ]


def test_every_problem_is_collected_not_only_the_first(tmp_path: Path) -> None:
    text = (
        HEADER
        + station("JS-TH-001", "甲", "A1", "    target_class: 7\n").replace(
            "    target_class: 3\n", ""
        )
        + station("JS-TH-002", "乙", "A2", jurisdiction="HK")
        + station("JS-TH-003", "丙", "A3").replace("water_body: river", "water_body: sea")
    )
    problems = problems_of(tmp_path, text)
    lines = {int(p.split(":")[1]) for p in problems}
    assert lines == {
        line_of(text, "target_class: 7"),
        line_of(text, "jurisdiction: HK"),
        line_of(text, "water_body: sea"),
    }
    assert any("7 is outside 1..5" in p for p in problems)
    assert any("'HK' is not one of" in p for p in problems)
    assert any("'sea' is not one of lake, river" in p for p in problems)


@pytest.mark.parametrize(
    ("extra", "marker", "message"),
    [
        (
            "    parameters: {do: {unit: g/L, range: [0, 20]}}\n",
            "unit: g/L",
            "unknown unit 'g/L' for do",
        ),
        ("    parameters: {zinc: {unit: mg/L, range: [0, 1]}}\n", "zinc", "unknown parameter"),
        ("    parameters: {do: {unit: mg/L, range: [20, 0]}}\n", "[20, 0]", "must be below"),
        ("    boundary: {upstream: [XX]}\n", "XX", "'XX' is not one of"),
        ("    boundary: {}\n", "boundary", "name at least one jurisdiction"),
        ("    lat: 123\n", "lat: 123", "outside [-90.0, 90.0]"),
        ("    confirm: [colour]\n", "confirm", "'colour' is not one of"),
        ("    hydrology: {warning_level: 3.8}\n", "hydrology", "only for kind hydrology"),
    ],
)
def test_bad_values_are_reported_with_their_line(
    tmp_path: Path, extra: str, marker: str, message: str
) -> None:
    text = HEADER + station("JS-TH-001", "甲", "A1", extra)
    problems = problems_of(tmp_path, text)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{tmp_path}/stations.yaml:{line_of(text, marker)}: ")
    assert message in problems[0]


def test_unquoted_numeric_mn_asks_for_quotes(tmp_path: Path) -> None:
    text = HEADER + station("JS-TH-001", "甲", "A1").replace('"A1"', "3201")
    (problem,) = problems_of(tmp_path, text)
    assert f":{line_of(text, 'hj212')}: " in problem
    assert "expected a string, got an integer '3201' (quote it)" in problem


def test_id_must_start_with_the_jurisdiction(tmp_path: Path) -> None:
    text = HEADER + station("ZJ-TH-001", "甲", "A1")
    (problem,) = problems_of(tmp_path, text)
    assert f":{line_of(text, 'ZJ-TH-001')}: " in problem
    assert "must start with its jurisdiction JS-" in problem


def test_duplicate_mapping_key_is_a_problem(tmp_path: Path) -> None:
    text = HEADER + station("JS-TH-001", "甲", "A1", "    name: 又名\n")
    (problem,) = problems_of(tmp_path, text)
    assert f":{line_of(text, '又名')}: " in problem
    assert "duplicate key 'name'" in problem


def test_missing_required_key(tmp_path: Path) -> None:
    text = HEADER + station("JS-TH-001", "甲", "A1").replace("    basin: 太湖流域\n", "")
    (problem,) = problems_of(tmp_path, text)
    assert f":{line_of(text, '- id: JS-TH-001')}: " in problem
    assert "missing required key 'basin'" in problem


def test_hydrology_station_needs_levels_block_and_level_or_flow(tmp_path: Path) -> None:
    text = HEADER + (
        "  - id: TBA-HY-001\n"
        "    name: 某水位站\n"
        "    jurisdiction: TBA\n"
        "    basin: 太湖流域\n"
        "    water_body: lake\n"
        "    kind: hydrology\n"
        "    interval_minutes: 60\n"
        "    profile: basic\n"
    )
    problems = problems_of(tmp_path, text)
    assert len(problems) == 2
    assert all(f":{line_of(text, '- id: TBA-HY-001')}: " in p for p in problems)
    assert any("measures level or flow" in p for p in problems)
    assert any("needs a hydrology block" in p for p in problems)


def test_yaml_syntax_error_has_a_line(tmp_path: Path) -> None:
    text = HEADER + station("JS-TH-001", "甲", "A1") + "    note: [unclosed\n"
    (problem,) = problems_of(tmp_path, text)
    assert re.match(rf"{re.escape(str(tmp_path))}/stations.yaml:\d+: not valid YAML", problem)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="cannot read the file"):
        load_registry(tmp_path / "nowhere.yaml")
