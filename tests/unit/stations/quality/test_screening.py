"""QC of one new value: HJ 212 instrument flags, the checks, the history."""

from __future__ import annotations

import math

import pytest

from stations.quality.checks import QCFlag
from stations.quality.limits import CheckConfig
from stations.quality.screening import instrument_flag, instrument_flag_test, screen_value

H4 = 4 * 3600.0
GROSS = CheckConfig("gross_range_test", {"fail_span": (0.0, 20.0), "suspect_span": (2.0, 15.0)})
SPIKE = CheckConfig("spike_test", {"suspect_threshold": 1.0, "fail_threshold": 3.0})
RATE = CheckConfig("rate_of_change_test", {"threshold": 2.0 / H4})  # 2 mg/L per 4 h


@pytest.mark.parametrize("code", ["M", "C", "F", "D", "B", "T"])
def test_non_measurement_and_over_range_fail_with_a_reason(code: str) -> None:
    result = screen_value(8.0, 0.0, checks=[GROSS], instrument=code)
    assert result.flag is QCFlag.FAIL
    assert not result.usable
    assert f"instrument flag {code}" in result.reasons[0]


def test_maintenance_reason_names_it() -> None:
    (reason,) = screen_value(8.0, 0.0, checks=[GROSS], instrument="M").reasons
    assert "maintenance" in reason and "维护" in reason and "not a measurement" in reason


def test_set_manually_is_suspect_even_when_the_checks_pass() -> None:
    result = screen_value(8.0, 0.0, checks=[GROSS], instrument="S")
    assert result.flag is QCFlag.SUSPECT
    assert result.checks == {"gross_range_test": QCFlag.GOOD, "instrument_flag": QCFlag.SUSPECT}


def test_set_manually_out_of_range_fails() -> None:
    assert screen_value(25.0, 0.0, checks=[GROSS], instrument="S").flag is QCFlag.FAIL


def test_normal_value_is_judged_by_the_checks() -> None:
    assert screen_value(8.0, 0.0, checks=[GROSS]).flag is QCFlag.GOOD
    assert screen_value(8.0, 0.0, checks=[GROSS]).usable
    suspect = screen_value(1.0, 0.0, checks=[GROSS])
    assert suspect.flag is QCFlag.SUSPECT
    assert suspect.reasons == (
        "gross_range_test(fail_span=[0, 20], suspect_span=[2, 15]): suspect at 1",
    )
    assert screen_value(21.0, 0.0, checks=[GROSS]).flag is QCFlag.FAIL


def test_unknown_instrument_flag_fails_and_missing_value_is_missing() -> None:
    assert screen_value(8.0, 0.0, checks=[GROSS], instrument="X").flag is QCFlag.FAIL
    assert screen_value(None, 0.0, checks=[GROSS]).flag is QCFlag.MISSING
    assert screen_value(math.nan, 0.0, checks=[GROSS]).flag is QCFlag.MISSING


def test_instrument_flag_table() -> None:
    m = instrument_flag("m")
    assert m is not None and not m.is_measurement and m.name_zh == "维护"
    n = instrument_flag("N")
    assert n is not None and n.is_measurement
    assert instrument_flag("Z") is None
    assert instrument_flag_test(["N", "M", "S", "T", "?"]).tolist() == [2, 4, 3, 4, 4]


def test_rate_of_change_uses_history() -> None:
    # 8.0 -> 11.0 in 4 h is 3 mg/L per 4 h, above 2
    result = screen_value(
        11.0, 2 * H4, checks=[RATE], history_values=[7.9, 8.0], history_times=[0.0, H4]
    )
    assert result.flag is QCFlag.SUSPECT
    assert result.checks == {"rate_of_change_test": QCFlag.SUSPECT}


def test_failed_history_values_are_ignored() -> None:
    values, times = [8.0, 30.0], [0.0, H4]
    # against 30.0 the new 8.1 would be a fall of 21.9 in 4 h (suspect) ...
    plain = screen_value(8.1, 2 * H4, checks=[RATE], history_values=values, history_times=times)
    assert plain.flag is QCFlag.SUSPECT
    # ... but 30.0 failed QC: compared with 8.0, 8 h earlier, 0.1 is good
    ignored = screen_value(
        8.1,
        2 * H4,
        checks=[RATE],
        history_values=values,
        history_times=times,
        history_flags=[1, 4],
    )
    assert ignored.flag is QCFlag.GOOD


def test_spike_judges_the_previous_value_when_the_new_one_arrives() -> None:
    result = screen_value(
        8.0, 2 * H4, checks=[SPIKE], history_values=[8.0, 12.0], history_times=[0.0, H4]
    )
    # the new value has no next neighbour yet; the previous one is 12 - (8 + 8) / 2 = 4 > 3
    assert result.checks == {"spike_test": QCFlag.NOT_EVALUATED}
    assert result.flag is QCFlag.NOT_EVALUATED
    assert result.previous_spike is QCFlag.FAIL


def test_history_shapes_must_match() -> None:
    with pytest.raises(ValueError, match="same length"):
        screen_value(8.0, 0.0, checks=[GROSS], history_values=[1.0], history_times=[])
