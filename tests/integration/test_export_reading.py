"""The month's read of the export (exports.reading) on the real InfluxDB holding the published
April 2021 results as the store writes them: the aggregates InfluxDB computes are the numbers
computed here from the assessed documents, and a party's read holds only what it may see."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from exports.reading import MonthData, month_bounds, read_month
from stations.formats.assessed import AssessedReport
from stations.formats.hj212 import BEIJING
from stations.jurisdictions import Jurisdiction
from stations.registry import load_registry
from stations.sharing.config import load_sharing
from stations.sharing.grants import SharingList
from stations.standard.gb3838 import WaterBody
from stations.station import StationKind
from streams.settings import Settings
from streams.store.apply import Applier, token_description
from streams.store.views import selections, view_bucket
from streams.testing.influx import (
    alert_documents,
    published_assessed,
    published_outcome,
    store_lines,
    write_lines,
)
from tests.integration.conftest import Influx

APRIL = date(2021, 4, 1)
#: JS shares with ZJ: 西山's tp and classes in real time, 312国道桥's tn as daily means after a
#: day; nothing else of JS (ZJ sees JS's cross-boundary sections too, by the registry).
LIST = """\
version: 1
years:
  2021:
    example: true
    owners:
      JS:
        - stations: [JS-TH-028]
          data: [tp, class]
          shared_with: ZJ
        - stations: [JS-TH-001]
          data: [tn]
          shared_with: ZJ
          granularity: daily
          delay_hours: 24
