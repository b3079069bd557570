"""GB 3838-2002 surface-water classification, as the national real-time publishing applies it.

Classes are integers 1..5 for Ⅰ..Ⅴ and 6 for 劣Ⅴ (worse than Ⅴ). A value exactly on a limit
belongs to that class; DO is a lower bound, pH is class Ⅰ inside 6..9 and 劣Ⅴ outside; TP has a
river and a lake column; TN is classed for lakes and reservoirs only, and never enters the overall
class. A result's overall class is the worst of pH, DO, CODMn, NH3-N and TP (single-factor
assessment), and exists only when all five are present.

Two shapes of the same rule: :func:`parameter_classes` / :func:`overall_classes` over numpy
arrays for bulk work, :func:`classify_report` over one report (parameter -> value) for the stream.

>>> classify_report({"ph": 7.5, "do": 6.0, "codmn": 4.2, "nh3n": 0.3, "tp": 0.05}, "lake").cls
3
"""

from __future__ import annotations

import bisect
import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from stations.errors import ClassificationError


class WaterBody(StrEnum):
    """Which TP/TN column applies: lakes and reservoirs, or rivers."""

    LAKE = "lake"
    RIVER = "river"


#: The parameters whose worst class is the overall class, in display order.
ASSESSED: tuple[str, ...] = ("ph", "do", "codmn", "nh3n", "tp")

#: Class 6 means worse than class V.
WORSE_THAN_V = 6

#: Display names, Chinese (the practice of the publishing system).
CLASS_NAMES: Mapping[int, str] = {
    1: "Ⅰ类",
    2: "Ⅱ类",
    3: "Ⅲ类",
    4: "Ⅳ类",
    5: "Ⅴ类",
    6: "劣Ⅴ类",
}

_ROMAN = {"Ⅰ": 1, "Ⅱ": 2, "Ⅲ": 3, "Ⅳ": 4, "Ⅴ": 5, "I": 1, "II": 2, "III": 3, "IV": 4, "V": 5}

PH_RANGE = (6.0, 9.0)

# Upper limits of classes I..V in mg/L (DO: lower limits). Keys: parameter or parameter@water body.
_UPPER: Mapping[str, tuple[float, ...]] = {
    "codmn": (2.0, 4.0, 6.0, 10.0, 15.0),
    "cod": (15.0, 15.0, 20.0, 30.0, 40.0),
    "bod5": (3.0, 3.0, 4.0, 6.0, 10.0),
    "nh3n": (0.15, 0.5, 1.0, 1.5, 2.0),
    "tp@river": (0.02, 0.1, 0.2, 0.3, 0.4),
    "tp@lake": (0.01, 0.025, 0.05, 0.1, 0.2),
    "tn@lake": (0.2, 0.5, 1.0, 1.5, 2.0),
}
_LOWER: Mapping[str, tuple[float, ...]] = {"do": (7.5, 6.0, 5.0, 3.0, 2.0)}

# Values within this relative distance of a limit count as on it (float noise of unit conversion).
_REL_TOLERANCE = 1e-9

#: Parameters that have a class for a given water body.
CLASSED: Mapping[WaterBody, tuple[str, ...]] = {
    WaterBody.LAKE: ("ph", "do", "codmn", "cod", "bod5", "nh3n", "tp", "tn"),
    WaterBody.RIVER: ("ph", "do", "codmn", "cod", "bod5", "nh3n", "tp"),
}


def class_name(cls: int) -> str:
    """``3`` -> ``Ⅲ类``, ``6`` -> ``劣Ⅴ类``."""
    try:
        return CLASS_NAMES[cls]
    except KeyError:
        raise ClassificationError(f"no water-quality class {cls!r} (1..6)") from None


def parse_class(text: str) -> int | None:
    """A published class (``Ⅲ``, ``Ⅲ类``, ``劣Ⅴ``, ``IV``) as 1..6; ``None`` for ``*``/``--``/empty.

    Anything else is a ClassificationError.
    """
    value = text.strip().removesuffix("类")
    if value in ("", "*", "--", "-"):
        return None
    if value.startswith("劣") and _ROMAN.get(value[1:]) == 5:
        return WORSE_THAN_V
    try:
        return _ROMAN[value]
    except KeyError:
        raise ClassificationError(f"not a water-quality class: {text!r}") from None


