"""The trophic state of a lake: the comprehensive trophic level index TLI(Σ). Pure.

CNEMC 总站生字〔2001〕090号 (《湖泊（水库）富营养化评价方法及分级技术规定》), applied by
《地表水环境质量评价办法（试行）》: TLI(Σ) = Σ Wj·TLI(j), Wj = rj² / Σ rj² with rj the correlation
of parameter j with chlorophyll a, renormalised over the parameters present.

Units: chla arrives in the stations' mg/L and is converted to mg/m³ (= μg/L) here; TP, TN and
CODMn in mg/L; SD (transparency, key ``sd``) in m.

Grades, lower bound of 中营养 inclusive and the upper bounds of the others inclusive as the 2001
rule writes them: TLI < 30 贫营养; 30 ≤ TLI ≤ 50 中营养; 50 < TLI ≤ 60 轻度富营养;
60 < TLI ≤ 70 中度富营养; TLI > 70 重度富营养. The grade is taken on the index rounded to one
decimal, the precision it is published with.

>>> t = trophic_index({"chla": 0.010, "tp": 0.1, "tn": 2.0, "codmn": 5.0})
>>> (round(t.tli, 1), t.grade, t.used)
(53.8, '轻度富营养', ('chla', 'tp', 'tn', 'codmn'))
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

__all__ = [
    "CORRELATION",
    "MG_M3_PER_MG_L",
    "Trophic",
    "lake_trophic",
    "parameter_tli",
    "point_average",
    "trophic_grade",
    "trophic_index",
]

#: Correlation r of each parameter with chlorophyll a (Chinese lakes, the 2001 rule).
CORRELATION: Mapping[str, float] = MappingProxyType(
    {"chla": 1.0, "tp": 0.84, "tn": 0.82, "sd": -0.83, "codmn": 0.83}
)

#: chla: mg/L (the stations) -> mg/m³ (the formula).
MG_M3_PER_MG_L = 1000.0

# TLI(j) = 10 (a + b ln Cj), Cj in the formula's unit.
_COEFFICIENTS: Mapping[str, tuple[float, float]] = MappingProxyType(
    {
        "chla": (2.5, 1.086),
        "tp": (9.436, 1.624),
        "tn": (5.453, 1.694),
        "sd": (5.118, -1.94),
        "codmn": (0.109, 2.661),
    }
)

# Upper bounds (inclusive) of the grades; above the last: 重度富营养.
_GRADES: tuple[tuple[float, str, bool], ...] = (
    (30.0, "贫营养", False),  # < 30
    (50.0, "中营养", True),  # <= 50
    (60.0, "轻度富营养", True),
    (70.0, "中度富营养", True),
)
_WORST_GRADE = "重度富营养"


@dataclass(frozen=True)
class Trophic:
    """TLI(Σ), its grade, the parameters used (in the rule's order) and each one's TLI(j)."""

    tli: float
    grade: str
    used: tuple[str, ...]
    parts: Mapping[str, float]

    @property
    def eutrophic(self) -> bool:
        """Whether the lake is eutrophic (TLI > 50)."""
        return self.grade.endswith("富营养")


def parameter_tli(parameter: str, value: float) -> float:
    """TLI(j) of one parameter's mean in the stations' units (chla mg/L, SD m, others mg/L)."""
    a, b = _COEFFICIENTS[parameter]
    concentration = value * MG_M3_PER_MG_L if parameter == "chla" else value
    return 10.0 * (a + b * math.log(concentration))


def trophic_grade(tli: float) -> str:
    """贫营养 … 重度富营养 for an index, graded at one decimal."""
    value = round(tli, 1)
    for bound, grade, inclusive in _GRADES:
        if value < bound or (inclusive and value == bound):
            return grade
    return _WORST_GRADE


def _usable(value: float | None) -> bool:
    return value is not None and math.isfinite(value) and value > 0.0


def trophic_index(means: Mapping[str, float]) -> Trophic | None:
    """TLI(Σ) of one set of means (a lake section's period, or the lake's point average).

    Uses the parameters of the rule that have a positive mean (the logarithm needs one); None
    without chlorophyll a, the reference of the weights.
    """
    used = tuple(name for name in CORRELATION if _usable(means.get(name)))
    if "chla" not in used:
        return None
    parts = {name: parameter_tli(name, means[name]) for name in used}
    total = sum(CORRELATION[name] ** 2 for name in used)
    tli = sum(CORRELATION[name] ** 2 / total * parts[name] for name in used)
    return Trophic(tli=tli, grade=trophic_grade(tli), used=used, parts=MappingProxyType(parts))


def point_average(point_means: Sequence[Mapping[str, float]]) -> dict[str, float]:
    """The mean over the points of each parameter's period mean (points without it left out)."""
    result: dict[str, float] = {}
    keys = {key for means in point_means for key in means}
    for key in sorted(keys):
        values = [m[key] for m in point_means if key in m and math.isfinite(m[key])]
        if values:
            result[key] = sum(values) / len(values)
    return result


def lake_trophic(point_means: Sequence[Mapping[str, float]]) -> Trophic | None:
    """The lake as a whole: average each parameter over the points (each already a period mean),
    then TLI(Σ) of those averages (not the average of the points' indices)."""
    return trophic_index(point_average(point_means))
