"""Breach rules: persistence, recovery, QC-good only, hydrology, cross-boundary fan-out."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone

import pytest

from stations.jurisdictions import Jurisdiction
from stations.registry import Boundary, HydrologyLimits, Station, StationKind
from stations.rules.engine import (
    HydrologySetting,
    LimitRule,
    Observation,
    Persistence,
    RuleSet,
    TargetClassRule,
    evaluate,
)
from stations.rules.events import EventKind, Severity, Side
from stations.standard.gb3838 import WaterBody

T0 = datetime(2021, 4, 1, tzinfo=timezone(timedelta(hours=8)))
# river classes by hand: CODMn 3.0 II, NH3-N 0.3 II, TP 0.05 II -> II; TP 0.25 -> IV; 0.35 -> V
CLASS_II = {"ph": 7.5, "do": 8.0, "codmn": 3.0, "nh3n": 0.3, "tp": 0.05}
CLASS_IV = {**CLASS_II, "tp": 0.25}
CLASS_V = {**CLASS_II, "tp": 0.35}

TARGET_TWICE = RuleSet(
    path="test", target_class=TargetClassRule(persistence=Persistence(consecutive=2))
)


def obs(hours: float, values: dict[str, float], suspect: tuple[str, ...] = ()) -> Observation:
    flags = {name: 3 if name in suspect else 1 for name in values}
    return Observation(T0 + timedelta(hours=hours), values, flags)


def replay(
    station: Station, history: list[Observation], rules: RuleSet
) -> list[list[tuple[EventKind, str]]]:
    """What evaluate says as each observation arrives: [(event kind, rule id), ...]."""
    said = []
    for end in range(1, len(history) + 1):
        results = evaluate(station, history[:end], rules)
        said.append([(r.kind, r.rule) for r in results])
    return said


def test_target_class_needs_two_consecutive_results_and_recovers_after_two_good(
    station_factory: Callable[..., Station],
) -> None:
    river = station_factory(target_class=3)
    history = [
        obs(0, CLASS_II),
        obs(4, CLASS_IV),  # one bad result: pending, nobody paged
        obs(8, CLASS_V),  # second in a row: breach
        obs(12, CLASS_IV),  # still beyond: breach goes on
        obs(16, CLASS_II),  # one good result: waiting, nothing said
        obs(20, CLASS_II),  # second good result: recovery
        obs(24, CLASS_II),
    ]
    breach = [(EventKind.BREACH, "target-class")]
    assert replay(river, history, TARGET_TWICE) == [
        [],
        [(EventKind.PENDING, "target-class")],
        breach,
        breach,
        [],
        [(EventKind.RECOVERY, "target-class")],
        [],
    ]
    (first,) = evaluate(river, history[:3], TARGET_TWICE)
    assert first.kind is EventKind.BREACH
    assert (first.observed, first.limit, first.parameter, first.side) == (
        5.0,
        3.0,
        "class",
        Side.MAX,
    )
    assert first.id == "JS-TH-900:target-class:breach:2021-04-01T08:00:00+08:00"
    assert first.since == T0 + timedelta(hours=4)
    assert first.observed_at == T0 + timedelta(hours=8)
    assert first.message == "测试断面 水质 Ⅴ类, 目标 Ⅲ类"
    (recovery,) = evaluate(river, history[:6], TARGET_TWICE)
    assert recovery.kind is EventKind.RECOVERY
    assert (recovery.observed, recovery.observed_at) == (2.0, T0 + timedelta(hours=20))


def test_one_noisy_sample_pages_nobody(station_factory: Callable[..., Station]) -> None:
    history = [obs(0, CLASS_II), obs(4, CLASS_V), obs(8, CLASS_II), obs(12, CLASS_V)]
    pending = [(EventKind.PENDING, "target-class")]
    assert replay(station_factory(), history, TARGET_TWICE) == [[], pending, [], pending]


def test_only_qc_good_values_feed_rules(station_factory: Callable[..., Station]) -> None:
    river = station_factory()
    history = [obs(0, CLASS_IV), obs(4, CLASS_V, suspect=("tp",)), obs(8, CLASS_IV)]
    # the suspect result has no class from good values: it is skipped, not a break in the run
    pending = [(EventKind.PENDING, "target-class")]
    assert replay(river, history, TARGET_TWICE) == [
        pending,
        [],
        [(EventKind.BREACH, "target-class")],
    ]
    (breach,) = evaluate(river, history, TARGET_TWICE)
    assert breach.observed == 4.0


def test_window_mean(station_factory: Callable[..., Station]) -> None:
    rule = LimitRule(
        id="tp-day",
        parameter="tp",
        severity=Severity.WARNING,
        persistence=Persistence(consecutive=None, window_seconds=24 * 3600, min_results=3),
        max=0.2,
    )
    rules = RuleSet(path="test", target_class=None, limits=(rule,))
    history = [
        obs(0, {"tp": 0.1}),
        obs(4, {"tp": 0.1}),  # two results: too few for a mean
        obs(8, {"tp": 0.5}),  # mean (0.1 + 0.1 + 0.5) / 3 = 0.2333 > 0.2
        obs(12, {"tp": 0.05}),  # mean 0.75 / 4 = 0.1875: recovered
        obs(30, {"tp": 0.3}),  # window (6 h, 30 h]: 0.5, 0.05, 0.3 -> 0.85 / 3 = 0.2833
    ]
    said = replay(station_factory(), history, rules)
    assert said == [
        [],
        [],
        [(EventKind.BREACH, "tp-day")],
        [(EventKind.RECOVERY, "tp-day")],
        [(EventKind.BREACH, "tp-day")],
    ]
    (breach,) = evaluate(station_factory(), history[:3], rules)
    assert breach.kind is EventKind.BREACH
    assert breach.observed == pytest.approx(0.7 / 3)
    assert breach.statistic == "mean over 24 h"
    (recovery,) = evaluate(station_factory(), history[:4], rules)
    assert recovery.observed == pytest.approx(0.1875)
    (late,) = evaluate(station_factory(), history, rules)
    assert late.observed == pytest.approx(0.85 / 3)
    # two hours later the window (8 h, 32 h] has lost the 0.5 of 8 h: two results, too few
    moved = [*history[:4], obs(32, {"tp": 0.3})]
    assert evaluate(station_factory(), moved, rules) == []


def test_lower_bound_and_value_on_the_limit(station_factory: Callable[..., Station]) -> None:
    rule = LimitRule(
        id="do-low", parameter="do", severity=Severity.CRITICAL, persistence=Persistence(), min=3.0
    )
    rules = RuleSet(path="test", target_class=None, limits=(rule,))
    history = [obs(0, {"do": 3.0}), obs(4, {"do": 2.5}), obs(8, {"do": 3.1})]
    assert replay(station_factory(), history, rules) == [
        [],
        [(EventKind.BREACH, "do-low")],
        [(EventKind.RECOVERY, "do-low")],
    ]
    (breach,) = evaluate(station_factory(), history[:2], rules)
    assert breach.severity is Severity.CRITICAL
    assert breach.side is Side.MIN
    assert breach.message == "测试断面 溶解氧 2.5 mg/L, 下限 3 (do-low)"


def test_jurisdiction_limit_scope(station_factory: Callable[..., Station]) -> None:
    rule = LimitRule(
        id="js-lake-tp",
        parameter="tp",
        severity=Severity.WARNING,
        persistence=Persistence(),
        max=0.08,
        jurisdiction=Jurisdiction.JS,
        water_body="lake",
    )
    assert rule.applies_to(station_factory(water_body=WaterBody.LAKE))
    assert not rule.applies_to(station_factory(water_body=WaterBody.RIVER))
    assert not rule.applies_to(
        station_factory(
            station_id="ZJ-TH-900", jurisdiction=Jurisdiction.ZJ, water_body=WaterBody.LAKE
        )
    )
    assert not rule.applies_to(station_factory(water_body=WaterBody.LAKE, parameters=("do",)))


def test_every_breach_names_owner_and_tba(station_factory: Callable[..., Station]) -> None:
    (breach,) = evaluate(station_factory(), [obs(0, CLASS_V), obs(4, CLASS_V)], TARGET_TWICE)
    assert breach.jurisdictions == (Jurisdiction.JS, Jurisdiction.TBA)


def test_cross_boundary_breach_fans_out_to_both_sides_and_tba(
    station_factory: Callable[..., Station],
) -> None:
    directed = station_factory(
        station_id="SH-CJ-900",
        jurisdiction=Jurisdiction.SH,
        boundary=Boundary(upstream=(Jurisdiction.JS,), downstream=(Jurisdiction.SH,)),
    )
    history = [obs(0, CLASS_V), obs(4, CLASS_V)]
    (breach,) = evaluate(directed, history, TARGET_TWICE)
    assert breach.jurisdictions == (Jurisdiction.SH, Jurisdiction.JS, Jurisdiction.TBA)
    junction = station_factory(
        station_id="SH-CJ-901",
        jurisdiction=Jurisdiction.SH,
        boundary=Boundary(shared=(Jurisdiction.JS, Jurisdiction.ZJ)),
    )
    (breach,) = evaluate(junction, history, TARGET_TWICE)
    assert breach.jurisdictions == (
        Jurisdiction.SH,
        Jurisdiction.JS,
        Jurisdiction.ZJ,
        Jurisdiction.TBA,
    )
    recovered = evaluate(junction, [*history, obs(8, CLASS_II), obs(12, CLASS_II)], TARGET_TWICE)
    assert [r.kind for r in recovered] == [EventKind.RECOVERY]
    assert recovered[0].jurisdictions == breach.jurisdictions


def hydrology_station(factory: Callable[..., Station]) -> Station:
    return factory(
        station_id="TBA-HY-900",
        jurisdiction=Jurisdiction.TBA,
        water_body=WaterBody.LAKE,
        kind=StationKind.HYDROLOGY,
        target_class=None,
        hydrology=HydrologyLimits(warning_level=3.80, guaranteed_level=4.65, flow_max=500.0),
        parameters=("level", "flow"),
    )


HYDROLOGY = RuleSet(
    path="test",
    target_class=TargetClassRule(persistence=Persistence(consecutive=2)),
    hydrology={
        "level-warning": HydrologySetting(Severity.WARNING, Persistence(consecutive=2)),
        "level-guaranteed": HydrologySetting(Severity.CRITICAL, Persistence(consecutive=1)),
        "flow-max": HydrologySetting(Severity.WARNING, Persistence(consecutive=1)),
        "flow-min": HydrologySetting(Severity.WARNING, Persistence(consecutive=1)),
    },
)


def test_hydrology_warning_and_guaranteed_levels(station_factory: Callable[..., Station]) -> None:
    gauge = hydrology_station(station_factory)
    assert [r.id for r in HYDROLOGY.rules_for(gauge)] == [
        "level-warning",
        "level-guaranteed",
        "flow-max",  # no flow_min on this gauge, and no class for hydrology
    ]
    history = [
        obs(0, {"level": 3.80}),  # on the warning level: not above it
        obs(1, {"level": 3.85}),  # first above: pending
        obs(2, {"level": 3.90}),  # second above: warning
        obs(3, {"level": 4.70}),  # above guaranteed: critical at once
        obs(4, {"level": 4.60}),
        obs(5, {"level": 3.70}),
        obs(6, {"level": 3.60}),
    ]
    assert replay(gauge, history, HYDROLOGY) == [
        [],
        [(EventKind.PENDING, "level-warning")],
        [(EventKind.BREACH, "level-warning")],
        [(EventKind.BREACH, "level-warning"), (EventKind.BREACH, "level-guaranteed")],
        [(EventKind.BREACH, "level-warning"), (EventKind.RECOVERY, "level-guaranteed")],
        [],
        [(EventKind.RECOVERY, "level-warning")],
    ]
    critical = evaluate(gauge, history[:4], HYDROLOGY)[1]
    assert (critical.severity, critical.limit, critical.observed) == (Severity.CRITICAL, 4.65, 4.70)
    assert critical.jurisdictions == (Jurisdiction.TBA,)
    assert critical.message == "测试断面 水位 4.7 m, 上限 4.65 (level-guaranteed)"


def test_flow_limit(station_factory: Callable[..., Station]) -> None:
    gauge = hydrology_station(station_factory)
    said = replay(gauge, [obs(0, {"flow": 500.0}), obs(1, {"flow": 520.0})], HYDROLOGY)
    assert said == [[], [(EventKind.BREACH, "flow-max")]]


def test_no_history_and_unordered_history(station_factory: Callable[..., Station]) -> None:
    river = station_factory()
    assert evaluate(river, [], TARGET_TWICE) == []
    shuffled = [obs(4, CLASS_V), obs(0, CLASS_V)]
    assert [r.rule for r in evaluate(river, shuffled, TARGET_TWICE)] == ["target-class"]


def test_persistence_and_limit_rule_validate_themselves() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        Persistence(consecutive=2, window_seconds=3600)
    with pytest.raises(ValueError, match="at least 1"):
        Persistence(consecutive=0)
    with pytest.raises(ValueError, match="exactly one of max and min"):
        LimitRule(id="x", parameter="tp", severity=Severity.INFO, persistence=Persistence())