def water_body(value: str) -> WaterBody:
    """``lake`` or ``river`` as a WaterBody; ClassificationError otherwise."""
    if isinstance(value, WaterBody):
        return value
    try:
        return WaterBody(value)
    except ValueError:
        raise ClassificationError(f"water body must be lake or river, got {value!r}") from None


def is_classed(parameter: str, body: WaterBody | str) -> bool:
    """Whether GB 3838 gives ``parameter`` a class for this water body."""
    return parameter in CLASSED[water_body(body)]


def limits(parameter: str, body: WaterBody | str) -> tuple[float, ...]:
    """The five class limits of a parameter (DO: lower limits; pH has none: use PH_RANGE)."""
    body = water_body(body)
    for key in (f"{parameter}@{body.value}", parameter):
        if key in _UPPER:
            return _UPPER[key]
        if key in _LOWER:
            return _LOWER[key]
    raise ClassificationError(f"{parameter} has no GB 3838 class for a {body.value}")


def parameter_classes(
    parameter: str, values: npt.ArrayLike, body: WaterBody | str
) -> npt.NDArray[np.uint8]:
    """The class (1..6) of each value, 0 where the value is NaN (not measured)."""
    body = water_body(body)
    if not is_classed(parameter, body):
        raise ClassificationError(f"{parameter} has no GB 3838 class for a {body.value}")
    array = np.asarray(values, dtype=np.float64)
    missing = np.isnan(array)
    filled = np.where(missing, 0.0, array)
    if parameter == "ph":
        low, high = PH_RANGE
        inside = (filled >= low) & (filled <= high)
        classes = np.where(inside, 1, WORSE_THAN_V)
    elif parameter in _LOWER:
        bounds = np.asarray(_LOWER[parameter])
        # Lower bounds: class k when value >= limit_k; count the limits the value falls short of.
        bounds = bounds - _REL_TOLERANCE * np.abs(bounds)
        classes = 1 + np.searchsorted(-bounds, -filled, side="left")
    else:
        bounds = np.asarray(limits(parameter, body))
        bounds = bounds + _REL_TOLERANCE * np.abs(bounds)
        classes = 1 + np.searchsorted(bounds, filled, side="left")
    return np.where(missing, 0, classes).astype(np.uint8)


def value_class(parameter: str, value: float, body: WaterBody | str) -> int:
    """The class (1..6) of one value: the scalar twin of :func:`parameter_classes`, for the
    stream's per-report path (same bounds, same tolerance, no array overhead)."""
    body = water_body(body)
    if parameter == "ph":
        low, high = PH_RANGE
        return 1 if low <= value <= high else WORSE_THAN_V
    if parameter in _LOWER:
        shortfalls = sum(
            1 for bound in _LOWER[parameter] if value < bound - _REL_TOLERANCE * abs(bound)
        )
        return 1 + shortfalls
    return 1 + bisect.bisect_left(_tolerant_upper(parameter, body), value)


@functools.cache
def _tolerant_upper(parameter: str, body: WaterBody) -> tuple[float, ...]:
    """The upper class limits of a parameter with the printing tolerance added (computed once)."""
    if not is_classed(parameter, body):
        raise ClassificationError(f"{parameter} has no GB 3838 class for a {body.value}")
    return tuple(bound + _REL_TOLERANCE * abs(bound) for bound in limits(parameter, body))


def overall_classes(
    values: Mapping[str, npt.ArrayLike], body: WaterBody | str
) -> npt.NDArray[np.uint8]:
    """The overall class of each result (worst of the five), 0 where any of the five is missing."""
    missing = [name for name in ASSESSED if name not in values]
    if missing:
        raise ClassificationError(f"overall class needs {', '.join(missing)} (NaN if not measured)")
    per_parameter = np.stack([parameter_classes(name, values[name], body) for name in ASSESSED])
    worst = per_parameter.max(axis=0)
    return np.where((per_parameter == 0).any(axis=0), 0, worst).astype(np.uint8)


