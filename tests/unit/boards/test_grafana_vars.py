"""Grafana's substitution: browser-side variables, then the Flux datasource's backend macros."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from boards.grafana_vars import VariableFormatError, go_duration, interpolate, rfc3339

START = datetime(2021, 4, 1, tzinfo=timezone(timedelta(hours=8)))
STOP = datetime(2021, 5, 1, tzinfo=UTC)


def run(query: str, **variables: str | list[str]) -> str:
    return interpolate(query, variables, START, STOP, timedelta(hours=4), "bw-zj", "basinwatch")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("$station", "JS-TH-001"),
        ("${station}", "JS-TH-001"),
        ("[[station]]", "JS-TH-001"),
        ("${station:regex}", "JS-TH-001"),
        ("${station:json}", '"JS-TH-001"'),
        ("${station:doublequote}", '"JS-TH-001"'),
        ("x$stationy", "x$stationy"),  # \w+ takes the whole word: an unknown variable
        ("$unknown and ${other:csv}", "$unknown and ${other:csv}"),
    ],
)
def test_single_value_formats(query: str, expected: str) -> None:
    assert run(query, station="JS-TH-001") == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("${p}", "{tp,tn}"),  # Grafana's default format is glob
        ("${p:csv}", "tp,tn"),
        ("${p:pipe}", "tp|tn"),
        ("${p:regex}", "(tp|tn)"),
        ("${p:json}", '["tp", "tn"]'),
        ("${p:doublequote}", '"tp","tn"'),
        ("[[p:singlequote]]", "'tp','tn'"),
        ("${p:sqlstring}", "'tp','tn'"),
    ],
)
def test_multi_value_formats(query: str, expected: str) -> None:
    assert run(query, p=["tp", "tn"]) == expected


def test_regex_format_escapes_what_a_flux_regex_literal_needs() -> None:
    assert run("/^${s:regex}$/", s=["a.b", "c/d"]) == r"/^(a\.b|c\/d)$/"


def test_unknown_format_is_refused() -> None:
    with pytest.raises(VariableFormatError, match="nope"):
        run("${p:nope}", p="x")


def test_backend_macros() -> None:
    query = (
        "from(bucket: v.defaultBucket) |> range(start: v.timeRangeStart, stop: v.timeRangeStop)"
        " |> aggregateWindow(every: v.windowPeriod, fn: mean) // v.organization"
    )
    assert run(query) == (
        'from(bucket: "bw-zj") |> range(start: 2021-03-31T16:00:00Z, stop: 2021-05-01T00:00:00Z)'
        ' |> aggregateWindow(every: 4h0m0s, fn: mean) // "basinwatch"'
    )


def test_builtin_from_and_to_are_epoch_milliseconds() -> None:
    assert run("$__from-${__to}") == "1617206400000-1619827200000"


@pytest.mark.parametrize(
    ("span", "text"),
    [
        (timedelta(hours=4), "4h0m0s"),
        (timedelta(minutes=1, seconds=30), "1m30s"),
        (timedelta(seconds=30), "30s"),
        (timedelta(seconds=1.5), "1.5s"),
        (timedelta(milliseconds=500), "500ms"),
        (timedelta(days=1), "24h0m0s"),
    ],
)
def test_go_duration(span: timedelta, text: str) -> None:
    assert go_duration(span) == text


def test_naive_time_and_empty_window_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        rfc3339(datetime(2021, 4, 1))
    with pytest.raises(ValueError, match="positive"):
        go_duration(timedelta(0))
