"""Rules from YAML: the shipped file, and mistakes reported with their line."""

from __future__ import annotations

import pytest

from stations.errors import RuleConfigError
from stations.jurisdictions import Jurisdiction
from stations.registry import Registry
from stations.rules.config import load_rules
from stations.rules.engine import Persistence
from stations.rules.events import Severity


def test_shipped_rules_load_against_the_shipped_registry(shipped_registry: Registry) -> None:
    rules = load_rules(registry=shipped_registry)
    assert rules.target_class is not None
    assert rules.target_class.persistence == Persistence(consecutive=2)
    lake = shipped_registry.by_name("西山")  # JS lake section
    ids = [rule.id for rule in rules.rules_for(lake)]
    assert ids[0] == "target-class"
    assert "js-lake-tp" in ids
    gauge = shipped_registry.by_name("太湖平均水位")
    hydrology = {rule.id: rule for rule in rules.rules_for(gauge) if rule.id.startswith("level")}
    assert set(hydrology) == {"level-warning", "level-guaranteed"}


def test_a_small_rule_file() -> None:
    text = (
        "version: 1\n"
        "target_class: false\n"
        "jurisdiction_limits:\n"
        "  - id: zj-nh3n\n"
        "    jurisdiction: ZJ\n"
        "    parameter: nh3n\n"
        "    max: 0.8\n"
        "    severity: critical\n"
        "    persistence: {window_hours: 12, min_results: 2}\n"
    )
    rules = load_rules("rules.yaml", text=text)
    assert rules.target_class is None
    (rule,) = rules.limits
    assert (rule.id, rule.jurisdiction, rule.max, rule.min) == (
        "zj-nh3n",
        Jurisdiction.ZJ,
        0.8,
        None,
    )
    assert rule.severity is Severity.CRITICAL
    assert rule.persistence == Persistence(consecutive=None, window_seconds=43200, min_results=2)


LIMIT = (
    "version: 1\n"
    "jurisdiction_limits:\n"
    "  - id: js-tp\n"
    "    jurisdiction: JS\n"
    "    parameter: tp\n"
    "    max: 0.1\n"
)


def line_of(text: str, marker: str, occurrence: int = 1) -> int:
    hits = [n for n, line in enumerate(text.splitlines(), start=1) if marker in line]
    return hits[occurrence - 1]


@pytest.mark.parametrize(
    ("extra", "marker", "message"),
    [
        ("    colour: red\n", "colour", "unknown key 'colour'"),
        ("    severity: urgent\n", "urgent", "'urgent' is not one of critical, info, warning"),
        ("    min: 0.01\n", "- id: js-tp", "give exactly one of max and min"),
        ("    persistence: {consecutive: 0}\n", "consecutive", "0 is outside 1..1000"),
        ("    persistence: {consecutive: 2, window_hours: 4}\n", "persistence", "give consecutive"),
        ("    persistence: {window_hours: -4}\n", "window_hours", "greater than 0"),
        ("    persistence: {consecutive: 2, min_results: 3}\n", "consecutive", "min_results goes"),
        ("    water_body: sea\n", "sea", "'sea' is not one of lake, river"),
    ],
)
def test_bad_rules_fail_loudly_with_the_line(extra: str, marker: str, message: str) -> None:
    text = LIMIT + extra
    with pytest.raises(RuleConfigError) as caught:
        load_rules("rules.yaml", text=text)
    (problem,) = caught.value.problems
    assert (problem.path, problem.line) == ("rules.yaml", line_of(text, marker))
    assert message in problem.message


def test_duplicate_and_reserved_rule_ids() -> None:
    text = (
        LIMIT
        + LIMIT.split("jurisdiction_limits:\n")[1]
        + ("  - id: level-warning\n    jurisdiction: JS\n    parameter: level\n    max: 4\n")
    )
    with pytest.raises(RuleConfigError) as caught:
        load_rules("rules.yaml", text=text)
    problems = [(p.line, p.message) for p in caught.value.problems]
    assert problems == [
        (
            line_of(text, "id: js-tp", 2),
            "jurisdiction_limits[1]: duplicate rule id 'js-tp' (first at line 3)",
        ),
        (
            line_of(text, "id: level-warning"),
            "jurisdiction_limits[2]: duplicate rule id 'level-warning' (reserved)",
        ),
    ]


def test_target_class_takes_no_window() -> None:
    text = "version: 1\ntarget_class:\n  persistence: {window_hours: 24}\n"
    with pytest.raises(RuleConfigError) as caught:
        load_rules("rules.yaml", text=text)
    (problem,) = caught.value.problems
    assert problem.line == 3
    assert "unknown key 'window_hours'" in problem.message


def test_station_limits_are_checked_against_the_registry(shipped_registry: Registry) -> None:
    level_gauge = shipped_registry.by_name("太湖平均水位").id
    text = (
        "version: 1\n"
        "station_limits:\n"
        "  - id: nowhere\n"
        "    station: JS-TH-999\n"
        "    parameter: tp\n"
        "    max: 0.1\n"
        "  - id: gauge-tp\n"
        f"    station: {level_gauge}\n"
        "    parameter: tp\n"
        "    max: 0.1\n"
        "  - id: zinc\n"
        f"    station: {level_gauge}\n"
        "    parameter: zinc\n"
        "    max: 0.1\n"
    )
    with pytest.raises(RuleConfigError) as caught:
        load_rules("rules.yaml", text=text, registry=shipped_registry)
    problems = [(p.line, p.message) for p in caught.value.problems]
    assert [line for line, _ in problems] == [4, 8, 13]
    assert "'JS-TH-999' is not in the registry" in problems[0][1]
    assert f"station {level_gauge} does not measure tp" in problems[1][1]
    assert "'zinc' is not one of" in problems[2][1]


def test_unknown_hydrology_rule() -> None:
    text = "version: 1\nhydrology:\n  level-alarm: {severity: warning}\n"
    with pytest.raises(RuleConfigError, match=r"rules\.yaml:3: .*unknown key 'level-alarm'"):
        load_rules("rules.yaml", text=text)