@dataclass(frozen=True)
class Assessment:
    """The GB 3838 reading of one report.

    ``cls`` is the overall class (None unless all five assessed parameters are present);
    ``limiting`` the assessed parameters at that class; ``classes`` the class of every classed
    parameter present (TN only for lakes).
    """

    cls: int | None
    limiting: tuple[str, ...]
    classes: Mapping[str, int] = field(default_factory=dict)

    @property
    def name(self) -> str | None:
        """The overall class for display (``Ⅳ类``), None when not classed."""
        return None if self.cls is None else CLASS_NAMES[self.cls]


def classify_report(values: Mapping[str, float | None], body: WaterBody | str) -> Assessment:
    """Class one report: ``{"ph": 7.4, "do": 8.1, ...}`` (canonical units; None/NaN = missing).

    Parameters GB 3838 does not class (temperature, conductivity, ...) are ignored.
    """
    body = water_body(body)
    classes: dict[str, int] = {}
    for name in CLASSED[body]:
        value = values.get(name)
        if value is None or math.isnan(value):
            continue
        classes[name] = value_class(name, value, body)
    if not all(name in classes for name in ASSESSED):
        return Assessment(cls=None, limiting=(), classes=classes)
    worst = max(classes[name] for name in ASSESSED)
    limiting = tuple(name for name in ASSESSED if classes[name] == worst)
    return Assessment(cls=worst, limiting=limiting, classes=classes)


# --- basin or river status from the class distribution of its sections ---------------------


class Status(StrEnum):
    """The qualitative status (水质状况) of a section, river, basin or jurisdiction."""

    EXCELLENT = "优"
    GOOD = "良好"
    LIGHT = "轻度污染"
    MODERATE = "中度污染"
    HEAVY = "重度污染"


#: The status of one class (of a section, or of a group's mean concentrations).
CLASS_STATUS: Mapping[int, Status] = {
    1: Status.EXCELLENT,
    2: Status.EXCELLENT,
    3: Status.GOOD,
    4: Status.LIGHT,
    5: Status.MODERATE,
    6: Status.HEAVY,
}


def class_status(cls: int) -> Status:
    """``2`` -> 优, ``3`` -> 良好, ``4`` -> 轻度污染, ``5`` -> 中度污染, ``6`` -> 重度污染."""
    try:
        return CLASS_STATUS[cls]
    except KeyError:
        raise ClassificationError(f"no water-quality class {cls!r} (1..6)") from None


@dataclass(frozen=True)
class BasinStatus:
    """Status of a river or basin: grade (优, 良好, 轻度污染, 中度污染, 重度污染) and the shares."""

    grade: Status
    share_good: float
    share_worse_than_v: float
    sections: int


def basin_status(classes: Sequence[int]) -> BasinStatus:
    """Grade a set of section classes (1..6) by the share in Ⅰ..Ⅲ and the share in 劣Ⅴ.

    At least 90 % in Ⅰ..Ⅲ: 优; 75..90 %: 良好; below 75 % by the 劣Ⅴ share: under 20 % 轻度污染,
    20..40 % 中度污染, 40 % and more 重度污染.
    """
    if not classes:
        raise ClassificationError("no classed sections to grade")
    bad = [cls for cls in classes if cls not in CLASS_NAMES]
    if bad:
        raise ClassificationError(f"not water-quality classes: {bad}")
    total = len(classes)
    good = sum(1 for cls in classes if cls <= 3) / total
    worst = sum(1 for cls in classes if cls == WORSE_THAN_V) / total
    if good >= 0.9:
        grade = Status.EXCELLENT
    elif good >= 0.75:
        grade = Status.GOOD
    elif worst < 0.2:
        grade = Status.LIGHT
    elif worst < 0.4:
        grade = Status.MODERATE
    else:
        grade = Status.HEAVY
    return BasinStatus(grade=grade, share_good=good, share_worse_than_v=worst, sections=total)
