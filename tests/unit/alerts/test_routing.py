"""Who is on duty: shifts in Beijing time, scopes, tiers and receivers shared by rotas."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from alerts.channels import describe
from alerts.config import AlertsConfig, Shift, load_alerts_config
from alerts.routing import SHANGHAI, Route, beijing_time, max_tier, on_duty, route
from stations.jurisdictions import Jurisdiction

JS, ZJ, SH, AH, TBA = (j.value for j in Jurisdiction)

TEXT = (
    "version: 1\n"
    "receivers:\n"
    + "".join(
        f'  {name}:\n    channels:\n      - {{type: webhook, url: "http://127.0.0.1:9300/{name}"}}\n'
        for name in (
            "js-duty",
            "js-night",
            "js-sunday",
            "js-chief",
            "zj-duty",
            "sh-duty",
            "basin-desk",
            "tba-duty",
            "tba-chief",
            "tba-director",
        )
    )
    + "rotas:\n"
    "  JS:\n"
    "    tiers:\n"
    "      - tier: 1\n"
    "        shifts:\n"
    '          - {days: weekdays, hours: "08:30-17:30", receivers: [js-duty]}\n'
    '          - {days: all, hours: "17:30-08:30", receivers: [js-night]}\n'
    '          - {days: [sat, sun], hours: "08:30-17:30", receivers: [js-night]}\n'
    '          - {days: [sun], hours: "22:00-06:00", receivers: [js-sunday]}\n'
    "      - tier: 2\n"
    "        shifts:\n"
    '          - {days: all, hours: "00:00-24:00", receivers: [js-chief]}\n'
    "  ZJ:\n"
    "    scope: all\n"
    "    tiers:\n"
    "      - tier: 1\n"
    "        shifts:\n"
    '          - {days: all, hours: "00:00-24:00", receivers: [zj-duty, basin-desk]}\n'
    "  SH:\n"
    "    tiers:\n"
    "      - tier: 1\n"
    "        shifts:\n"
    '          - {days: all, hours: "00:00-24:00", receivers: [basin-desk, sh-duty]}\n'
    "  TBA:\n"
    "    scope: cross_boundary\n"
    "    tiers:\n"
    "      - tier: 1\n"
    "        shifts:\n"
    '          - {days: all, hours: "00:00-24:00", receivers: [tba-duty]}\n'
    "      - tier: 2\n"
    "        shifts:\n"
    '          - {days: all, hours: "00:00-24:00", receivers: [tba-chief]}\n'
    "      - tier: 3\n"
    "        shifts:\n"
    '          - {days: weekdays, hours: "09:00-17:00", receivers: [tba-director]}\n'
)


@pytest.fixture(scope="module")
def config() -> AlertsConfig:
    return load_alerts_config("alerts.yaml", {}, text=TEXT)


def bj(day: int, hour: int, minute: int = 0) -> datetime:
    """A time in Beijing in the week of Friday 2026-11-20 (day 20) to Monday 2026-11-23."""
    return datetime(2026, 11, day, hour, minute, tzinfo=SHANGHAI)


FRI, SAT, SUN, MON = 20, 21, 22, 23


def names(routes: list[Route]) -> list[tuple[str, str]]:
    return [(r.jurisdiction.value, r.receiver.name) for r in routes]


def js_on_duty(config: AlertsConfig, at: datetime) -> list[str]:
    return [receiver.name for receiver in on_duty(config, JS, 1, at)]


def test_the_calendar_of_the_tests() -> None:
    assert [bj(day, 12).strftime("%a") for day in (FRI, SAT, SUN, MON)] == [
        "Fri",
        "Sat",
        "Sun",
        "Mon",
    ]


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (bj(FRI, 10), ["js-duty"]),
        (bj(FRI, 8, 29), ["js-night"]),  # Thursday's night shift
        (bj(FRI, 8, 30), ["js-duty"]),  # start included, end excluded
        (bj(FRI, 17, 29), ["js-duty"]),
        (bj(FRI, 17, 30), ["js-night"]),
        (bj(SAT, 10), ["js-night"]),  # weekend day shift
        (bj(SUN, 17, 29), ["js-night"]),
        (bj(MON, 10), ["js-duty"]),
    ],
)
def test_weekday_and_weekend_shifts(
    config: AlertsConfig, at: datetime, expected: list[str]
) -> None:
    assert js_on_duty(config, at) == expected


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        (bj(SAT, 3), ["js-night"]),  # Friday 17:30-08:30 covers Saturday 03:00
        (bj(SUN, 5), ["js-night"]),  # the Sunday shift starts on Sunday evening, not before
        (bj(SUN, 21, 59), ["js-night"]),
        (bj(SUN, 22), ["js-night", "js-sunday"]),
        (bj(SUN, 23, 59), ["js-night", "js-sunday"]),
        (bj(MON, 0), ["js-night", "js-sunday"]),  # Sunday -> Monday over midnight
        (bj(MON, 5, 59), ["js-night", "js-sunday"]),
        (bj(MON, 6), ["js-night"]),
        (bj(MON, 23), ["js-night"]),  # Monday evening: Sunday's shift is not Monday's
    ],
)
def test_shifts_over_midnight_belong_to_the_day_they_start(
    config: AlertsConfig, at: datetime, expected: list[str]
) -> None:
    assert js_on_duty(config, at) == expected


def test_shift_covers_uses_the_local_wall_clock() -> None:
    saturday_only = Shift(days=frozenset({5}), start=20 * 60, end=20 * 60, receivers=("x",))
    # end == start: 24 hours from the start, over midnight.
    assert saturday_only.covers(bj(SAT, 20))
    assert saturday_only.covers(bj(SUN, 19, 59))
    assert not saturday_only.covers(bj(SUN, 20))
    assert not saturday_only.covers(bj(SAT, 19, 59))


def test_times_in_other_zones_are_judged_in_beijing(config: AlertsConfig) -> None:
    # 2026-11-20T16:00Z is Saturday 00:00 in Shanghai: the night shift, not Friday's day shift.
    utc = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)
    assert beijing_time(utc) == bj(SAT, 0)
    assert beijing_time(utc).weekday() == 5
    assert js_on_duty(config, utc) == ["js-night"]
    # 2026-11-20T02:00Z is Friday 10:00 in Shanghai.
    assert js_on_duty(config, datetime(2026, 11, 20, 2, 0, tzinfo=UTC)) == ["js-duty"]
    # Sunday 09:00 in New York (UTC-5) is Sunday 22:00 in Beijing.
    new_york = timezone(timedelta(hours=-5))
    at = datetime(2026, 11, 22, 9, 0, tzinfo=new_york)
    assert js_on_duty(config, at) == ["js-night", "js-sunday"]
    assert names(route(config, [JS, TBA], JS, 1, at)) == [(JS, "js-night"), (JS, "js-sunday")]


def test_naive_times_are_refused(config: AlertsConfig) -> None:
    naive = datetime(2026, 11, 20, 10, 0)
    with pytest.raises(ValueError, match="timezone-aware"):
        route(config, [JS, TBA], JS, 1, naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        on_duty(config, JS, 1, naive)


def test_a_cross_boundary_alert_reaches_owner_other_party_and_the_authority(
    config: AlertsConfig,
) -> None:
    routes = route(config, [JS, ZJ, TBA], JS, 1, bj(FRI, 10))
    assert names(routes) == [
        (JS, "js-duty"),
        (ZJ, "zj-duty"),
        (ZJ, "basin-desk"),
        (TBA, "tba-duty"),
    ]
    assert routes[0].receiver == config.receivers["js-duty"]
    # The owner comes first whatever the order of the parties.
    assert names(route(config, [ZJ, TBA, JS], JS, 1, bj(FRI, 10)))[0] == (JS, "js-duty")
    assert names(route(config, [TBA, ZJ], JS, 1, bj(FRI, 10))) == [
        (JS, "js-duty"),
        (TBA, "tba-duty"),
        (ZJ, "zj-duty"),
        (ZJ, "basin-desk"),
    ]


def test_a_local_alert_does_not_reach_a_cross_boundary_rota(config: AlertsConfig) -> None:
    assert names(route(config, [JS, TBA], JS, 1, bj(FRI, 10))) == [(JS, "js-duty")]
    assert names(route(config, [JS], JS, 1, bj(FRI, 10))) == [(JS, "js-duty")]
    # An alert owned by TBA alone is not cross-boundary either.
    assert route(config, [TBA], TBA, 1, bj(FRI, 10)) == []


def test_a_receiver_shared_by_two_jurisdictions_is_notified_once(config: AlertsConfig) -> None:
    routes = route(config, [ZJ, SH, TBA], ZJ, 1, bj(SAT, 10))
    assert names(routes) == [
        (ZJ, "zj-duty"),
        (ZJ, "basin-desk"),  # first jurisdiction wins
        (SH, "sh-duty"),
        (TBA, "tba-duty"),
    ]
    assert names(route(config, [SH, ZJ], SH, 1, bj(SAT, 10))) == [
        (SH, "basin-desk"),
        (SH, "sh-duty"),
        (ZJ, "zj-duty"),
    ]


def test_higher_tiers_only_when_asked(config: AlertsConfig) -> None:
    cross = [JS, ZJ, TBA]
    assert names(route(config, cross, JS, 2, bj(FRI, 10))) == [(JS, "js-chief"), (TBA, "tba-chief")]
    assert names(route(config, cross, JS, 3, bj(FRI, 10))) == [(TBA, "tba-director")]
    assert route(config, cross, JS, 3, bj(SAT, 10)) == []  # the director's shift is weekdays
    assert route(config, cross, JS, 4, bj(FRI, 10)) == []
    assert names(route(config, [JS, TBA], JS, 2, bj(SAT, 3))) == [(JS, "js-chief")]
    with pytest.raises(ValueError, match="tiers start at 1"):
        route(config, cross, JS, 0, bj(FRI, 10))


def test_parties_without_a_rota_get_nothing(config: AlertsConfig) -> None:
    assert names(route(config, [AH, TBA], AH, 1, bj(FRI, 10))) == []
    assert names(route(config, [AH, JS, TBA], AH, 1, bj(FRI, 10))) == [
        (JS, "js-duty"),
        (TBA, "tba-duty"),
    ]
    assert on_duty(config, AH, 1, bj(FRI, 10)) == []
    with pytest.raises(ValueError):
        route(config, ["XX"], JS, 1, bj(FRI, 10))


def test_max_tier(config: AlertsConfig) -> None:
    assert max_tier(config, [JS, TBA], JS) == 2  # TBA does not take local alerts
    assert max_tier(config, [JS, ZJ, TBA], JS) == 3
    assert max_tier(config, [ZJ, TBA], ZJ) == 1
    assert max_tier(config, [ZJ, SH], ZJ) == 1  # TBA is not a party
    assert max_tier(config, [ZJ, SH, TBA], ZJ) == 3
    assert max_tier(config, [AH, TBA], AH) == 0
    assert max_tier(config, [AH], AH) == 0


def test_the_shipped_configuration_routes_to_the_local_receiver() -> None:
    config = load_alerts_config(environ={})
    at = datetime(2026, 11, 21, 3, 0, tzinfo=UTC)
    urls = [describe(r.receiver.channels[0]) for r in route(config, [JS, ZJ, TBA], JS, 2, at)]
    assert urls == [
        "webhook:http://127.0.0.1:9300/js/tier2",
        "webhook:http://127.0.0.1:9300/zj/tier2",
        "webhook:http://127.0.0.1:9300/tba/tier2",
    ]
    assert names(route(config, [SH, TBA], SH, 1, at)) == [(SH, "sh-duty")]
    assert max_tier(config, [SH, TBA], SH) == 2
