"""Parameters: names, canonical units, conversions, HJ 212 codes."""

from __future__ import annotations

import pytest

from stations import parameters
from stations.errors import UnitError


def test_canonical_keys_and_chinese_names() -> None:
    expected = {
        "ph": "pH",
        "do": "溶解氧",
        "codmn": "高锰酸盐指数",
        "cod": "化学需氧量",
        "nh3n": "氨氮",
        "tp": "总磷",
        "tn": "总氮",
        "temp": "水温",
        "cond": "电导率",
        "turb": "浊度",
        "chla": "叶绿素a",
        "algae": "藻密度",
        "level": "水位",
        "flow": "流量",
    }
    for key, name in expected.items():
        assert parameters.get(key).name_zh == name


@pytest.mark.parametrize(
    ("key", "unit"),
    [
        ("ph", "dimensionless"),
        ("do", "mg/L"),
        ("cond", "μS/cm"),
        ("turb", "NTU"),
        ("temp", "℃"),
        ("algae", "cells/L"),
        ("level", "m"),
        ("flow", "m3/s"),
        ("chla", "mg/L"),
    ],
)
def test_canonical_units(key: str, unit: str) -> None:
    assert parameters.get(key).unit == unit


@pytest.mark.parametrize(
    ("key", "value", "unit", "expected"),
    [
        ("chla", 12.0, "ug/L", 0.012),
        ("chla", 12.0, "μg/L", 0.012),
        ("chla", 12.0, "µg/L", 0.012),  # micro sign U+00B5, not Greek mu
        ("tp", 50.0, "μg/L", 0.05),
        ("cond", 0.45, "mS/cm", 450.0),
        ("cond", 450.0, "uS/cm", 450.0),
        ("temp", 17.5, "°C", 17.5),
        ("level", 380.0, "cm", 3.8),
        ("do", 8.1, "mg/l", 8.1),
        ("algae", 5.0, "cells/mL", 5000.0),
    ],
)
def test_conversions_into_the_canonical_unit(
    key: str, value: float, unit: str, expected: float
) -> None:
    assert parameters.convert(key, value, unit) == pytest.approx(expected, rel=1e-12)


def test_centimetres_on_a_warning_level_stay_on_it() -> None:
    # 380 cm must be exactly 3.80 m, or it would breach a 3.80 m warning level.
    assert parameters.convert("level", 380.0, "cm") == 3.8


def test_unknown_unit_names_parameter_and_unit() -> None:
    with pytest.raises(UnitError, match=r"'mg/m3'.*tp \(总磷\)"):
        parameters.convert("tp", 1.0, "mg/m3")


def test_unknown_parameter() -> None:
    with pytest.raises(UnitError, match="'zinc'"):
        parameters.get("zinc")


@pytest.mark.parametrize(
    ("code", "key"),
    [
        ("w01001", "ph"),
        ("w01009", "do"),
        ("w01010", "temp"),
        ("w01014", "cond"),
        ("w01003", "turb"),
        ("w01019", "codmn"),
        ("w01018", "cod"),
        ("w21003", "nh3n"),
        ("w21011", "tp"),
        ("w21001", "tn"),
        ("w01016", "chla"),
        ("W21011", "tp"),
    ],
)
def test_lookup_by_hj212_code(code: str, key: str) -> None:
    assert parameters.by_hj212_code(code).key == key


def test_unknown_hj212_code() -> None:
    with pytest.raises(UnitError, match="w99999"):
        parameters.by_hj212_code("w99999")


def test_hj212_codes_are_unique_and_plausible_ranges_ordered() -> None:
    codes = [p.hj212_code for p in parameters.PARAMETERS.values() if p.hj212_code]
    assert len(codes) == len(set(codes))
    for parameter in parameters.PARAMETERS.values():
        low, high = parameter.plausible
        assert low < high, parameter.key
