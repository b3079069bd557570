"""GB 3838-2002 classification: boundaries, water bodies, overall class, basin status.

Expectations come from the standard's table (written out here), not from the code.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import pytest

from stations.errors import ClassificationError
from stations.standard.gb3838 import (
    basin_status,
    class_name,
    classify_report,
    overall_classes,
    parameter_classes,
    parse_class,
)

# GB 3838-2002 table 1, limits of classes I..V (mg/L); DO is a lower bound.
STANDARD_UPPER = {
    ("codmn", "river"): (2, 4, 6, 10, 15),
    ("codmn", "lake"): (2, 4, 6, 10, 15),
    ("bod5", "river"): (3, 3, 4, 6, 10),
    ("nh3n", "river"): (0.15, 0.5, 1.0, 1.5, 2.0),
    ("nh3n", "lake"): (0.15, 0.5, 1.0, 1.5, 2.0),
    ("tp", "river"): (0.02, 0.1, 0.2, 0.3, 0.4),
    ("tp", "lake"): (0.01, 0.025, 0.05, 0.1, 0.2),
    ("tn", "lake"): (0.2, 0.5, 1.0, 1.5, 2.0),
}
STANDARD_DO = (7.5, 6, 5, 3, 2)


def upper_cases() -> Iterator[tuple[str, str, float, int]]:
    """On each limit: that class; 0.001 above: the next class (for distinct limits)."""
    for (parameter, body), limits in STANDARD_UPPER.items():
        for index, limit in enumerate(limits):
            cls = index + 1
            if index == 0 or limits[index - 1] != limit:
                yield parameter, body, float(limit), cls
            if index == len(limits) - 1 or limits[index + 1] != limit:
                yield parameter, body, limit + 0.001, cls + 1


@pytest.mark.parametrize(("parameter", "body", "value", "expected"), list(upper_cases()))
def test_upper_bound_on_and_above_each_limit(
    parameter: str, body: str, value: float, expected: int
) -> None:
    assert parameter_classes(parameter, [value], body).tolist() == [expected]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (7.5, 1),
        (7.499, 2),
        (6.0, 2),
        (5.999, 3),
        (5.0, 3),
        (4.999, 4),
        (3.0, 4),
        (2.999, 5),
        (2.0, 5),
        (1.999, 6),
        (12.0, 1),
        (0.0, 6),
    ],
)
def test_dissolved_oxygen_is_a_lower_bound(value: float, expected: int) -> None:
    assert parameter_classes("do", [value], "river").tolist() == [expected]
    assert parameter_classes("do", [value], "lake").tolist() == [expected]


@pytest.mark.parametrize(
    ("value", "expected"),
    [(6.0, 1), (9.0, 1), (7.3, 1), (5.99, 6), (9.01, 6), (0.0, 6), (14.0, 6)],
)
def test_ph_inside_6_to_9_is_class_one_outside_is_worse_than_v(value: float, expected: int) -> None:
    assert parameter_classes("ph", [value], "river").tolist() == [expected]


def test_cod_shares_the_limit_of_classes_one_and_two() -> None:
    assert parameter_classes("cod", [15.0, 15.5, 20.0, 40.0, 40.5], "river").tolist() == [
        1,
        3,
        3,
        5,
        6,
    ]


def test_tp_lake_and_river_columns_differ() -> None:
    # 0.05 mg/L: lake column III (on its limit), river column II (0.02 < 0.05 <= 0.1).
    assert parameter_classes("tp", [0.05], "lake").tolist() == [3]
    assert parameter_classes("tp", [0.05], "river").tolist() == [2]
    # 0.15: lake column V (0.1 < 0.15 <= 0.2), river column III (0.1 < 0.15 <= 0.2).
    assert parameter_classes("tp", [0.15], "lake").tolist() == [5]
    assert parameter_classes("tp", [0.15], "river").tolist() == [3]


def test_tn_has_no_class_for_rivers() -> None:
    with pytest.raises(ClassificationError, match="tn"):
        parameter_classes("tn", [1.0], "river")


def test_nan_has_no_class() -> None:
    assert parameter_classes("nh3n", [0.1, math.nan, 3.0], "river").tolist() == [1, 0, 6]


def test_unknown_water_body_is_refused() -> None:
    with pytest.raises(ClassificationError, match="sea"):
        parameter_classes("tp", [0.1], "sea")


def test_overall_class_is_the_worst_of_the_five_and_needs_all_five() -> None:
    values = {
        "ph": np.array([7.0, 7.0, 9.5]),
        "do": np.array([8.0, 5.5, 8.0]),
        "codmn": np.array([3.0, 3.0, 3.0]),
        "nh3n": np.array([0.1, 0.1, math.nan]),
        "tp": np.array([0.04, 0.04, 0.04]),
    }
    # lake: row 0 -> TP 0.04 is III; row 1 -> DO 5.5 III, TP III -> III; row 2 -> NH3-N missing
    assert overall_classes(values, "lake").tolist() == [3, 3, 0]
    # river: row 0 -> TP 0.04 is II, CODMn 3 is II -> II; row 1 -> DO III
    assert overall_classes(values, "river").tolist() == [2, 3, 0]


def test_per_report_class_names_the_limiting_parameters() -> None:
    report = {"ph": 7.8, "do": 8.2, "codmn": 4.5, "nh3n": 0.2, "tp": 0.08, "tn": 1.6, "temp": 18}
    result = classify_report(report, "lake")
    # CODMn 4.5 -> III, TP 0.08 lake -> IV, TN 1.6 lake -> V but TN is not part of the class
    assert result.cls == 4
    assert result.limiting == ("tp",)
    assert result.classes == {"ph": 1, "do": 1, "codmn": 3, "nh3n": 2, "tp": 4, "tn": 5}
    assert result.name == "Ⅳ类"


def test_ties_list_every_limiting_parameter() -> None:
    report = {"ph": 7.0, "do": 5.5, "codmn": 5.0, "nh3n": 0.8, "tp": 0.05}
    assert classify_report(report, "river").limiting == ("do", "codmn", "nh3n")


@pytest.mark.parametrize("missing", ["ph", "do", "codmn", "nh3n", "tp"])
def test_any_of_the_five_missing_means_no_class(missing: str) -> None:
    report: dict[str, float | None] = {"ph": 7, "do": 8, "codmn": 3, "nh3n": 0.2, "tp": 0.05}
    report[missing] = None
    result = classify_report(report, "river")
    assert result.cls is None
    assert result.limiting == ()
    assert missing not in result.classes


def test_maintenance_row_with_all_five_is_classed() -> None:
    # 千灯浦口 04-04 04:00, status 维护, published Ⅲ: pH 7.49 I, DO 5.77 III, CODMn 4.05 III,
    # NH3-N 0.683 III, TP 0.116 river III.
    report = {"ph": 7.49, "do": 5.77, "codmn": 4.05, "nh3n": 0.683, "tp": 0.116}
    result = classify_report(report, "river")
    assert result.cls == 3
    assert result.limiting == ("do", "codmn", "nh3n", "tp")


def test_ph_out_of_range_makes_the_result_worse_than_v() -> None:
    report = {"ph": 9.2, "do": 8, "codmn": 3, "nh3n": 0.2, "tp": 0.05}
    result = classify_report(report, "river")
    assert (result.cls, result.limiting, result.name) == (6, ("ph",), "劣Ⅴ类")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Ⅰ", 1),
        ("Ⅱ", 2),
        ("Ⅲ类", 3),
        ("Ⅳ", 4),
        ("Ⅴ", 5),
        ("劣Ⅴ", 6),
        ("劣Ⅴ类", 6),
        ("IV", 4),
        ("*", None),
    ],
)
def test_parse_published_class(text: str, expected: int | None) -> None:
    assert parse_class(text) == expected


def test_parse_class_refuses_nonsense() -> None:
    with pytest.raises(ClassificationError, match="Ⅵ"):
        parse_class("Ⅵ")


def test_class_names() -> None:
    assert [class_name(c) for c in range(1, 7)] == ["Ⅰ类", "Ⅱ类", "Ⅲ类", "Ⅳ类", "Ⅴ类", "劣Ⅴ类"]


@pytest.mark.parametrize(
    ("classes", "grade"),
    [
        ([1] * 9 + [4], "优"),  # 90 % in I-III
        ([2] * 8 + [4, 4], "良好"),  # 80 %
        ([3] * 3 + [4], "良好"),  # 75 % exactly
        ([3] * 7 + [4] * 2 + [6], "轻度污染"),  # 70 %, 劣V 10 %
        ([3] * 7 + [4] + [6] * 2, "中度污染"),  # 劣V 20 % exactly
        ([3] * 6 + [6] * 4, "重度污染"),  # 劣V 40 % exactly
    ],
)
def test_basin_status(classes: list[int], grade: str) -> None:
    assert basin_status(classes).grade == grade


def test_basin_status_shares() -> None:
    status = basin_status([1, 3, 5, 6])
    assert (status.share_good, status.share_worse_than_v, status.sections) == (0.5, 0.25, 4)


def test_basin_status_needs_sections() -> None:
    with pytest.raises(ClassificationError):
        basin_status([])
