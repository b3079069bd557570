"""The assessment of a period (环办〔2011〕22号): hand-computed cases for every rule, and the
April 2021 CNEMC files of Jiangsu's sections checked against values computed by hand.

Limits used below (GB 3838-2002 Table 1, mg/L): Ⅲ is CODMn 6, NH3-N 1.0, TP 0.2 (river) and 0.05
(lake), DO ≥ 5; Ⅳ CODMn 10, NH3-N 1.5, TP 0.3 / 0.1, DO ≥ 3; Ⅴ CODMn 15, NH3-N 2.0, TP 0.4 / 0.2,
DO ≥ 2; pH 6–9 or 劣Ⅴ.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from stations.errors import ClassificationError
from stations.formats.cnemc import read_cnemc
from stations.registry import Registry
from stations.standard.gb3838 import WaterBody
from stations.standard.period import (
    GroupPeriod,
    SectionPeriod,
    Status,
    assess_group,
    assess_section,
    class_change,
    expected_results,
    group_change,
    pollutants,
)
from stations.station import Station

StationFactory = Callable[..., Station]

CST = timezone(timedelta(hours=8))
APRIL = (datetime(2021, 4, 1, tzinfo=CST), datetime(2021, 5, 1, tzinfo=CST))

#: Class Ⅰ for pH, DO, CODMn and NH3-N; TP sets the class.
CLEAN = {"ph": 7.0, "do": 8.0, "codmn": 2.0, "nh3n": 0.15}
#: A river TP on the upper limit of each class, and one worse than Ⅴ.
RIVER_TP = {1: 0.02, 2: 0.1, 3: 0.2, 4: 0.3, 5: 0.4, 6: 0.5}


def section(factory: StationFactory, means: dict[str, float], **station: object) -> SectionPeriod:
    return assess_section(factory(**station), means, valid=180, expected=180)


def of_class(factory: StationFactory, cls: int, **station: object) -> SectionPeriod:
    return section(factory, {**CLEAN, "tp": RIVER_TP[cls]}, **station)


def group(factory: StationFactory, classes: list[int]) -> GroupPeriod:
    return assess_group("JS", [of_class(factory, cls) for cls in classes])


# --- a section's class ----------------------------------------------------------------------


def test_means_on_the_class_iii_limits_are_class_iii(station_factory: StationFactory) -> None:
    means = {"ph": 9.0, "do": 5.0, "codmn": 6.0, "nh3n": 1.0, "tp": 0.2}
    result = section(station_factory, means)
    assert result.water_class == 3
    assert result.classes == {"ph": 1, "do": 3, "codmn": 3, "nh3n": 3, "tp": 3}
    assert result.main_pollutants == ()
    assert result.status == Status.GOOD


def test_a_lake_uses_the_lake_tp_column(station_factory: StationFactory) -> None:
    on_limit = {**CLEAN, "tp": 0.05}
    assert section(station_factory, on_limit, water_body=WaterBody.LAKE).water_class == 3
    assert section(station_factory, on_limit, water_body=WaterBody.RIVER).water_class == 2
    river_iii = {**CLEAN, "tp": 0.2}
    assert section(station_factory, river_iii, water_body=WaterBody.LAKE).water_class == 5


def test_just_above_a_limit_is_the_next_class(station_factory: StationFactory) -> None:
    assert section(station_factory, {**CLEAN, "tp": 0.201}).water_class == 4
    assert section(station_factory, {**CLEAN, "do": 4.99, "tp": 0.02}).water_class == 4
    assert section(station_factory, {**CLEAN, "ph": 9.01, "tp": 0.02}).water_class == 6


def test_no_class_unless_all_five_have_a_mean(station_factory: StationFactory) -> None:
    without_tp = section(station_factory, dict(CLEAN))
    assert without_tp.water_class is None
    assert without_tp.status is None
    assert without_tp.target_met is None
    assert without_tp.main_pollutants == ()
    nan_tp = section(station_factory, {**CLEAN, "tp": math.nan})
    assert nan_tp.water_class is None


def test_tn_is_not_part_of_the_class(station_factory: StationFactory) -> None:
    # TN 5.0 is 劣Ⅴ for a lake; the class stays Ⅰ and TN is no main pollutant.
    means = {**CLEAN, "tp": 0.01, "tn": 5.0}
    result = section(station_factory, means, water_body=WaterBody.LAKE)
    assert result.water_class == 1
    assert "tn" not in result.classes
    assert result.means["tn"] == 5.0


# --- main pollutants ------------------------------------------------------------------------


def test_main_pollutants_worst_class_first_then_multiple_at_most_three(
    station_factory: StationFactory,
) -> None:
    # DO 2.5: Ⅴ (no multiple); CODMn 12: Ⅴ, (12 − 6)/6 = 1.00; NH3-N 1.8: Ⅴ, (1.8 − 1)/1 = 0.80;
    # TP 0.5: 劣Ⅴ, (0.5 − 0.2)/0.2 = 1.50. TP first (worst class), then CODMn, NH3-N; DO is 4th.
    means = {"ph": 7.0, "do": 2.5, "codmn": 12.0, "nh3n": 1.8, "tp": 0.5}
    result = section(station_factory, means)
    assert result.water_class == 6
    assert [(p.parameter, p.water_class) for p in result.main_pollutants] == [
        ("tp", 6),
        ("codmn", 5),
        ("nh3n", 5),
    ]
    assert [p.multiple for p in result.main_pollutants] == pytest.approx([1.5, 1.0, 0.8])
    assert result.pollutants_text() == "总磷(1.50)、高锰酸盐指数(1.00)、氨氮(0.80)"


def test_within_a_class_the_larger_multiple_comes_first(station_factory: StationFactory) -> None:
    # All Ⅳ: CODMn 7 -> 1/6 = 0.17; NH3-N 1.4 -> 0.40; TP 0.25 -> 0.25.
    means = {"ph": 7.0, "do": 8.0, "codmn": 7.0, "nh3n": 1.4, "tp": 0.25}
    result = section(station_factory, means)
    assert result.water_class == 4
    assert result.pollutants_text() == "氨氮(0.40)、总磷(0.25)、高锰酸盐指数(0.17)"


def test_ph_and_do_have_no_multiple_and_follow_those_that_have_one(
    station_factory: StationFactory,
) -> None:
    # pH 9.5 and DO 1.5 are 劣Ⅴ like TP 0.5 (1.50): TP first, then DO and pH without multiple.
    means = {"ph": 9.5, "do": 1.5, "codmn": 2.0, "nh3n": 0.15, "tp": 0.5}
    result = section(station_factory, means)
    assert [p.multiple for p in result.main_pollutants] == [pytest.approx(1.5), None, None]
    assert result.pollutants_text() == "总磷(1.50)、pH、溶解氧"


def test_the_multiple_of_a_lake_is_against_the_lake_limit() -> None:
    # Lake TP Ⅲ is 0.05: 0.088 is Ⅳ, (0.088 − 0.05)/0.05 = 0.76.
    found = pollutants({**CLEAN, "tp": 0.088}, WaterBody.LAKE)
    assert [p.text() for p in found] == ["总磷(0.76)"]
    assert found[0].water_class == 4


def test_multiples_are_shown_with_two_decimals() -> None:
    # River TP 0.2913: (0.2913 − 0.2)/0.2 = 0.4565 -> 0.46; 0.2009: 0.0045 -> 0.00.
    assert pollutants({**CLEAN, "tp": 0.2913}, WaterBody.RIVER)[0].text() == "总磷(0.46)"
    assert pollutants({**CLEAN, "tp": 0.2009}, WaterBody.RIVER)[0].text() == "总磷(0.00)"


def test_no_main_pollutants_at_class_iii_or_better(station_factory: StationFactory) -> None:
    assert of_class(station_factory, 3).main_pollutants == ()
    assert of_class(station_factory, 4).pollutants_text() == "总磷(0.50)"


# --- target and completeness ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "cls", "met"), [(3, 3, True), (3, 4, False), (4, 2, True), (None, 2, None)]
)
def test_target_met(
    station_factory: StationFactory, target: int | None, cls: int, met: bool | None
) -> None:
    assert of_class(station_factory, cls, target_class=target).target_met is met


def test_completeness_is_valid_over_expected(station_factory: StationFactory) -> None:
    station = station_factory()
    assert assess_section(station, CLEAN, valid=150, expected=180).completeness == pytest.approx(
        150 / 180
    )
    assert assess_section(station, CLEAN, valid=0, expected=0).completeness is None
    with pytest.raises(ClassificationError):
        assess_section(station, CLEAN, valid=-1, expected=180)


def test_expected_results_from_the_interval(station_factory: StationFactory) -> None:
    station = station_factory()  # every 4 hours (HJ 915): 6 a day
    assert expected_results(station, *APRIL) == 30 * 6
    start = APRIL[0]
    assert expected_results(station, start, start + timedelta(hours=5)) == 1
    assert expected_results(station, start, start) == 0
    with pytest.raises(ClassificationError):
        expected_results(station, start, start - timedelta(hours=4))


def test_a_party_receiving_means_is_owed_one_result_per_window(
    station_factory: StationFactory,
) -> None:
    station = station_factory()  # every 4 hours
    assert expected_results(station, *APRIL, window=timedelta(days=1)) == 30  # daily means
    assert expected_results(station, *APRIL, window=timedelta(hours=1)) == 30 * 6  # finer: 4 h


# --- groups ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("classes", "status"),
    [
        ([3] * 9 + [4], Status.EXCELLENT),  # Ⅰ–Ⅲ 90 % exactly
        ([3] * 8 + [4], Status.GOOD),  # 88.9 %
        ([3] * 6 + [4] * 2, Status.GOOD),  # 75 % exactly
        ([3] * 14 + [4] * 6, Status.LIGHT),  # 70 %, 劣Ⅴ 0 %
        ([3] * 7 + [4] * 2 + [6], Status.LIGHT),  # 70 %, 劣Ⅴ 10 %
        ([3] * 7 + [4] + [6] * 2, Status.MODERATE),  # 劣Ⅴ 20 % exactly
        ([3] * 6 + [4] + [6] * 3, Status.MODERATE),  # 劣Ⅴ 30 %
        ([3] * 6 + [6] * 4, Status.HEAVY),  # 劣Ⅴ 40 % exactly
    ],
)
def test_group_status_by_the_shares(
    station_factory: StationFactory, classes: list[int], status: Status
) -> None:
    result = group(station_factory, classes)
    assert result.status == status
    assert not result.status_by_means


def test_group_shares(station_factory: StationFactory) -> None:
    result = group(station_factory, [1, 2, 3, 3, 4, 5, 5, 6])
    assert (result.sections, result.share_1_3, result.share_4_5, result.share_worse_5) == (
        8,
        50.0,
        37.5,
        12.5,
    )


def test_fewer_than_five_sections_classify_the_mean_concentrations(
    station_factory: StationFactory,
) -> None:
    # By shares this is 中度污染 (Ⅰ–Ⅲ 66.7 %, 劣Ⅴ 33.3 %); the mean TP (0.02 + 0.02 + 0.5)/3 =
    # 0.18 is Ⅲ, so the status is 良好.
    result = group(station_factory, [1, 1, 6])
    assert result.status_by_means
    assert result.means_class == 3
    assert result.status == Status.GOOD
    assert result.means_pollutants == ()
    assert result.share_worse_5 == pytest.approx(100 / 3)


def test_fewer_than_five_sections_give_the_means_pollutants(
    station_factory: StationFactory,
) -> None:
    # Mean TP (0.3 + 0.5)/2 = 0.4: Ⅴ, 中度污染, 总磷 (0.4 − 0.2)/0.2 = 1.00.
    result = group(station_factory, [4, 6])
    assert (result.means_class, result.status) == (5, Status.MODERATE)
    assert result.pollutants_text() == "总磷(1.00)"


def test_five_sections_are_graded_by_the_shares(station_factory: StationFactory) -> None:
    # Ⅰ–Ⅲ 60 %, 劣Ⅴ 40 %: 重度污染 (the mean TP 0.212 would be Ⅳ).
    result = group(station_factory, [1, 1, 1, 6, 6])
    assert (result.status, result.status_by_means, result.means_class) == (
        Status.HEAVY,
        False,
        None,
    )


@pytest.mark.parametrize(
    ("cls", "status"),
    [(1, "优"), (2, "优"), (3, "良好"), (4, "轻度污染"), (5, "中度污染"), (6, "重度污染")],
)
def test_a_single_section_group_has_its_class_status(
    station_factory: StationFactory, cls: int, status: str
) -> None:
    assert group(station_factory, [cls]).status == status


def test_target_rate(station_factory: StationFactory) -> None:
    sections = [
        of_class(station_factory, 3, target_class=3),
        of_class(station_factory, 2, target_class=3),
        of_class(station_factory, 4, target_class=4),
        of_class(station_factory, 5, target_class=4),
        of_class(station_factory, 6, target_class=None),
    ]
    assert assess_group("JS", sections).target_rate == 75.0
    assert assess_group("JS", sections[4:]).target_rate is None


def test_group_main_pollutants_by_the_share_of_sections_exceeding_iii(
    station_factory: StationFactory,
) -> None:
    # 10 sections: TP worse than Ⅲ in 4, NH3-N in 3, CODMn in 2, DO in 1.
    worse = [
        {"tp": 0.3, "nh3n": 1.2, "codmn": 7.0, "do": 4.0},
        {"tp": 0.3, "nh3n": 1.2, "codmn": 7.0},
        {"tp": 0.3, "nh3n": 1.2},
        {"tp": 0.3},
    ]
    sections = [section(station_factory, {**CLEAN, "tp": 0.1, **w}) for w in worse]
    sections += [of_class(station_factory, 2) for _ in range(6)]
    result = assess_group("basin", sections)
    assert result.main_pollutants == (("tp", 40.0), ("nh3n", 30.0), ("codmn", 20.0))
    assert result.pollutants_text() == "总磷、氨氮、高锰酸盐指数"


def test_unclassed_sections_are_counted_apart(station_factory: StationFactory) -> None:
    sections = [of_class(station_factory, 2), section(station_factory, dict(CLEAN))]
    result = assess_group("JS", sections)
    assert (result.sections, result.unclassed, result.share_1_3) == (1, 1, 100.0)
    empty = assess_group("JS", sections[1:])
    assert (empty.sections, empty.status, empty.target_rate) == (0, None, None)


# --- changes --------------------------------------------------------------------------------


def test_class_change() -> None:
    assert class_change(4, 3) == 1
    assert class_change(2, 4) == -2
    assert class_change(3, 3) == 0
    assert class_change(None, 3) is None
    assert class_change(3, None) is None


def test_group_change_in_percentage_points_and_marked_change(
    station_factory: StationFactory,
) -> None:
    before = group(station_factory, [3] * 6 + [4] + [6] * 3)  # 60 %, 劣Ⅴ 30 %
    now = group(station_factory, [3] * 8 + [4] + [6])  # 80 %, 劣Ⅴ 10 %
    change = group_change(now, before)
    assert (change.d_1_3, change.d_worse_5) == (pytest.approx(20.0), pytest.approx(-20.0))
    assert change.difference == pytest.approx(40.0)
    assert change.marked  # |20 − (−20)| = 40 > 20
    assert group_change(before, now).marked  # worse by as much


def test_a_change_of_exactly_twenty_points_is_not_marked(station_factory: StationFactory) -> None:
    before = group(station_factory, [3] * 7 + [4] * 2 + [6])  # 70 %, 劣Ⅴ 10 %
    now = group(station_factory, [3] * 8 + [4] * 2)  # 80 %, 劣Ⅴ 0 %: |10 − (−10)| = 20
    assert not group_change(now, before).marked
    # Fifteenths: 10/15 − 7/15 of Ⅰ–Ⅲ is 20 points, 20.000000000000007 in floats: not marked.
    before = group(station_factory, [3] * 7 + [4] * 8)
    now = group(station_factory, [3] * 10 + [4] * 5)
    assert now.share_1_3 - before.share_1_3 > 20.0
    assert not group_change(now, before).marked
    now = group(station_factory, [3] * 11 + [4] * 4)  # 26.7 points
    assert group_change(now, before).marked


# --- real data: Jiangsu's sections, April 2021 (CNEMC) -------------------------------------


def month_means(path: Path) -> tuple[dict[str, float], int]:
    """Each parameter's mean over the rows published as 正常 with a time, one result per time
    (a repeated time keeps its last row, as the store keeps the last write); and that count."""
    by_time = {
        row.observed_at: row.values
        for row in read_cnemc(path, year=2021)
        if row.observed_at is not None and row.status == "正常"
    }
    sums: dict[str, list[float]] = {}
    for values in by_time.values():
        for key, value in values.items():
            sums.setdefault(key, []).append(value)
    return {key: sum(v) / len(v) for key, v in sums.items()}, len(by_time)


def real_section(registry: Registry, cnemc_dir: Path, name: str) -> SectionPeriod:
    station = registry.by_name(name)
    means, valid = month_means(cnemc_dir / f"{name}.csv")
    return assess_section(station, means, valid, expected_results(station, *APRIL))


# Hand-checked (awk over the CSV, then GB 3838 Table 1):
# 望亭上游 (river): TP 6.398/26 = 0.24608 (Ⅳ), NH3-N 0.679 (Ⅲ), DO 6.48 (Ⅱ), CODMn 3.98 (Ⅱ):
#   Ⅳ, 总磷 (0.24608 − 0.2)/0.2 = 0.23; target Ⅲ not met.
# 西山 (lake): TP 1.647/22 = 0.07486 (lake Ⅳ), NH3-N 0.148 (Ⅰ), CODMn 2.37 (Ⅱ): Ⅳ,
#   总磷 (0.07486 − 0.05)/0.05 = 0.50; target Ⅳ met.
# 平台山 (lake): TP 1.625/25 = 0.065: Ⅳ, 总磷(0.30).
# 312国道桥 (river): TP 0.0545 (Ⅱ), CODMn 2.89 (Ⅱ), NH3-N 0.058, DO 8.93, pH 8.48 (Ⅰ): Ⅱ.
# 五里湖心 (lake): TP 0.0486 (lake Ⅲ), CODMn 3.93 (Ⅱ): Ⅲ.
@pytest.mark.parametrize(
    ("name", "cls", "pollutants_text", "target_met", "valid"),
    [
        ("望亭上游", 4, "总磷(0.23)", False, 26),
        ("西山", 4, "总磷(0.50)", True, 22),
        ("平台山", 4, "总磷(0.30)", True, 25),
        ("312国道桥", 2, "", True, 25),
        ("五里湖心", 3, "", True, 24),
    ],
)
def test_real_sections_april_2021(
    shipped_registry: Registry,
    cnemc_dir: Path,
    name: str,
    cls: int,
    pollutants_text: str,
    target_met: bool,
    valid: int,
) -> None:
    result = real_section(shipped_registry, cnemc_dir, name)
    assert result.water_class == cls
    assert result.pollutants_text() == pollutants_text
    assert result.target_met is target_met
    assert (result.valid, result.expected) == (valid, 180)
    assert result.completeness == pytest.approx(valid / 180)


def test_real_jiangsu_group_april_2021(shipped_registry: Registry, cnemc_dir: Path) -> None:
    # 37 files; 百渎港桥 published nothing (维护, 不具备运行条件): 36 classed sections. Worse than
    # Ⅲ, all by TP: the lakes 兰山嘴 (0.0723), 平台山, 西山, 锡东水厂 (0.0618) and the river
    # 望亭上游: 5. Ⅰ–Ⅲ 31/36 = 86.1 %: 良好; TP exceeds Ⅲ in 5/36 = 13.9 % of the sections.
    names = sorted(path.stem for path in cnemc_dir.glob("*.csv"))
    sections = [real_section(shipped_registry, cnemc_dir, name) for name in names]
    result = assess_group("JS", sections)
    assert (result.sections, result.unclassed) == (36, 1)
    worse = sorted(s.station.name for s in sections if (s.water_class or 0) > 3)
    assert worse == sorted(["兰山嘴", "平台山", "西山", "锡东水厂", "望亭上游"])
    assert result.share_1_3 == pytest.approx(100 * 31 / 36)
    assert result.share_worse_5 == 0.0
    assert result.status == Status.GOOD
    assert result.main_pollutants == (("tp", pytest.approx(100 * 5 / 36)),)
