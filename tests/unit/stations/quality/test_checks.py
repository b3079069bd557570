"""QARTOD checks against hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from stations.quality.checks import (
    QCFlag,
    flat_line_test,
    gross_range_test,
    qc_combine,
    rate_of_change_test,
    spike_test,
)

NAN = math.nan
HOUR = 3600.0


def test_gross_range_fail_suspect_good_missing() -> None:
    values = [-1.0, 0.0, 5.0, 14.0, 14.5, NAN, 4.9, 10.1]
    flags = gross_range_test(values, fail_span=(0, 14), suspect_span=(5, 10))
    assert flags.dtype == np.uint8
    assert flags.tolist() == [4, 3, 1, 3, 4, 9, 3, 3]


def test_gross_range_without_suspect_span_and_bounds_inside() -> None:
    assert gross_range_test([0.0, 14.0, 14.01], fail_span=(0, 14)).tolist() == [1, 1, 4]


def test_gross_range_keeps_the_shape() -> None:
    flags = gross_range_test(np.array([[1.0, 20.0], [NAN, 3.0]]), fail_span=(0, 14))
    assert flags.shape == (2, 2)
    assert flags.tolist() == [[1, 4], [9, 1]]


def test_gross_range_refuses_suspect_span_outside_fail_span() -> None:
    with pytest.raises(ValueError, match="within fail_span"):
        gross_range_test([1.0], fail_span=(0, 14), suspect_span=(-1, 10))


def test_spike_against_mean_of_neighbours() -> None:
    # refs: |1-3|=2, |5-1|=4, |1-3|=2, |1-1.75|=0.75, |2.5-1|=1.5; ends not evaluated
    values = [1.0, 1.0, 5.0, 1.0, 1.0, 2.5, 1.0]
    flags = spike_test(values, suspect_threshold=1.0, fail_threshold=3.0)
    assert flags.tolist() == [2, 3, 4, 3, 1, 3, 2]


def test_spike_threshold_itself_is_not_exceeded() -> None:
    assert spike_test([0.0, 1.0, 0.0], suspect_threshold=1, fail_threshold=2).tolist() == [2, 1, 2]
    assert spike_test([0.0, 2.0, 0.0], suspect_threshold=1, fail_threshold=2).tolist() == [2, 3, 2]


def test_spike_next_to_missing_is_not_evaluated() -> None:
    flags = spike_test([1.0, NAN, 1.0, 1.0], suspect_threshold=1, fail_threshold=2)
    assert flags.tolist() == [2, 9, 2, 2]


def test_spike_short_series_and_bad_thresholds() -> None:
    assert spike_test([1.0, 9.0], suspect_threshold=1, fail_threshold=2).tolist() == [2, 2]
    with pytest.raises(ValueError, match="below suspect"):
        spike_test([1.0, 2.0, 3.0], suspect_threshold=3, fail_threshold=1)


def test_rate_of_change_per_second_from_previous_present_value() -> None:
    values = [10.0, 10.5, 12.5, NAN, 12.0]
    times = [0.0, HOUR, 2 * HOUR, 3 * HOUR, 4 * HOUR]
    # 0.5/h ok; 2.0/h > 1/h suspect; missing; 0.5 over 2 h ok
    flags = rate_of_change_test(values, times, threshold=1 / HOUR)
    assert flags.tolist() == [2, 1, 3, 9, 1]


def test_rate_of_change_takes_datetime64() -> None:
    times = np.array(["2021-04-01T00:00", "2021-04-01T04:00", "2021-04-01T08:00"], "datetime64[s]")
    # 4 mg/L over 4 h = 1 per hour, above 0.5 per hour; then 1 mg/L over 4 h ok
    flags = rate_of_change_test([8.0, 4.0, 5.0], times, threshold=0.5 / HOUR)
    assert flags.tolist() == [2, 3, 1]


def test_rate_of_change_duplicate_time_is_not_evaluated() -> None:
    flags = rate_of_change_test([1.0, 5.0], [100.0, 100.0], threshold=1.0)
    assert flags.tolist() == [2, 2]


def test_flat_line_suspect_after_a_day_and_reset_by_a_change() -> None:
    values = [5.0] * 7 + [6.0, 6.0]
    times = [i * 4 * HOUR for i in range(9)]
    flags = flat_line_test(
        values, times, tolerance=0.01, suspect_threshold=24 * HOUR, fail_threshold=48 * HOUR
    )
    # runs reaching the start shorter than 24 h cannot be judged; 7th equal value spans 24 h
    assert flags.tolist() == [2, 2, 2, 2, 2, 2, 3, 1, 1]


def test_flat_line_fails_after_two_days() -> None:
    values = [1.0, 2.0] + [5.0] * 13
    times = [i * 4 * HOUR for i in range(15)]
    flags = flat_line_test(
        values, times, tolerance=0.0, suspect_threshold=24 * HOUR, fail_threshold=48 * HOUR
    )
    assert flags.tolist() == [2, 1] + [1] * 6 + [3] * 6 + [4]


def test_flat_line_tolerance_is_on_the_range_not_the_step() -> None:
    # each step is 0.006 (< 0.01), but any three values span 0.012 (> 0.01): no run lasts
    # more than 1 h, so nothing reaches the 2 h suspect duration (step-wise it would: 2 h, 3 h)
    values = [1.0, 1.006, 1.012, 1.018]
    times = [0.0, HOUR, 2 * HOUR, 3 * HOUR]
    flags = flat_line_test(
        values, times, tolerance=0.01, suspect_threshold=2 * HOUR, fail_threshold=10 * HOUR
    )
    assert flags.tolist() == [2, 2, 1, 1]


def test_flat_line_skips_missing_values() -> None:
    values = [3.0, NAN, 3.0, 3.0]
    times = [0.0, HOUR, 2 * HOUR, 3 * HOUR]
    flags = flat_line_test(
        values, times, tolerance=0.0, suspect_threshold=3 * HOUR, fail_threshold=5 * HOUR
    )
    assert flags.tolist() == [2, 9, 2, 3]


def test_timestamps_must_match_values() -> None:
    with pytest.raises(ValueError, match="shape"):
        rate_of_change_test([1.0, 2.0], [0.0], threshold=1.0)


def test_combine_precedence_fail_suspect_good_not_evaluated_missing() -> None:
    a = [1, 2, 3, 4, 9, 2, 9, 1]
    b = [9, 9, 9, 9, 9, 2, 2, 2]
    assert qc_combine(a, b).tolist() == [1, 2, 3, 4, 9, 2, 2, 1]
    assert qc_combine([1, 3, 4], [4, 1, 3], [2, 2, 2]).tolist() == [4, 3, 4]
    assert qc_combine([9, 1]).dtype == np.uint8


def test_combine_refuses_non_flags_and_shape_mismatch() -> None:
    with pytest.raises(ValueError, match=r"\[5\]"):
        qc_combine([1, 5])
    with pytest.raises(ValueError, match="shape"):
        qc_combine([1, 2], [1])


def test_flag_values() -> None:
    assert [int(f) for f in QCFlag] == [1, 2, 3, 4, 9]
