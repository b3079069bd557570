"""The assessment of a period by 《地表水环境质量评价办法（试行）》 (环办〔2011〕22号). Pure.

A section's period value of a parameter is the arithmetic mean of its QC-good results; the caller
(the reader of the store) computes the means, this module judges them:

- :func:`assess_section`: the period class (single factor over the means of pH, DO, CODMn, NH3-N
  and TP, the lake TP column for lakes; no class unless all five have a mean), the main pollutants
  (主要污染指标) with their exceedance multiples, whether the target is met, the completeness;
- :func:`assess_group`: a jurisdiction or the basin: the shares of Ⅰ–Ⅲ, Ⅳ–Ⅴ and 劣Ⅴ, the status
  (:func:`stations.standard.gb3838.basin_status`, or the class of the mean concentrations with
  fewer than 5 sections), the share meeting the target (达标率), the main pollutants by the share
  of sections exceeding Ⅲ;
- :func:`class_change` and :func:`group_change`: against the previous month or the same month a
  year before.

The lake's trophic state is :mod:`stations.standard.trophic`. docs/assessment.md gives each rule
with its source.

>>> from stations.standard.gb3838 import WaterBody
>>> pollutants(
...     {"ph": 7.5, "do": 6.0, "codmn": 4.2, "nh3n": 1.2, "tp": 0.352}, WaterBody.RIVER
... )[0].text()
'总磷(0.76)'
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from stations import parameters
from stations.errors import ClassificationError
from stations.standard.gb3838 import (
    ASSESSED,
    WORSE_THAN_V,
    Status,
    WaterBody,
    basin_status,
    class_status,
    limits,
    value_class,
)
from stations.station import Station

__all__ = [
    "GROUP_BY_MEANS_BELOW",
    "MARKED_CHANGE",
    "MAX_POLLUTANTS",
    "GroupChange",
    "GroupPeriod",
    "Pollutant",
    "SectionPeriod",
    "Status",
    "assess_group",
    "assess_section",
    "class_change",
    "expected_results",
    "group_change",
    "mean_concentrations",
    "pollutants",
]

#: Class Ⅲ: the line main pollutants and the Ⅰ–Ⅲ share are drawn at.
CLASS_III = 3
#: At most this many main pollutants (of a section, of a group).
MAX_POLLUTANTS = 3
#: A group with fewer classed sections than this is graded by its mean concentrations.
GROUP_BY_MEANS_BELOW = 5
#: |ΔⅠ–Ⅲ − Δ劣Ⅴ| above this many percentage points is 明显变化.
MARKED_CHANGE = 20.0
#: Parameters without an exceedance multiple (no class Ⅲ upper limit).
_NO_MULTIPLE = frozenset({"ph", "do"})


@dataclass(frozen=True)
class Pollutant:
    """A main pollutant: a parameter worse than Ⅲ, its class and exceedance multiple.

    ``multiple`` is (C − C_Ⅲ) / C_Ⅲ, None for pH and DO.
    """

    parameter: str
    water_class: int
    multiple: float | None

    @property
    def name(self) -> str:
        """The Chinese name (总磷)."""
        return parameters.get(self.parameter).name_zh

    def text(self) -> str:
        """As the bulletins print it: ``总磷(0.76)`` (two decimals); ``溶解氧`` has no multiple."""
        if self.multiple is None:
            return self.name
        return f"{self.name}({self.multiple:.2f})"


@dataclass(frozen=True)
class SectionPeriod:
    """One section's period: its means (canonical units), class, main pollutants, target, data.

    ``valid`` results of ``expected``; ``completeness`` = valid / expected (None when nothing was
    expected). ``target_met`` is None when the section has no target or no class.
    """

    station: Station
    means: Mapping[str, float]
    valid: int
    expected: int
    water_class: int | None
    main_pollutants: tuple[Pollutant, ...]
    target_met: bool | None
    completeness: float | None
    classes: Mapping[str, int] = field(default_factory=dict)

    @property
    def status(self) -> Status | None:
        """The section's status (Ⅰ–Ⅱ 优 … 劣Ⅴ 重度污染), None without a class."""
        return None if self.water_class is None else class_status(self.water_class)

    def pollutants_text(self) -> str:
        """``总磷(0.76)、氨氮(0.20)``, empty when there is none."""
        return "、".join(p.text() for p in self.main_pollutants)


