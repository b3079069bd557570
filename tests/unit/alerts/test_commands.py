"""Request bodies become command records, or a CommandError naming the field (HTTP 400); the
views list the stations' alerts and silences."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from alerts.commands import ack_command, silence_commands, silence_of
from alerts.errors import AlertsError, CommandError
from alerts.lifecycle import Policy, StationAlerts
from alerts.records import AckCommand, SilenceCommand, decode_command, encode
from alerts.views import listing
from stations.registry import load_registry
from tests.unit.alerts.test_lifecycle import ALERT, STATION, T0, report, station

REGISTRY = load_registry()
NOW = datetime(2026, 11, 20, 8, tzinfo=UTC)


def window(**overrides: Any) -> dict[str, Any]:
    body = {
        "station": "SH-CJ-011",
        "start": NOW.isoformat(),
        "end": (NOW + timedelta(hours=2)).isoformat(),
        "author": "王五",
        "reason": "更换溶解氧电极",
    }
    return body | overrides


def test_an_ack_body_becomes_an_ack_command_that_travels_intact() -> None:
    command = ack_command({"id": ALERT, "by": " 张三 ", "note": "已通知现场"}, NOW.timestamp())
    assert command == AckCommand(STATION, ALERT, "张三", "已通知现场", NOW.timestamp())
    assert decode_command(encode(command)) == command


@pytest.mark.parametrize(
    "body, problem",
    [
        ({"by": "张三"}, "'id' is required"),
        ({"id": "SH-CJ-009", "by": "张三"}, "is not an alert id"),
        ({"id": ALERT}, "'by' is required"),
        ({"id": ALERT, "by": 5}, "'by' must be text"),
        ({"id": ALERT, "by": "张" * 101}, "'by' is longer than 100 characters"),
    ],
)
def test_a_bad_ack_body_is_a_command_error(body: dict[str, Any], problem: str) -> None:
    with pytest.raises(CommandError, match=problem) as raised:
        ack_command(body, NOW.timestamp())
    assert isinstance(raised.value, AlertsError)


def test_a_silence_of_a_station_or_of_every_station_of_a_jurisdiction() -> None:
    (one,) = silence_commands(window(), REGISTRY, NOW.timestamp())
    assert isinstance(one, SilenceCommand) and one.station == "SH-CJ-011"
    assert one.id.endswith("-SH-CJ-011") and one.end - one.start == 7200
    assert decode_command(encode(one)) == one
    assert silence_of(one).covers(NOW.timestamp() + 60)
    body = window(jurisdiction="SH")
    del body["station"]
    every = silence_commands(body, REGISTRY, NOW.timestamp())
    expected = {s.id for s in REGISTRY if str(s.jurisdiction) == "SH"}
    assert {c.station for c in every} == expected and len(every) == len(expected) > 1
    assert len({c.id.rsplit("-", 3)[0] for c in every}) == 1, "one batch id"


@pytest.mark.parametrize(
    "overrides, problem",
    [
        ({"end": NOW.isoformat()}, "'end' must be after 'start'"),
        ({"start": "2026-11-20T08:00:00"}, "has no UTC offset"),
        ({"start": "soon"}, "is not an ISO 8601 time"),
        ({"jurisdiction": "SH"}, "exactly one of 'station' and 'jurisdiction'"),
        ({"station": "XX-0"}, "unknown station 'XX-0'"),
        ({"reason": ""}, "'reason' is required"),
    ],
)
def test_a_bad_silence_body_is_a_command_error(overrides: dict[str, Any], problem: str) -> None:
    with pytest.raises(CommandError, match=problem):
        silence_commands(window(**overrides), REGISTRY, NOW.timestamp())


def test_the_listing_filters_by_party_and_state_and_puts_firing_first() -> None:
    policy = Policy(max_tier=lambda parties, owner: 2)
    firing = station()
    firing.evaluation(report(T0, 0.3, "breach"), T0, policy)
    pending = StationAlerts.of(REGISTRY.get("JS-TH-028"))
    found = listing([pending, firing], REGISTRY)
    assert [a["id"] for a in found["alerts"]] == [ALERT]
    (alert,) = found["alerts"]
    assert alert["state"] == "firing" and alert["parameter_name"] == "总磷"
    assert alert["jurisdiction_name"] == "上海市" and alert["silenced"] is False
    assert listing([firing], REGISTRY, jurisdiction="ZJ")["alerts"] == []
    assert listing([firing], REGISTRY, jurisdiction="JS")["alerts"] == [alert]
    assert listing([firing], REGISTRY, wanted="acknowledged")["alerts"] == []
