"""Breach rules over a station's recent history: what broke, who must know, and when it is over.

Rules (loaded by :mod:`stations.rules.config` from ``stations/data/rules.yaml``):

- target class: the GB 3838 class of a result is worse than the station's target class;
- limits: a parameter above ``max`` (or below ``min``), per jurisdiction (optionally only at lake
  or river sections) or per station; limits may be stricter than GB 3838;
- hydrology: level above the station's warning or guaranteed level, flow outside its limits.

Only QC-good values (flag 1) feed rules. Persistence keeps one noisy sample from paging anyone:
either N consecutive results beyond the limit (and N within it to recover), or the mean over a
time window. :func:`evaluate` is pure and stateless: it replays the history it is given, emits a
:class:`~stations.rules.events.RuleEvent` of kind breach for every rule breached at the newest
result, pending for one beyond its limit before persistence is met, and recovery for every rule
that stopped being breached with it. Every breach names the owner jurisdiction, the other
jurisdictions of a cross-boundary section, and TBA.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from stations import parameters
from stations.jurisdictions import Jurisdiction
from stations.quality.checks import QCFlag
from stations.rules.events import EventKind, RuleEvent, Severity, Side, event_id
from stations.standard.gb3838 import ASSESSED, CLASS_NAMES, WaterBody, classify_report
from stations.station import Station, StationKind

#: The rule id of the target-class rule, and the pseudo parameter it watches.
TARGET_CLASS_RULE = "target-class"
CLASS_PARAMETER = "class"


@dataclass(frozen=True)
class Persistence:
    """N consecutive results beyond the limit, or the mean over a window (seconds)."""

    consecutive: int | None = 1
    window_seconds: float | None = None
    min_results: int = 1

    def __post_init__(self) -> None:
        if (self.consecutive is None) == (self.window_seconds is None):
            raise ValueError("give exactly one of consecutive and window_seconds")
        if self.consecutive is not None and self.consecutive < 1:
            raise ValueError("consecutive must be at least 1")
        if self.window_seconds is not None and self.window_seconds <= 0:
            raise ValueError("window_seconds must be greater than 0")
        if self.min_results < 1:
            raise ValueError("min_results must be at least 1")

    def describe(self) -> str:
        """``2 consecutive results`` or ``mean over 24 h``."""
        if self.consecutive is not None:
            return f"{self.consecutive} consecutive results"
        assert self.window_seconds is not None
        return f"mean over {self.window_seconds / 3600:g} h"


@dataclass(frozen=True)
class TargetClassRule:
    """The class of a result is worse than the station's target class."""

    severity: Severity = Severity.WARNING
    persistence: Persistence = field(default_factory=Persistence)
    id: str = TARGET_CLASS_RULE


@dataclass(frozen=True)
class LimitRule:
    """A parameter beyond a fixed bound; ``max`` breached above it, ``min`` below it."""

    id: str
    parameter: str
    severity: Severity
    persistence: Persistence
    max: float | None = None
    min: float | None = None
    jurisdiction: Jurisdiction | None = None
    water_body: str | None = None
    station: str | None = None

    def __post_init__(self) -> None:
        if (self.max is None) == (self.min is None):
            raise ValueError(f"rule {self.id}: give exactly one of max and min")

    @property
    def limit(self) -> float:
        """The bound, whichever side it is."""
        bound = self.max if self.max is not None else self.min
        assert bound is not None
        return bound

    def violated_by(self, value: float) -> bool:
        """A value on the limit complies."""
        return value > self.limit if self.max is not None else value < self.limit

    def applies_to(self, station: Station) -> bool:
        """Whether the rule's scope (station, jurisdiction, water body) covers the station."""
        if self.station is not None and self.station != station.id:
            return False
        if self.jurisdiction is not None and self.jurisdiction != station.jurisdiction:
            return False
        if self.water_body is not None and self.water_body != station.water_body:
            return False
        return self.parameter in station.parameters


@dataclass(frozen=True)
class HydrologySetting:
    """Severity and persistence of one hydrology rule; its limit comes from the registry."""

    severity: Severity
    persistence: Persistence


