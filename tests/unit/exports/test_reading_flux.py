"""The Flux of the month's read (exports.month_flux) and the pure parts of exports.reading."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from boards.schema import SchemaError
from exports import influxql as iql
from exports import month_flux as mf
from exports.reading import expected_count, lake_means, month_bounds, summarise_alerts
from stations.formats.hj212 import BEIJING
from stations.sharing.grants import Granularity

START, STOP = month_bounds(date(2021, 4, 17))


def test_a_month_is_bounded_by_midnights_in_beijing() -> None:
    assert (
        datetime(2021, 4, 1, tzinfo=BEIJING),
        datetime(2021, 5, 1, tzinfo=BEIJING),
    ) == (START, STOP)
    assert month_bounds(date(2021, 1, 31), -1) == (
        datetime(2020, 12, 1, tzinfo=BEIJING),
        datetime(2021, 1, 1, tzinfo=BEIJING),
    )
    assert month_bounds(date(2021, 4, 1), -12)[0] == datetime(2020, 4, 1, tzinfo=BEIJING)
    assert month_bounds(date(2021, 12, 5))[1] == datetime(2022, 1, 1, tzinfo=BEIJING)


def test_the_qc_good_means_are_a_field_condition_in_influxql() -> None:
    text = iql.good_means(START, STOP)
    assert text == (
        'SELECT mean("value"), count("value") FROM "water_quality" WHERE "qc" = 1 AND '
        "time >= '2021-03-31T16:00:00Z' AND time < '2021-04-30T16:00:00Z' "
        'GROUP BY "station", "parameter", "agg"'
    ), "the month in UTC: Beijing midnight is 16:00 the day before"


def test_lake_days_are_beijing_days_of_each_lake_station() -> None:
    text = iql.lake_days(START, STOP, ["tp", "tn"])
    assert """"water_body" = 'lake' AND ("parameter" = 'tn' OR "parameter" = 'tp')""" in text
    assert text.endswith('GROUP BY time(1d, 16h), "station", "parameter" fill(none)')
    assert iql.string("it's") == "'it\\'s'"


def test_the_lake_mean_of_a_day_is_the_mean_of_the_stations_daily_means() -> None:
    day = int(datetime(2021, 4, 2, tzinfo=BEIJING).timestamp())
    rows = [
        {"time": day, "station": "A", "parameter": "tp", "mean": 0.1},
        {"time": day, "station": "B", "parameter": "tp", "mean": 0.3},
        {"time": day - 86400, "station": "A", "parameter": "tp", "mean": 0.4},
        {"time": day, "station": "A", "parameter": "tn", "mean": 1.5},
    ]
    assert lake_means(rows, "_last_year") == {
        "tn_last_year": [(datetime(2021, 4, 2, tzinfo=BEIJING), 1.5)],
        "tp_last_year": [
            (datetime(2021, 4, 1, tzinfo=BEIJING), 0.4),
            (datetime(2021, 4, 2, tzinfo=BEIJING), pytest.approx(0.2)),
        ],
    }


def test_events_and_deliveries_queries() -> None:
    assert 'r.kind == "breach"' in mf.breach_count("b", START, STOP)
    changes = mf.alert_changes("b", START, STOP)
    assert 'contains(value: r.change, set: ["acknowledged", "firing", "resolved"])' in changes
    text = mf.delivered("b-zj", START, STOP, ["JS-TH-028", "JS-TH-001"])
    assert 'set: ["JS-TH-001", "JS-TH-028"]' in text
    assert '(r._measurement == "assessment" and r._field == "target_class")' in text
    assert 'group(columns: ["_measurement", "station", "parameter", "agg"])' in text


def test_the_names_are_checked_against_the_store_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(mf.DELIVERED_FIELDS, "assessment", "no_such_field")
    with pytest.raises(SchemaError, match="no_such_field"):
        mf.delivered("b", START, STOP, ["JS-TH-028"])


def test_expected_results_follow_the_interval_or_the_window() -> None:
    month = STOP - START
    assert expected_count(Granularity.REALTIME, 240, month) == 180  # HJ 915: 6 a day
    assert expected_count(Granularity.REALTIME, 5, month) == 8640
    assert expected_count(Granularity.HOURLY, 240, month) == 720
    assert expected_count(Granularity.DAILY, 240, month) == 30
    assert expected_count(Granularity.DAILY, 240, timedelta(hours=-3)) == 0


def _row(at: datetime, change: str, episode: str, station: str = "JS-TH-028") -> dict:
    return {
        "_time": at,
        "_value": f"{episode}:{change}",
        "change": change,
        "station": station,
        "jurisdiction": station[:2],
    }


def test_alert_episodes_time_to_acknowledge_and_resolve() -> None:
    t0 = datetime(2021, 4, 10, tzinfo=UTC)
    a = "JS-TH-028:tp-max:tp:2021-04-10T00:00:00+00:00"
    b = "ZJ-TH-001:do-min:do:2021-04-20T00:00:00+00:00"
    c = "JS-TH-028:nh3n-max:nh3n:2021-04-29T00:00:00+00:00"
    rows = [
        _row(t0, "firing", a),
        _row(t0 + timedelta(hours=1), "acknowledged", a),
        _row(t0 + timedelta(hours=5), "resolved", a),
        _row(t0 + timedelta(days=10), "firing", b, "ZJ-TH-001"),
        _row(t0 + timedelta(days=10, hours=3), "acknowledged", b, "ZJ-TH-001"),
        _row(t0 + timedelta(days=10, hours=4), "resolved", b, "ZJ-TH-001"),
        _row(t0 + timedelta(days=19), "firing", c),  # still open at the month's end
        _row(t0 - timedelta(days=3), "resolved", "JS-TH-028:old:tp:2021-04-01"),  # not fired
    ]
    stop = t0 + timedelta(days=20)
    summary = summarise_alerts(rows, stop)
    assert summary.count == 3 and summary.stations == 2
    assert summary.by_jurisdiction == {"JS": 2, "ZJ": 1}
    assert summary.mean_ack == timedelta(hours=2)
    assert summary.mean_resolve == timedelta(hours=4.5)
    assert summary.longest == timedelta(days=1)  # c: from firing to the end of the month
    empty = summarise_alerts([], stop)
    assert (empty.count, empty.longest, empty.mean_ack, empty.mean_resolve) == (0, None, None, None)