def _usable(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def parameter_classes(means: Mapping[str, float], body: WaterBody) -> dict[str, int]:
    """The class of each assessed parameter's mean (the five; TN is not among them)."""
    return {
        name: value_class(name, means[name], body) for name in ASSESSED if _usable(means.get(name))
    }


def _multiple(parameter: str, value: float, body: WaterBody) -> float | None:
    if parameter in _NO_MULTIPLE:
        return None
    limit = limits(parameter, body)[CLASS_III - 1]
    return (value - limit) / limit


def pollutants(means: Mapping[str, float], body: WaterBody | str) -> tuple[Pollutant, ...]:
    """The main pollutants of a set of means: the assessed parameters worse than Ⅲ, the worst
    class first, within a class the larger exceedance multiple first (pH and DO, which have none,
    after those that have one), at most three."""
    body = WaterBody(body)
    found = [
        Pollutant(name, cls, _multiple(name, means[name], body))
        for name, cls in parameter_classes(means, body).items()
        if cls > CLASS_III
    ]
    order = {name: index for index, name in enumerate(ASSESSED)}
    found.sort(
        key=lambda p: (
            -p.water_class,
            p.multiple is None,
            -(p.multiple or 0.0),
            order[p.parameter],
        )
    )
    return tuple(found[:MAX_POLLUTANTS])


def assess_section(
    station: Station, means: Mapping[str, float], valid: int, expected: int
) -> SectionPeriod:
    """Judge one section's period means (canonical units; missing or NaN = no mean)."""
    if valid < 0 or expected < 0:
        raise ClassificationError(
            f"{station.id}: negative counts (valid={valid}, expected={expected})"
        )
    body = station.water_body
    classes = parameter_classes(means, body)
    water_class = max(classes.values()) if len(classes) == len(ASSESSED) else None
    main = pollutants(means, body) if water_class is not None and water_class > CLASS_III else ()
    target_met = (
        None
        if station.target_class is None or water_class is None
        else water_class <= station.target_class
    )
    return SectionPeriod(
        station=station,
        means=dict(means),
        valid=valid,
        expected=expected,
        water_class=water_class,
        main_pollutants=main,
        target_met=target_met,
        completeness=valid / expected if expected else None,
        classes=classes,
    )


def expected_results(
    station: Station, start: datetime, stop: datetime, window: timedelta | None = None
) -> int:
    """How many results the station owes in [start, stop): one per interval (HJ 915: 6 a day at
    4 hours). Whole intervals only. ``window``: the results are means over windows (a party that
    receives a station's hourly or daily means), so one per window when that is coarser."""
    if stop < start:
        raise ClassificationError(f"period ends ({stop}) before it starts ({start})")
    if station.interval_minutes <= 0:
        raise ClassificationError(f"{station.id}: interval {station.interval_minutes} min")
    step = timedelta(minutes=station.interval_minutes)
    if window is not None:
        step = max(step, window)
    return (stop - start) // step


# --- groups: a jurisdiction, the basin ----------------------------------------------------


@dataclass(frozen=True)
class GroupPeriod:
    """A jurisdiction's or the basin's period.

    Shares are in % of the classed sections (``sections``; ``unclassed`` is how many had no
    class). ``status_by_means`` says the status is the class of the mean concentrations
    (``means_class``, fewer than 5 sections); ``means_pollutants`` are then that mean's main
    pollutants. ``main_pollutants`` are (parameter, % of sections worse than Ⅲ), the largest first,
    at most three. ``target_rate`` is the % of sections with a target that meet it.
    """

    name: str
    sections: int
    share_1_3: float
    share_4_5: float
    share_worse_5: float
    status: Status | None
    status_by_means: bool
    target_rate: float | None
    main_pollutants: tuple[tuple[str, float], ...]
    unclassed: int = 0
    means_class: int | None = None
    means_pollutants: tuple[Pollutant, ...] = ()

    def pollutants_text(self) -> str:
        """The group's main pollutants for the summary: names (``总磷、氨氮``), or with fewer
        than 5 sections the mean's pollutants with multiples (``总磷(0.76)``)."""
        if self.status_by_means:
            return "、".join(p.text() for p in self.means_pollutants)
        return "、".join(parameters.get(name).name_zh for name, _ in self.main_pollutants)


def mean_concentrations(sections: Sequence[SectionPeriod]) -> dict[str, float]:
    """The arithmetic mean over the sections of each assessed parameter's period mean."""
    result: dict[str, float] = {}
    for name in ASSESSED:
        values = [s.means[name] for s in sections if _usable(s.means.get(name))]
        if values:
            result[name] = sum(values) / len(values)
    return result


def _group_body(sections: Sequence[SectionPeriod]) -> WaterBody:
    lakes = all(s.station.water_body == WaterBody.LAKE for s in sections)
    return WaterBody.LAKE if lakes else WaterBody.RIVER


def assess_group(name: str, sections: Sequence[SectionPeriod]) -> GroupPeriod:
    """Judge a jurisdiction or the basin from its sections' periods.

    Sections without a class count in ``unclassed`` only. With no classed section every share is 0
    and the status None.
    """
    classed = [s for s in sections if s.water_class is not None]
    total = len(classed)
    unclassed = len(sections) - total
    if total == 0:
        return GroupPeriod(name, 0, 0.0, 0.0, 0.0, None, False, None, (), unclassed)
    classes = [s.water_class for s in classed if s.water_class is not None]
    graded = basin_status(classes)
    share_1_3 = 100.0 * sum(1 for c in classes if c <= CLASS_III) / total
    share_worse_5 = 100.0 * sum(1 for c in classes if c == WORSE_THAN_V) / total
    share_4_5 = 100.0 * sum(1 for c in classes if CLASS_III < c < WORSE_THAN_V) / total
    with_target = [s for s in classed if s.target_met is not None]
    target_rate = (
        100.0 * sum(1 for s in with_target if s.target_met) / len(with_target)
        if with_target
        else None
    )
    exceeding: dict[str, int] = {}
    for section in classed:
        for parameter, cls in section.classes.items():
            if cls > CLASS_III:
                exceeding[parameter] = exceeding.get(parameter, 0) + 1
    order = {p: i for i, p in enumerate(ASSESSED)}
    ranked = sorted(exceeding.items(), key=lambda item: (-item[1], order[item[0]]))
    main = tuple((p, 100.0 * n / total) for p, n in ranked[:MAX_POLLUTANTS])
    status: Status = graded.grade
    by_means = total < GROUP_BY_MEANS_BELOW
    means_class: int | None = None
    means_pollutants: tuple[Pollutant, ...] = ()
    if by_means:
        body = _group_body(classed)
        means = mean_concentrations(classed)
        means_class = max(parameter_classes(means, body).values())
        status = class_status(means_class)
        if means_class > CLASS_III:
            means_pollutants = pollutants(means, body)
    return GroupPeriod(
        name=name,
        sections=total,
        share_1_3=share_1_3,
        share_4_5=share_4_5,
        share_worse_5=share_worse_5,
        status=status,
        status_by_means=by_means,
        target_rate=target_rate,
        main_pollutants=main,
        unclassed=unclassed,
        means_class=means_class,
        means_pollutants=means_pollutants,
    )


# --- changes between periods ----------------------------------------------------------------


def class_change(now: int | None, before: int | None) -> int | None:
    """Classes worse (> 0) or better (< 0) than before; None when either period has no class."""
    if now is None or before is None:
        return None
    return now - before


@dataclass(frozen=True)
class GroupChange:
    """Changes in percentage points of the Ⅰ–Ⅲ and 劣Ⅴ shares; ``marked`` is 明显变化."""

    d_1_3: float
    d_worse_5: float
    marked: bool

    @property
    def difference(self) -> float:
        """ΔⅠ–Ⅲ − Δ劣Ⅴ: positive is better."""
        return self.d_1_3 - self.d_worse_5


def group_change(now: GroupPeriod, before: GroupPeriod) -> GroupChange:
    """The change of a group against an earlier period: 明显变化 when |ΔⅠ–Ⅲ − Δ劣Ⅴ| > 20."""
    d_1_3 = now.share_1_3 - before.share_1_3
    d_worse_5 = now.share_worse_5 - before.share_worse_5
    # Shares are k/n * 100; round away the float noise of their difference before comparing.
    marked = round(abs(d_1_3 - d_worse_5), 9) > MARKED_CHANGE
    return GroupChange(d_1_3, d_worse_5, marked)