#: Hydrology rule id -> (parameter, registry field, bound side).
HYDROLOGY_RULES: Mapping[str, tuple[str, str, str]] = {
    "level-warning": ("level", "warning_level", "max"),
    "level-guaranteed": ("level", "guaranteed_level", "max"),
    "flow-max": ("flow", "flow_max", "max"),
    "flow-min": ("flow", "flow_min", "min"),
}


@dataclass(frozen=True)
class RuleSet:
    """Every rule of the network."""

    path: str
    target_class: TargetClassRule | None
    limits: tuple[LimitRule, ...] = ()
    hydrology: Mapping[str, HydrologySetting] = field(default_factory=dict)

    def rules_for(self, station: Station) -> tuple[TargetClassRule | LimitRule, ...]:
        """The rules that apply to a station, hydrology limits made concrete from the registry."""
        rules: list[TargetClassRule | LimitRule] = []
        if (
            self.target_class is not None
            and station.kind is StationKind.WATER_QUALITY
            and station.target_class is not None
        ):
            rules.append(self.target_class)
        rules.extend(rule for rule in self.limits if rule.applies_to(station))
        if station.hydrology is not None:
            for rule_id, setting in self.hydrology.items():
                parameter, attribute, side = HYDROLOGY_RULES[rule_id]
                bound = getattr(station.hydrology, attribute)
                if bound is None or parameter not in station.parameters:
                    continue
                rules.append(
                    LimitRule(
                        id=rule_id,
                        parameter=parameter,
                        severity=setting.severity,
                        persistence=setting.persistence,
                        station=station.id,
                        max=float(bound) if side == "max" else None,
                        min=float(bound) if side == "min" else None,
                    )
                )
        return tuple(rules)


@dataclass(frozen=True)
class Observation:
    """One assessed report: values in canonical units and their QC flags (only 1 is used)."""

    observed_at: datetime
    values: Mapping[str, float]
    flags: Mapping[str, int]

    def good(self, parameter: str) -> float | None:
        """The value if QC-good, else None."""
        if self.flags.get(parameter) != QCFlag.GOOD or parameter not in self.values:
            return None
        return self.values[parameter]


@dataclass(frozen=True)
class _Step:
    """One result replayed: whether the rule is in breach after it (``since`` when it began) and
    whether the result itself is beyond the limit."""

    at: datetime
    observed: float
    in_breach: bool
    beyond: bool
    since: datetime | None


def evaluate(station: Station, history: Sequence[Observation], rules: RuleSet) -> list[RuleEvent]:
    """Breaches, pending breaches and recoveries (:class:`~stations.rules.events.RuleEvent`) at
    the newest observation of ``history`` (any order).

    A rule is judged only when the newest observation brings a QC-good value for it (for the
    target class: all five assessed parameters good); otherwise nothing changed for that rule.
    """
    if not history:
        return []
    ordered = sorted(history, key=lambda obs: obs.observed_at)
    newest = ordered[-1]
    results: list[RuleEvent] = []
    for rule in rules.rules_for(station):
        series = _series(station, rule, ordered)
        if not series or series[-1][0] != newest.observed_at:
            continue
        steps = _replay(rule, station, series)
        last = steps[-1]
        if last.in_breach and last.beyond:
            results.append(_breach(station, rule, last))
        elif not last.in_breach and len(steps) > 1 and steps[-2].in_breach:
            results.append(_event(EventKind.RECOVERY, station, rule, last, "恢复: "))
        elif last.beyond and not last.in_breach:
            results.append(_event(EventKind.PENDING, station, rule, last, "待定: "))
        # in breach but this result within the limit: waiting for N good results, nothing new
    return results


def _series(
    station: Station, rule: TargetClassRule | LimitRule, history: Sequence[Observation]
) -> list[tuple[datetime, float]]:
    series: list[tuple[datetime, float]] = []
    for obs in history:
        if isinstance(rule, TargetClassRule):
            cls = _overall_class(station.water_body, tuple(obs.good(name) for name in ASSESSED))
            if cls is not None:
                series.append((obs.observed_at, float(cls)))
        else:
            value = obs.good(rule.parameter)
            if value is not None:
                series.append((obs.observed_at, value))
    return series