"""
LATER = datetime(2021, 6, 1, tzinfo=UTC)


@pytest.fixture
def loaded(influx: Influx) -> Iterator[Influx]:
    with influx.client() as client:
        write_lines(client, influx.bucket, store_lines(published_outcome(), alert_documents()))
    yield influx
    with influx.client() as client:  # the views made by a test, if any
        for party in Jurisdiction:
            found = client.buckets_api().find_bucket_by_name(view_bucket(influx.bucket, party))
            if found is not None:
                client.buckets_api().delete_bucket(found)
        wanted = {token_description(influx.bucket, party) for party in Jurisdiction}
        for auth in client.authorizations_api().find_authorizations():
            if auth.description in wanted:
                client.authorizations_api().delete_authorization(auth)


def good_by_station(
    docs: list[AssessedReport], start: datetime, stop: datetime
) -> dict[str, dict[str, list[float]]]:
    """QC-good values per water-quality station and parameter in [start, stop)."""
    out: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for doc in docs:
        if doc.kind is StationKind.WATER_QUALITY and start <= doc.observed_at < stop:
            for name, entry in doc.values.items():
                if entry.good is not None:
                    out[doc.station][name].append(entry.good)
    return out


def read(influx: Influx, month: date = APRIL, **options: object) -> MonthData:
    with influx.client() as client:
        return read_month(client, month, bucket=influx.bucket, **options)  # type: ignore[arg-type]


def test_the_month_is_aggregated_in_influxdb_as_computed_from_the_documents(
    loaded: Influx,
) -> None:
    docs = published_assessed()
    start, stop = month_bounds(APRIL)
    assert (start, stop) == (
        datetime(2021, 4, 1, tzinfo=BEIJING),
        datetime(2021, 5, 1, tzinfo=BEIJING),
    )
    data = read(loaded)
    expected = good_by_station(docs, start, stop)
    assert data.bucket == loaded.bucket and data.party is None
    assert set(data.stations) == set(expected) and len(expected) > 10
    for station, values in expected.items():
        got = data.stations[station]
        assert got.counts == {p: len(v) for p, v in values.items()}, station
        assert got.means == pytest.approx({p: sum(v) / len(v) for p, v in values.items()})
        assert got.aggregated == ()
    # valid: the QC-good results of the best-covered parameter
    assert {s: m.valid for s, m in data.stations.items()} == {
        s: max(len(v) for v in values.values()) for s, values in expected.items()
    }
    assert data.previous == {s: m for s, m in read(loaded, date(2021, 3, 1)).stations.items()}
    march = good_by_station(docs, *month_bounds(APRIL, -1))
    assert set(data.previous) == set(march)
    assert data.last_year == {}

    # the lake chart: per Beijing day, the mean of the lake stations' daily means
    registry = load_registry()
    days: dict[tuple[str, datetime], dict[str, list[float]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for doc in docs:
        if registry.get(doc.station).water_body is WaterBody.LAKE and start <= doc.observed_at:
            day = doc.observed_at.astimezone(BEIJING).replace(hour=0, minute=0, second=0)
            for name in ("tn", "tp"):
                if doc.good(name) is not None and doc.observed_at < stop:
                    days[(name, day)][doc.station].append(doc.good(name))  # type: ignore[arg-type]
    for name in ("tn", "tp"):
        want = sorted(
            (day, sum(sum(v) / len(v) for v in per.values()) / len(per))
            for (p, day), per in days.items()
            if p == name
        )
        assert len(want) >= 3
        got = data.lake_series[name]
        assert [t for t, _ in got] == [t for t, _ in want]
        assert [v for _, v in got] == pytest.approx([v for _, v in want])
    assert data.lake_series["tn_last_year"] == data.lake_series["tp_last_year"] == []
    assert data.alerts.count == 0 and data.breaches == sum(
        1
        for d in published_outcome()
        if not isinstance(d, AssessedReport)
        and d.kind == "breach"
        and start <= d.observed_at < stop
    )


def test_breaches_and_alert_episodes_of_a_month(loaded: Influx) -> None:
    # the alert documents are of 30 November 2026 (UTC), 1 December in Beijing
    alerts = read(loaded, date(2026, 12, 1)).alerts
    changes = [c for doc in alert_documents() if doc["kind"] == "changes" for c in doc["changes"]]
    firing = [c for c in changes if c["what"] == "firing"]
    episodes = {c["id"].rsplit(":", 1)[0]: c["alert"] for c in firing}
    assert alerts.count == len(episodes) >= 2
    assert alerts.stations == len({a["station"] for a in episodes.values()}) >= 2
    by_party: dict[str, int] = defaultdict(int)
    for alert in episodes.values():
        by_party[alert["jurisdiction"]] += 1
    assert alerts.by_jurisdiction == by_party

    def at(what: str) -> dict[str, datetime]:
        found = (c for c in changes if c["what"] == what)
        return {  # the store keeps whole seconds
            c["id"].rsplit(":", 1)[0]: datetime.fromisoformat(c["at"]).replace(microsecond=0)
            for c in found
        }

    fired, acked, resolved = at("firing"), at("acknowledged"), at("resolved")
    assert acked and resolved
    assert alerts.mean_ack == sum((acked[e] - fired[e] for e in acked), timedelta()) / len(acked)
    assert alerts.mean_resolve == sum(
        (resolved[e] - fired[e] for e in resolved), timedelta()
    ) / len(resolved)
    stop = month_bounds(date(2026, 12, 1))[1]
    assert alerts.longest == max(resolved.get(e, stop) - fired[e] for e in fired)
    assert read(loaded, date(2026, 11, 1)).alerts.count == 0


def _sharing(tmp_path: Path) -> SharingList:
    path = tmp_path / "sharing.yaml"
    path.write_text(LIST, encoding="utf-8")
    return load_sharing(path, registry=load_registry())


def test_a_party_reads_only_what_the_list_shares_with_it(loaded: Influx, tmp_path: Path) -> None:
    sharing = _sharing(tmp_path)
    state = tmp_path / "state"
    with loaded.client() as client:
        Applier(client, loaded.bucket, loaded.org, state).apply(selections(sharing), now=LATER)
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        influx_url=loaded.url,
        influx_org=loaded.org,
        influx_token=loaded.token,
        influx_bucket=loaded.bucket,
        state_dir=state,
    )
    # with ZJ's own read token, from the file `basin sharing apply` wrote
    zj = read_month(settings, APRIL, "ZJ", sharing=sharing, now=LATER)
    assert zj.party == "ZJ" and zj.bucket == view_bucket(loaded.bucket, Jurisdiction.ZJ)
    registry = sharing.registry
    shared = {(g.station, g.data) for g in sharing.grants_for(Jurisdiction.ZJ)}
    js = {s: m for s, m in zj.stations.items() if registry.get(s).jurisdiction.value == "JS"}
    assert {"JS-TH-028", "JS-TH-001"} <= set(js)
    for station, month in js.items():
        assert {(station, p) for p in month.means} <= shared, station
    assert set(js["JS-TH-028"].means) == {"tp"}
    assert set(js["JS-TH-001"].means) == {"tn"} and js["JS-TH-001"].aggregated == ("1d",)
    start, stop = month_bounds(APRIL)
    tp = good_by_station(published_assessed(), start, stop)["JS-TH-028"]["tp"]
    assert js["JS-TH-028"].means["tp"] == pytest.approx(sum(tp) / len(tp))
    assert js["JS-TH-028"].counts["tp"] == len(tp)

    items = {(i.station, i.data): i for i in zj.sharing}
    assert {i.party for i in zj.sharing} == {"ZJ"}
    xishan = items[("JS-TH-028", "tp")]
    interval = registry.get("JS-TH-028").interval_minutes
    assert xishan.expected == 30 * 24 * 60 // interval
    assert xishan.delivered == sum(
        1
        for d in published_assessed()
        if d.station == "JS-TH-028"
        and start <= d.observed_at < stop
        and d.values.get("tp")
        and d.values["tp"].value is not None
    )
    daily = items[("JS-TH-001", "tn")]
    assert (daily.granularity, daily.expected) == ("daily", 30)
    assert daily.delivered == js["JS-TH-001"].counts["tn"] > 0
    assert items[("JS-TH-028", "class")].delivered > 0

    # the basin-wide read (admin token, main bucket) holds JS's data in full
    everyone = read(loaded, sharing=sharing, now=LATER)
    assert set(everyone.stations["JS-TH-028"].means) > {"tp"}
    assert {(i.party, i.station, i.data) for i in everyone.sharing} >= {
        ("ZJ", i.station, i.data) for i in zj.sharing
    }
