"""The boards' and exports' queries against a real InfluxDB holding the published April 2021
results, checked against the same numbers computed from the documents in Python."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from stations.formats import hj212
from stations.formats.assessed import AssessedReport
from streams.store.queries import Queries, month_range
from streams.testing.influx import published_assessed, store_lines, write_lines
from tests.integration.conftest import Influx


@pytest.fixture
def loaded(influx: Influx) -> Iterator[tuple[Queries, list[AssessedReport]]]:
    docs = published_assessed()
    with influx.client() as client:
        write_lines(client, influx.bucket, store_lines(docs))
    client = influx.client()
    yield Queries(client.query_api(), influx.bucket, influx.org), docs
    client.close()


def good_values(
    docs: list[AssessedReport],
) -> dict[tuple[str, str], list[tuple[datetime, float]]]:
    out: dict[tuple[str, str], list[tuple[datetime, float]]] = defaultdict(list)
    for doc in docs:
        for name, entry in doc.values.items():
            if entry.good is not None:
                out[(doc.station, name)].append((doc.observed_at, entry.good))
    return out


def test_monthly_aggregates_match_the_documents(
    loaded: tuple[Queries, list[AssessedReport]],
) -> None:
    queries, docs = loaded
    start, stop = month_range("2021-04")
    expected = {
        key: [v for at, v in series if start <= at < stop]
        for key, series in good_values(docs).items()
    }
    expected = {key: values for key, values in expected.items() if values}
    found = {(a.station, a.parameter): a for a in queries.monthly("2021-04")}
    assert set(found) == set(expected)
    for key, values in expected.items():
        row = found[key]
        assert row.count == len(values), key
        assert row.mean == pytest.approx(sum(values) / len(values)), key
        assert (row.minimum, row.maximum) == (min(values), max(values)), key
    assert found[("JS-TH-028", "tp")].station_name == "西山"
    assert queries.monthly("2021-05") == []


def test_series_and_latest_of_a_station(loaded: tuple[Queries, list[AssessedReport]]) -> None:
    queries, docs = loaded
    mine = sorted((d for d in docs if d.station == "JS-TH-028"), key=lambda d: d.observed_at)
    start = datetime(2021, 3, 1, tzinfo=hj212.BEIJING)
    series = queries.series("JS-TH-028", "tp", start, start + timedelta(days=92))
    assert [(r.time, r.value, r.qc) for r in series] == [
        (d.observed_at, d.values["tp"].value, d.values["tp"].qc) for d in mine if "tp" in d.values
    ]
    latest = {r.parameter: r for r in queries.latest(start, station="JS-TH-028")}
    newest = mine[-1]
    assert set(latest) == set(newest.values)
    for name, entry in newest.values.items():
        assert latest[name].time == newest.observed_at
        assert (latest[name].value, latest[name].qc) == (entry.value, entry.qc)
    everyone = queries.latest(start)
    assert {r.station for r in everyone} == {d.station for d in docs}