@functools.lru_cache(maxsize=1 << 16)
def _overall_class(body: WaterBody, good: tuple[float | None, ...]) -> int | None:
    """The overall class of the five assessed values (memoised: the stream re-reads each result
    of the history once per new report)."""
    return classify_report(dict(zip(ASSESSED, good, strict=True)), body).cls


def _violates(rule: TargetClassRule | LimitRule, station: Station, value: float) -> bool:
    if isinstance(rule, TargetClassRule):
        assert station.target_class is not None
        return value > station.target_class
    return rule.violated_by(value)


def _replay(
    rule: TargetClassRule | LimitRule, station: Station, series: list[tuple[datetime, float]]
) -> list[_Step]:
    persistence = rule.persistence
    steps: list[_Step] = []
    breaching = False
    since: datetime | None = None
    for index, (at, value) in enumerate(series):
        observed = value
        beyond = _violates(rule, station, value)
        if persistence.consecutive is not None:
            recent = [v for _, v in series[max(0, index - persistence.consecutive + 1) : index + 1]]
            if len(recent) == persistence.consecutive:
                verdicts = {_violates(rule, station, v) for v in recent}
                if verdicts == {True}:
                    breaching = True
                elif verdicts == {False}:
                    breaching = False
        else:
            assert persistence.window_seconds is not None
            start = at - timedelta(seconds=persistence.window_seconds)
            window = [v for t, v in series[: index + 1] if t > start]
            if len(window) >= persistence.min_results:
                observed = sum(window) / len(window)
                breaching = beyond = _violates(rule, station, observed)
            else:
                beyond = False  # too few results to judge the mean: nothing changes
        if breaching and since is None:
            # the breach began with the first of the results that made it persistent
            first = index - (persistence.consecutive or 1) + 1
            since = series[first][0]
        elif not breaching:
            since = None
        steps.append(_Step(at, observed, in_breach=breaching, beyond=beyond, since=since))
    return steps


def _limit(rule: TargetClassRule | LimitRule, station: Station) -> float:
    if isinstance(rule, TargetClassRule):
        assert station.target_class is not None
        return float(station.target_class)
    return rule.limit


def _parameter(rule: TargetClassRule | LimitRule) -> str:
    return CLASS_PARAMETER if isinstance(rule, TargetClassRule) else rule.parameter


def _describe(rule: TargetClassRule | LimitRule, station: Station, observed: float) -> str:
    if isinstance(rule, TargetClassRule):
        assert station.target_class is not None
        return (
            f"{station.name} 水质 {CLASS_NAMES[round(observed)]}, "
            f"目标 {CLASS_NAMES[station.target_class]}"
        )
    parameter = parameters.get(rule.parameter)
    side = "上限" if rule.max is not None else "下限"
    return (
        f"{station.name} {parameter.name_zh} {observed:g} {parameter.unit}, "
        f"{side} {rule.limit:g} ({rule.id})"
    )


def _side(rule: TargetClassRule | LimitRule) -> Side:
    return Side.MIN if isinstance(rule, LimitRule) and rule.min is not None else Side.MAX


def _event(
    kind: EventKind,
    station: Station,
    rule: TargetClassRule | LimitRule,
    step: _Step,
    prefix: str = "",
    since: datetime | None = None,
    statistic: str | None = None,
) -> RuleEvent:
    """A rule event of ``kind`` at ``step``; ``prefix`` heads its message."""
    return RuleEvent(
        id=event_id(station.id, rule.id, kind, step.at.isoformat()),
        kind=kind,
        station=station.id,
        station_name=station.name,
        rule=rule.id,
        parameter=_parameter(rule),
        observed=step.observed,
        limit=_limit(rule, station),
        severity=rule.severity,
        jurisdictions=station.jurisdictions,
        observed_at=step.at,
        message=prefix + _describe(rule, station, step.observed),
        since=since,
        statistic=statistic,
        side=_side(rule),
    )


def _breach(station: Station, rule: TargetClassRule | LimitRule, step: _Step) -> RuleEvent:
    assert step.since is not None
    statistic = "latest" if rule.persistence.consecutive else rule.persistence.describe()
    return _event(EventKind.BREACH, station, rule, step, since=step.since, statistic=statistic)
