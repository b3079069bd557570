"""The alert lifecycle with a controllable clock: every input carries its own time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from alerts.lifecycle import AlertError, Change, Policy, Silence, StationAlerts

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


def whats(changes: list[Change]) -> list[tuple[str, tuple[int, ...]]]:
    return [(c.what, c.tiers) for c in changes]


def test_pending_then_firing_pages_tier_one_once() -> None:
    state = station()
    assert whats(state.evaluation(report(T0, 0.2, "pending"), T0, POLICY)) == [("pending", ())]
    fired = state.evaluation(report(T0 + 4 * HOUR, 0.25, "breach"), T0 + 4 * HOUR, POLICY)
    assert whats(fired) == [("firing", (1,))]
    assert fired[0].alert["state"] == "firing" and fired[0].alert["observed"] == 0.25
    # still beyond at the next result: the same alert, nobody paged again
    assert state.evaluation(report(T0 + 8 * HOUR, 0.3, "breach"), T0 + 8 * HOUR, POLICY) == []


def test_a_pending_alert_clears_silently_when_a_good_result_is_within_the_limit() -> None:
    state = station()
    state.evaluation(report(T0, 0.2, "pending"), T0, POLICY)
    cleared = state.evaluation(report(T0 + 4 * HOUR, 0.1), T0 + 4 * HOUR, POLICY)
    assert whats(cleared) == [("pending-cleared", ())]
    # a suspect result does not judge the rule: a pending alert stays pending
    state.evaluation(report(T0 + 8 * HOUR, 0.2, "pending"), T0 + 8 * HOUR, POLICY)
    assert state.evaluation(report(T0 + 12 * HOUR, 0.1, flag="D"), T0 + 12 * HOUR, POLICY) == []
    assert state.alerts[ALERT].state == "pending"


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
    assert whats(said) == [("firing", (1,))]
    assert state.alerts[ALERT].state == "firing" and state.alerts[ALERT].clearing
    # the first QC-good result past the clear threshold resolves it, with an all-clear
    at = T0 + 10 * HOUR
    assert whats(state.evaluation(report(at, 0.12), at, POLICY)) == [("resolved", (1,))]


def test_a_recovery_past_the_threshold_resolves_at_once() -> None:
    state = station()
    state.evaluation(report(T0, 0.3, "breach"), T0, POLICY)
    resolved = state.evaluation(report(T0 + HOUR, 0.05, "recovery"), T0 + HOUR, POLICY)
    assert whats(resolved) == [("resolved", (1,))]
    assert resolved[0].alert["state_name"] == "已恢复"


def test_repeat_and_escalation_follow_the_clock() -> None:
    state = station()
    state.evaluation(report(T0, 0.3, "breach"), T0, POLICY)
    assert state.tick(T0 + 29 * 60, POLICY) == []
    assert whats(state.tick(T0 + 31 * 60, POLICY)) == [("escalated-2", (2,))]
    assert state.tick(T0 + 3 * HOUR, POLICY) == []  # tier 2 is the rota's last
    repeat = state.tick(T0 + 31 * 60 + 4 * HOUR, POLICY)
    assert whats(repeat) == [("repeat-1", (1, 2))]
    assert state.tick(T0 + 31 * 60 + 4 * HOUR, POLICY) == []  # the same tick again: nothing
    # time never runs backwards: an older tick changes nothing
    assert state.tick(T0, POLICY) == []


def test_acknowledged_alerts_neither_repeat_nor_escalate() -> None:
    state = station()
    state.evaluation(report(T0, 0.3, "breach"), T0, POLICY)
    acked = state.acknowledge(ALERT, "张三", "已通知现场", T0 + 10 * 60)
    assert whats(acked) == [("acknowledged", (1,))]
    assert acked[0].alert["acked_by"] == "张三"
    assert state.acknowledge(ALERT, "李四", "", T0 + 11 * 60) == []  # twice: nothing new
    assert state.tick(T0 + 7 * HOUR, POLICY) == []
    with pytest.raises(AlertError, match="no alert"):
        state.acknowledge(f"{STATION}:other:tn", "张三", "", T0)


def test_silent_station_raises_an_alert_and_inhibits_its_parameter_alerts() -> None:
    state = station()
    state.evaluation(report(T0, 0.3, "breach"), T0, POLICY)
    state.acknowledge(ALERT, "张三", "", T0 + 60)
    assert state.tick(T0 + 8 * HOUR, POLICY) == []  # exactly two intervals: not yet
    silent = state.tick(T0 + 8 * HOUR + 1, POLICY)
    assert whats(silent) == [("firing", (1,))]
    assert silent[0].alert["rule"] == "station-silent"
    assert silent[0].alert["parties"] == ["SH", "JS", "TBA"]
    # a breach while silent cannot arrive (no data); reports coming back resolve the silence
    back = state.evaluation(report(T0 + 9 * HOUR, 0.3, "breach"), T0 + 9 * HOUR, POLICY)
    assert whats(back) == [("resolved", (1,))]


def test_maintenance_inhibits_firing() -> None:
    state = station()
    changes = state.evaluation(report(T0, 0.3, "breach", flag="M"), T0, POLICY)
    assert [(c.what, c.tiers, c.suppressed) for c in changes] == [
        ("pending", (), "inhibited: station in maintenance")
    ]
    # maintenance over, still breached: now it fires
    fired = state.evaluation(report(T0 + HOUR, 0.3, "breach"), T0 + HOUR, POLICY)
    assert whats(fired) == [("firing", (1,))]


def test_a_silence_holds_notifications_back_until_it_ends() -> None:
    state = station()
    window = Silence("s1", STATION, T0, T0 + 2 * HOUR, "王五", "更换试剂", T0)
    assert state.add_silence(window)
    assert not state.add_silence(window)  # same id: once
    fired = state.evaluation(report(T0 + HOUR, 0.3, "breach"), T0 + HOUR, POLICY)
    assert [(c.what, c.tiers) for c in fired] == [("firing", ())]
    assert fired[0].suppressed and "王五" in fired[0].suppressed
    assert state.tick(T0 + HOUR + 60, POLICY) == []
    late = state.tick(T0 + 2 * HOUR, POLICY)  # the window ended, it still fires
    assert whats(late) == [("firing-unsuppressed", (1,))]
    with pytest.raises(AlertError, match="end must be after"):
        state.add_silence(Silence("s2", STATION, T0, T0, "王五", "x", T0))


def test_results_from_long_ago_page_nobody() -> None:
    state = station()
    old = report(T0, 0.3, "breach")
    assert state.evaluation(old, T0 + 25 * HOUR, POLICY) == []  # a history import
    assert state.alerts == {} and state.last_received is None
    assert whats(state.evaluation(old, T0 + 23 * HOUR, POLICY)) == [("firing", (1,))]


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
