"""The alert lifecycle with a controllable clock: every input carries its own time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from alerts.errors import CommandRefusedError
from alerts.lifecycle import Policy, Silence, StationAlerts
from alerts.records import AlertState, Change, Side, Transition, What

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


def report(at: float, tp: float | None, kind: str | None = None, flag: str = "N") -> dict[str, Any]:
    """An assessed report of the station with TP ``tp`` and the rule event ``kind``."""
    observed_at = datetime.fromtimestamp(at, UTC).isoformat()
    events = []
    if kind is not None:
        events.append(
            {
                "kind": kind,
                "rule": "tpq-tp",
                "parameter": "tp",
                "observed": tp,
                "limit": 0.15,
                "severity": "warning",
                "jurisdictions": ["SH", "JS", "TBA"],
                "observed_at": observed_at,
                "since": observed_at,
                "message": f"太浦河桥 总磷 {tp}",
            }
        )
    qc = 1 if flag == "N" else 4
    return {
        "station": STATION,
        "observed_at": observed_at,
        "values": {"tp": {"value": tp, "flag": flag, "qc": qc}},
        "class": 3,
        "events": events,
    }


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
    def oxygen(at: float, do: float, kind: str | None, side: str = "min") -> dict[str, Any]:
        doc = report(at, None)
        doc["values"] = {"do": {"value": do, "flag": "N", "qc": 1}}
        if kind is not None:
            event = {
                "kind": kind, "rule": "do-low", "parameter": "do", "observed": do, "limit": 3.0,
                "severity": "warning", "jurisdictions": ["SH"], "observed_at": doc["observed_at"],
                "since": doc["observed_at"], "message": "溶解氧偏低", "side": side,
            }  # fmt: skip
            doc["events"] = [event]
        return doc

    state = station()
    assert whats(state.evaluation(oxygen(T0, 2.0, "breach"), T0, POLICY)) == [(FIRING, (1,))]
    alert = state.alerts[f"{STATION}:do-low:do"]
    assert alert.side is Side.MIN
    # below a minimum, the clear threshold is above it: 3.0 + 10 % = 3.3
    assert state.evaluation(oxygen(T0 + HOUR, 3.1, "recovery"), T0 + HOUR, POLICY) == []
    assert alert.clearing
    assert whats(state.evaluation(oxygen(T0 + 2 * HOUR, 3.4, None), T0 + 2 * HOUR, POLICY)) == [
        (RESOLVED, (1,))
    ]
    # the event says the side; nothing is guessed from the value and the limit
    other = station()
    other.evaluation(oxygen(T0, 2.0, "breach", side="max"), T0, POLICY)
    assert other.alerts[f"{STATION}:do-low:do"].side is Side.MAX
    assert StationAlerts.from_json(state.to_json()).alerts[alert.id].side is Side.MIN
