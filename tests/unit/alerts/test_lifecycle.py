"""The alert lifecycle with a controllable clock: every input carries its own time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from alerts.errors import CommandRefusedError
from alerts.lifecycle import Policy, Silence, StationAlerts
from alerts.records import AlertState, Change, Transition, What
from stations.formats.assessed import AssessedReport, AssessedValue
from stations.jurisdictions import Jurisdiction
from stations.quality.checks import QCFlag
from stations.rules.events import EventKind, RuleEvent, Severity, Side, event_id
from stations.standard.gb3838 import WaterBody
from stations.station import StationKind

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC).timestamp()
HOUR = 3600.0
STATION = "SH-CJ-009"
ALERT = f"{STATION}:tpq-tp:tp"
POLICY = Policy(
    repeat=timedelta(hours=4),
    escalate=(timedelta(minutes=30), timedelta(hours=2)),
    silent_intervals=2,
    hysteresis=0.1,
    max_tier=lambda parties, owner: 2,
)


def station() -> StationAlerts:
    return StationAlerts(STATION, "太浦河桥", "SH", ["SH", "JS", "TBA"], interval=4 * HOUR)


def event(
    at: float,
    kind: EventKind,
    observed: float,
    rule: str = "tpq-tp",
    parameter: str = "tp",
    limit: float = 0.15,
    side: Side | None = Side.MAX,
) -> RuleEvent:
    """A rule event of the station as the rules engine makes it."""
    moment = datetime.fromtimestamp(at, UTC)
    breach = kind is EventKind.BREACH
    return RuleEvent(
        id=event_id(STATION, rule, kind, moment.isoformat()),
        kind=kind,
        station=STATION,
        station_name="太浦河桥",
        rule=rule,
        parameter=parameter,
        observed=observed,
        limit=limit,
        severity=Severity.WARNING,
        jurisdictions=(Jurisdiction.SH, Jurisdiction.JS, Jurisdiction.TBA),
        observed_at=moment,
        message=f"太浦河桥 {parameter} {observed}",
        since=moment if breach else None,
        statistic="latest" if breach else None,
        side=side,
    )


def assessed(
    at: float, values: dict[str, tuple[float, str]], events: tuple[RuleEvent, ...] = ()
) -> AssessedReport:
    """An assessed report of the station: each value with its HJ 212 flag (N: QC good, any
    other: QC fail), class III."""
    moment = datetime.fromtimestamp(at, UTC)
    return AssessedReport(
        station=STATION,
        station_name="太浦河桥",
        jurisdiction=Jurisdiction.SH,
        basin="太湖流域",
        water_body=WaterBody.RIVER,
        kind=StationKind.WATER_QUALITY,
        observed_at=moment,
        received_at=moment,
        source="test",
        late=False,
        values={
            name: AssessedValue(
                value, "mg/L", flag, QCFlag.GOOD if flag == "N" else QCFlag.FAIL, ()
            )
            for name, (value, flag) in values.items()
        },
        water_class=3,
        class_name="Ⅲ类",
        limiting=(),
        target_class=3,
        target_met=True,
        events=events,
    )


def report(at: float, tp: float, kind: str | None = None, flag: str = "N") -> AssessedReport:
    """An assessed report of the station with TP ``tp`` and the rule event ``kind``."""
    events = () if kind is None else (event(at, EventKind(kind), tp),)
    return assessed(at, {"tp": (tp, flag)}, events)


PENDING = What(Transition.PENDING)
FIRING = What(Transition.FIRING)
RESOLVED = What(Transition.RESOLVED)


def whats(changes: list[Change]) -> list[tuple[What, tuple[int, ...]]]:
    return [(c.what, c.tiers) for c in changes]


def test_pending_then_firing_pages_tier_one_once() -> None:
    state = station()
    assert whats(state.evaluation(report(T0, 0.2, "pending"), T0, POLICY)) == [(PENDING, ())]
    fired = state.evaluation(report(T0 + 4 * HOUR, 0.25, "breach"), T0 + 4 * HOUR, POLICY)
    assert whats(fired) == [(FIRING, (1,))]
    assert fired[0].alert.state is AlertState.FIRING and fired[0].alert.observed == 0.25
    assert fired[0].id == f"{ALERT}:2026-11-20T12:00:00+00:00:firing"
    # still beyond at the next result: the same alert, nobody paged again
    assert state.evaluation(report(T0 + 8 * HOUR, 0.3, "breach"), T0 + 8 * HOUR, POLICY) == []


def test_a_pending_alert_clears_silently_when_a_good_result_is_within_the_limit() -> None:
    state = station()
    state.evaluation(report(T0, 0.2, "pending"), T0, POLICY)
    cleared = state.evaluation(report(T0 + 4 * HOUR, 0.1), T0 + 4 * HOUR, POLICY)
    assert whats(cleared) == [(What(Transition.PENDING_CLEARED), ())]
    # a suspect result does not judge the rule: a pending alert stays pending
    state.evaluation(report(T0 + 8 * HOUR, 0.2, "pending"), T0 + 8 * HOUR, POLICY)
    assert state.evaluation(report(T0 + 12 * HOUR, 0.1, flag="D"), T0 + 12 * HOUR, POLICY) == []
    assert state.alerts[ALERT].state is AlertState.PENDING


def test_a_value_hovering_at_the_limit_makes_one_alert_not_many() -> None:
    state = station()
    said: list[Change] = []
    # around the limit 0.15; the clear threshold is 0.15 - 10 % = 0.135
    sequence = [
        (0.16, "breach"),
        (0.14, "recovery"),
        (0.16, "pending"),
        (0.17, "breach"),
        (0.149, "recovery"),
        (0.151, "pending"),
        (0.152, "breach"),
        (0.14, "recovery"),
        (0.145, None),
    ]
    for step, (tp, kind) in enumerate(sequence):
        at = T0 + step * HOUR
        said += state.evaluation(report(at, tp, kind), at, POLICY)
    assert whats(said) == [(FIRING, (1,))]
    assert state.alerts[ALERT].state is AlertState.FIRING and state.alerts[ALERT].clearing
    # the first QC-good result past the clear threshold resolves it, with an all-clear
    at = T0 + 10 * HOUR
    assert whats(state.evaluation(report(at, 0.12), at, POLICY)) == [(RESOLVED, (1,))]


def test_a_recovery_past_the_threshold_resolves_at_once() -> None:
    state = station()
    state.evaluation(report(T0, 0.3, "breach"), T0, POLICY)
    resolved = state.evaluation(report(T0 + HOUR, 0.05, "recovery"), T0 + HOUR, POLICY)
    assert whats(resolved) == [(RESOLVED, (1,))]
    assert resolved[0].alert.state_name == "已恢复"


def test_repeat_and_escalation_follow_the_clock() -> None:
    state = station()
    state.evaluation(report(T0, 0.3, "breach"), T0, POLICY)
    assert state.tick(T0 + 29 * 60, POLICY) == []
    (escalated,) = state.tick(T0 + 31 * 60, POLICY)
    assert (escalated.what, escalated.tiers) == (What(Transition.ESCALATED, tier=2), (2,))
    assert escalated.id.endswith(":escalated-2") and escalated.alert.tier == 2
    assert state.tick(T0 + 3 * HOUR, POLICY) == []  # tier 2 is the rota's last
    repeat = state.tick(T0 + 31 * 60 + 4 * HOUR, POLICY)
    assert whats(repeat) == [(What(Transition.REPEAT, repeat=1), (1, 2))]
    assert state.tick(T0 + 31 * 60 + 4 * HOUR, POLICY) == []  # the same tick again: nothing
    # time never runs backwards: an older tick changes nothing
    assert state.tick(T0, POLICY) == []


def test_acknowledged_alerts_neither_repeat_nor_escalate() -> None:
    state = station()
    state.evaluation(report(T0, 0.3, "breach"), T0, POLICY)
    acked = state.acknowledge(ALERT, "张三", "已通知现场", T0 + 10 * 60)
    assert whats(acked) == [(What(Transition.ACKNOWLEDGED), (1,))]
    assert acked[0].alert.acked_by == "张三"
    assert state.acknowledge(ALERT, "李四", "", T0 + 11 * 60) == []  # twice: nothing new
    assert state.tick(T0 + 7 * HOUR, POLICY) == []
    with pytest.raises(CommandRefusedError, match="no alert"):
        state.acknowledge(f"{STATION}:other:tn", "张三", "", T0)


def test_silent_station_raises_an_alert_and_inhibits_its_parameter_alerts() -> None:
    state = station()
    state.evaluation(report(T0, 0.3, "breach"), T0, POLICY)
    state.acknowledge(ALERT, "张三", "", T0 + 60)
    assert state.tick(T0 + 8 * HOUR, POLICY) == []  # exactly two intervals: not yet
    silent = state.tick(T0 + 8 * HOUR + 1, POLICY)
    assert whats(silent) == [(FIRING, (1,))]
    assert silent[0].alert.rule == "station-silent"
    assert silent[0].alert.parties == ("SH", "JS", "TBA")
    # a breach while silent cannot arrive (no data); reports coming back resolve the silence
    back = state.evaluation(report(T0 + 9 * HOUR, 0.3, "breach"), T0 + 9 * HOUR, POLICY)
    assert whats(back) == [(RESOLVED, (1,))]


def test_maintenance_inhibits_firing() -> None:
    state = station()
    changes = state.evaluation(report(T0, 0.3, "breach", flag="M"), T0, POLICY)
    assert [(c.what, c.tiers, c.suppressed) for c in changes] == [
        (PENDING, (), "inhibited: station in maintenance")
    ]
    # maintenance over, still breached: now it fires
    fired = state.evaluation(report(T0 + HOUR, 0.3, "breach"), T0 + HOUR, POLICY)
    assert whats(fired) == [(FIRING, (1,))]


def test_a_silence_holds_notifications_back_until_it_ends() -> None:
    state = station()
    window = Silence("s1", STATION, T0, T0 + 2 * HOUR, "王五", "更换试剂", T0)
    assert state.add_silence(window)
    assert not state.add_silence(window)  # same id: once
    fired = state.evaluation(report(T0 + HOUR, 0.3, "breach"), T0 + HOUR, POLICY)
    assert [(c.what, c.tiers) for c in fired] == [(FIRING, ())]
    assert fired[0].suppressed and "王五" in fired[0].suppressed
    assert state.tick(T0 + HOUR + 60, POLICY) == []
    late = state.tick(T0 + 2 * HOUR, POLICY)  # the window ended, it still fires
    assert whats(late) == [(What(Transition.FIRING_UNSUPPRESSED), (1,))]
    with pytest.raises(CommandRefusedError, match="end must be after"):
        state.add_silence(Silence("s2", STATION, T0, T0, "王五", "x", T0))


def test_results_from_long_ago_page_nobody() -> None:
    state = station()
    old = report(T0, 0.3, "breach")
    assert state.evaluation(old, T0 + 25 * HOUR, POLICY) == []  # a history import
    assert state.alerts == {} and state.last_received is None
    assert whats(state.evaluation(old, T0 + 23 * HOUR, POLICY)) == [(FIRING, (1,))]


def test_state_survives_json_and_a_redelivery_changes_nothing() -> None:
    state = station()
    first = state.evaluation(report(T0, 0.3, "breach"), T0, POLICY)
    restored = StationAlerts.from_json(state.to_json())
    assert restored == state
    # the same message again after a restart: no second firing
    assert restored.evaluation(report(T0, 0.3, "breach"), T0, POLICY) == []
    # a fresh replay of the same input from scratch gives the same change ids
    again = station().evaluation(report(T0, 0.3, "breach"), T0, POLICY)
    assert [c.id for c in again] == [c.id for c in first]


def test_the_side_of_the_limit_comes_from_the_rule_event() -> None:
    def oxygen(
        at: float, do: float, kind: EventKind | None, side: Side = Side.MIN
    ) -> AssessedReport:
        rule = {"rule": "do-low", "parameter": "do", "limit": 3.0, "side": side}
        events = () if kind is None else (event(at, kind, do, **rule),)
        return assessed(at, {"do": (do, "N")}, events)

    state = station()
    fired = state.evaluation(oxygen(T0, 2.0, EventKind.BREACH), T0, POLICY)
    assert whats(fired) == [(FIRING, (1,))]
    alert = state.alerts[f"{STATION}:do-low:do"]
    assert alert.side is Side.MIN and fired[0].alert.side is Side.MIN
    # below a minimum, the clear threshold is above it: 3.0 + 10 % = 3.3
    assert state.evaluation(oxygen(T0 + HOUR, 3.1, EventKind.RECOVERY), T0 + HOUR, POLICY) == []
    assert alert.clearing
    resolved = state.evaluation(oxygen(T0 + 2 * HOUR, 3.4, None), T0 + 2 * HOUR, POLICY)
    assert whats(resolved) == [(RESOLVED, (1,))]
    # the event says the side; nothing is guessed from the value and the limit
    other = station()
    other.evaluation(oxygen(T0, 2.0, EventKind.BREACH, side=Side.MAX), T0, POLICY)
    assert other.alerts[f"{STATION}:do-low:do"].side is Side.MAX
    assert StationAlerts.from_json(state.to_json()).alerts[alert.id].side is Side.MIN


def test_an_event_written_before_events_said_their_side_still_has_one() -> None:
    state = station()
    breach = event(T0, EventKind.BREACH, 2.0, rule="do-low", parameter="do", limit=3.0, side=None)
    state.evaluation(assessed(T0, {"do": (2.0, "N")}, (breach,)), T0, POLICY)
    assert state.alerts[f"{STATION}:do-low:do"].side is Side.MIN
