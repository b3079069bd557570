"""The lake's comprehensive trophic level index TLI(Σ) (CNEMC 总站生字〔2001〕090号), by hand.

TLI(j) = 10(a + b ln C): chla 10 mg/m³ -> 25 + 10.86 × 2.302585 = 50.006; TP 0.1 mg/L ->
94.36 − 16.24 × 2.302585 = 56.966; TN 2.0 -> 54.53 + 16.94 × 0.693147 = 66.272; SD 0.5 m ->
51.18 + 19.4 × 0.693147 = 64.627; CODMn 5.0 -> 1.09 + 26.61 × 1.609438 = 43.917.
Weights r²: chla 1, TP 0.7056, TN 0.6724, SD 0.6889, CODMn 0.6889; Σ = 3.7558 (five), 3.0669
(without SD).
"""

from __future__ import annotations

import math

import pytest

from stations.standard.trophic import (
    lake_trophic,
    parameter_tli,
    point_average,
    trophic_grade,
    trophic_index,
)

FOUR = {"chla": 0.010, "tp": 0.1, "tn": 2.0, "codmn": 5.0}
FIVE = {**FOUR, "sd": 0.5}
PARTS = {"chla": 50.006, "tp": 56.966, "tn": 66.272, "sd": 64.627, "codmn": 43.917}


@pytest.mark.parametrize(("parameter", "value"), list(FIVE.items()))
def test_parameter_tli(parameter: str, value: float) -> None:
    assert parameter_tli(parameter, value) == pytest.approx(PARTS[parameter], abs=1e-3)


def test_chla_is_converted_from_mg_per_litre_to_mg_per_cubic_metre() -> None:
    # 0.010 mg/L = 10 mg/m³: 10(2.5 + 1.086 ln 10) = 50.006; unconverted, ln 0.01 would give −25.0.
    assert parameter_tli("chla", 0.010) == pytest.approx(50.006, abs=1e-3)
    assert parameter_tli("chla", 0.001) == pytest.approx(25.0, abs=1e-9)  # 1 mg/m³: ln 1 = 0


def test_tli_with_five_parameters() -> None:
    # (50.006 + 0.7056 × 56.966 + 0.6724 × 66.272 + 0.6889 × 64.627 + 0.6889 × 43.917) / 3.7558
    # = 209.541 / 3.7558 = 55.79
    result = trophic_index(FIVE)
    assert result is not None
    assert result.tli == pytest.approx(55.79, abs=0.005)
    assert result.used == ("chla", "tp", "tn", "sd", "codmn")
    assert result.grade == "轻度富营养"
    assert result.parts["sd"] == pytest.approx(64.627, abs=1e-3)


def test_tli_with_four_parameters_renormalises_the_weights() -> None:
    # Without SD: (50.006 + 0.7056 × 56.966 + 0.6724 × 66.272 + 0.6889 × 43.917) / 3.0669
    # = 165.018 / 3.0669 = 53.81
    result = trophic_index(FOUR)
    assert result is not None
    assert result.tli == pytest.approx(53.81, abs=0.005)
    assert result.used == ("chla", "tp", "tn", "codmn")
    assert "sd" not in result.parts


def test_no_index_without_chlorophyll() -> None:
    assert trophic_index({"tp": 0.1, "tn": 2.0, "codmn": 5.0}) is None
    assert trophic_index({**FOUR, "chla": math.nan}) is None


def test_non_positive_or_missing_means_are_left_out() -> None:
    result = trophic_index({**FOUR, "sd": 0.0, "tn": math.nan})
    assert result is not None
    assert result.used == ("chla", "tp", "codmn")


@pytest.mark.parametrize(
    ("tli", "grade"),
    [
        (29.9, "贫营养"),
        (30.0, "中营养"),  # 30 ≤ TLI ≤ 50
        (50.0, "中营养"),
        (50.04, "中营养"),  # published as 50.0
        (50.1, "轻度富营养"),  # 50 < TLI ≤ 60
        (60.0, "轻度富营养"),
        (60.1, "中度富营养"),  # 60 < TLI ≤ 70
        (70.0, "中度富营养"),
        (70.1, "重度富营养"),  # TLI > 70
    ],
)
def test_grades_and_their_bounds(tli: float, grade: str) -> None:
    assert trophic_grade(tli) == grade


def test_lake_averages_the_points_then_takes_the_index() -> None:
    # Points (already period means) averaging to FOUR: chla (0.004 + 0.016)/2 = 0.010, TP 0.1,
    # TN 2.0, CODMn 5.0 -> TLI 53.81 (轻度富营养). The mean of the points' own indices (44.06 and
    # 59.58) would be 51.82: the lake is the index of the averaged concentrations.
    points = [
        {"chla": 0.004, "tp": 0.05, "tn": 1.0, "codmn": 4.0},
        {"chla": 0.016, "tp": 0.15, "tn": 3.0, "codmn": 6.0},
    ]
    assert point_average(points) == pytest.approx(FOUR)
    result = lake_trophic(points)
    assert result is not None
    assert result.tli == pytest.approx(53.81, abs=0.005)
    assert result.grade == "轻度富营养"


def test_a_point_without_a_parameter_does_not_count_for_it() -> None:
    points = [{"chla": 0.010, "tp": 0.1}, {"tp": 0.3}]
    assert point_average(points) == pytest.approx({"chla": 0.010, "tp": 0.2})
    assert lake_trophic([]) is None
