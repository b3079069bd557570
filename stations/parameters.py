"""The measured parameters: canonical keys, names, units, plausible ranges and HJ 212 codes.

Every value in basinwatch is stored in the canonical unit of its parameter. :func:`convert` and
:func:`unit_factor` turn a value given in another unit (as a logger or an export labels it) into
the canonical unit, and refuse a unit they do not know, naming the parameter and the unit.

>>> convert("chla", 12.0, "μg/L")
0.012
>>> by_hj212_code("w21011").key
'tp'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from stations.errors import UnitError

MG_L = "mg/L"
US_CM = "μS/cm"
NTU = "NTU"
CELSIUS = "℃"
CELLS_L = "cells/L"
METRE = "m"
M3_S = "m3/s"
DIMENSIONLESS = "dimensionless"

_MASS_CONCENTRATION: Mapping[str, float] = {"mg/L": 1.0, "ug/L": 0.001, "μg/L": 0.001}


@dataclass(frozen=True)
class Parameter:
    """One measured parameter. ``units`` maps every accepted unit to its factor to canonical."""

    key: str
    name_zh: str
    name_en: str
    unit: str
    units: Mapping[str, float]
    plausible: tuple[float, float]
    hj212_code: str | None
    classed: bool

    def factor(self, unit: str) -> float:
        """Multiplier from ``unit`` to the canonical unit; UnitError if the unit is unknown."""
        wanted = _normalise_unit(unit)
        for known, factor in self.units.items():
            if _normalise_unit(known) == wanted:
                return factor
        accepted = ", ".join(self.units)
        raise UnitError(
            f"unknown unit {unit!r} for {self.key} ({self.name_zh}); accepted: {accepted}"
        )


def _normalise_unit(unit: str) -> str:
    text = unit.strip().replace("µ", "μ").replace("°C", "℃").replace("³", "3").replace(" ", "")
    return text.casefold()


def _parameter(
    key: str,
    name_zh: str,
    name_en: str,
    units: Mapping[str, float],
    plausible: tuple[float, float],
    hj212_code: str | None,
    *,
    classed: bool = False,
) -> Parameter:
    canonical = next(iter(units))
    return Parameter(
        key=key,
        name_zh=name_zh,
        name_en=name_en,
        unit=canonical,
        units=MappingProxyType(dict(units)),
        plausible=plausible,
        hj212_code=hj212_code,
        classed=classed,
    )


# The first unit of each table is the canonical one. Plausible ranges are what can occur in the
# basin's surface water (QC "suspect" span by default); sensor ranges belong to each station.
_ALL = (
    _parameter(
        "ph",
        "pH",
        "pH",
        {DIMENSIONLESS: 1.0, "无量纲": 1.0, "": 1.0, "pH": 1.0},
        (5.0, 10.5),
        "w01001",
        classed=True,
    ),
    _parameter(
        "do", "溶解氧", "dissolved oxygen", _MASS_CONCENTRATION, (0.0, 20.0), "w01009", classed=True
    ),
    _parameter(
        "codmn",
        "高锰酸盐指数",
        "permanganate index (CODMn)",
        _MASS_CONCENTRATION,
        (0.3, 30.0),
        "w01019",
        classed=True,
    ),
    _parameter(
        "cod",
        "化学需氧量",
        "chemical oxygen demand (COD)",
        _MASS_CONCENTRATION,
        (1.0, 200.0),
        "w01018",
        classed=True,
    ),
    _parameter(
        "bod5",
        "五日生化需氧量",
        "five-day biochemical oxygen demand (BOD5)",
        _MASS_CONCENTRATION,
        (0.0, 100.0),
        None,
        classed=True,
    ),
    _parameter(
        "nh3n",
        "氨氮",
        "ammonia nitrogen (NH3-N)",
        _MASS_CONCENTRATION,
        (0.0, 20.0),
        "w21003",
        classed=True,
    ),
    _parameter(
        "tp", "总磷", "total phosphorus", _MASS_CONCENTRATION, (0.0, 2.0), "w21011", classed=True
    ),
    _parameter(
        "tn", "总氮", "total nitrogen", _MASS_CONCENTRATION, (0.0, 20.0), "w21001", classed=True
    ),
    _parameter(
        "temp",
        "水温",
        "water temperature",
        {CELSIUS: 1.0, "°C": 1.0, "degC": 1.0},
        (0.0, 38.0),
        "w01010",
    ),
    _parameter(
        "cond",
        "电导率",
        "electrical conductivity",
        {US_CM: 1.0, "uS/cm": 1.0, "mS/cm": 1000.0, "mS/m": 10.0},
        (10.0, 10000.0),
        "w01014",
    ),
    _parameter("turb", "浊度", "turbidity", {NTU: 1.0}, (0.0, 1000.0), "w01003"),
    _parameter("chla", "叶绿素a", "chlorophyll-a", _MASS_CONCENTRATION, (0.0, 0.4), "w01016"),
    _parameter(
        "algae",
        "藻密度",
        "algal density",
        {CELLS_L: 1.0, "个/L": 1.0, "cells/mL": 1000.0},
        (0.0, 1.0e10),
        None,
    ),
    _parameter("level", "水位", "water level", {METRE: 1.0, "cm": 0.01}, (-2.0, 10.0), None),
    _parameter("flow", "流量", "discharge", {M3_S: 1.0, "m³/s": 1.0}, (-10000.0, 10000.0), None),
)

#: Every parameter by canonical key, in the order above.
PARAMETERS: Mapping[str, Parameter] = MappingProxyType({p.key: p for p in _ALL})

_BY_CODE: Mapping[str, Parameter] = MappingProxyType(
    {p.hj212_code: p for p in _ALL if p.hj212_code is not None}
)


def get(key: str) -> Parameter:
    """The parameter with canonical key ``key``; UnitError names the key if it is unknown."""
    try:
        return PARAMETERS[key]
    except KeyError:
        known = ", ".join(PARAMETERS)
        raise UnitError(f"unknown parameter {key!r}; known: {known}") from None


def by_hj212_code(code: str) -> Parameter:
    """The parameter an HJ 212 code (``w01009``) stands for; UnitError if the code is unknown."""
    try:
        return _BY_CODE[code.strip().lower()]
    except KeyError:
        raise UnitError(f"no parameter for HJ 212 code {code!r}") from None


def unit_factor(key: str, unit: str) -> float:
    """Multiplier turning a ``key`` value in ``unit`` into the canonical unit."""
    return get(key).factor(unit)


def convert(key: str, value: float, unit: str) -> float:
    """``value`` of parameter ``key`` given in ``unit``, in the canonical unit."""
    factor = unit_factor(key, unit)
    if factor == 1.0:
        return value
    if factor < 1.0:
        # Divide by 100 or 1000 rather than multiply by 0.01 or 0.001: 380 cm is 3.8 m, not
        # 3.8000000000000003 m, which would breach a 3.80 m warning level.
        return value / round(1.0 / factor)
    return value * factor
