"""The party views on the real InfluxDB, holding the published April 2021 results: what a party's
token reads is exactly what the sharing list gives it, on the list's terms, and nothing else."""

from __future__ import annotations

import asyncio
import itertools
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from influxdb_client import InfluxDBClient, WritePrecision
from influxdb_client.client.write_api import SYNCHRONOUS
from influxdb_client.rest import ApiException

from stations.formats import hj212
from stations.formats.assessed import AssessedReport
from stations.formats.records import encode
from stations.jurisdictions import Jurisdiction
from stations.registry import load_registry
from stations.sharing.config import load_sharing
from stations.sharing.grants import SharingList
from streams.agents.store import write_points
from streams.store.apply import Applier, Report, token_description, token_variable
from streams.store.derive import Deriver
from streams.store.influx import InfluxSender
from streams.store.points import assessed_points, line_protocol
from streams.store.views import Router, selections, view_bucket
from streams.store.writer import BatchWriter
from streams.testing.pipeline import expected_outcome, published_reports
from streams.topics import publish_all
from tests.integration.conftest import Influx, TopicSet

JS, ZJ = Jurisdiction.JS, Jurisdiction.ZJ
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
          granularity: {tn_granularity}
          delay_hours: {tn_delay}
        - stations: [JS-TH-002]
          data: [nh3n]
          shared_with: ZJ
          delay_hours: 48
"""
#: The list with 西山's tp and class no longer shared, and 312国道桥's tn hourly at once.
CHANGED = "\n".join(
    line for n, line in enumerate(LIST.splitlines()) if n not in range(6, 9)
).format(tn_granularity="hourly", tn_delay=0)
FIRST = LIST.format(tn_granularity="daily", tn_delay=24)
NOW = datetime(2021, 4, 4, tzinfo=hj212.BEIJING)  # the data run from 1 to 5 April (Beijing)


def _docs() -> list[AssessedReport]:
    outcome = expected_outcome(published_reports())["docs"]
    return [d for d in outcome if isinstance(d, AssessedReport)]


@dataclass
class Views:
    influx: Influx
    docs: list[AssessedReport]
    state: Path
    path: Path

    def sharing(self, text: str) -> SharingList:
        self.path.write_text(text, encoding="utf-8")
        return load_sharing(self.path, registry=load_registry())

    def apply(self, text: str, now: datetime = NOW) -> Report:
        with self.influx.client() as client:
            applier = Applier(client, self.influx.bucket, self.influx.org, self.state)
            return applier.apply(selections(self.sharing(text)), now=now)

    def token(self, party: Jurisdiction) -> str:
        text = (self.state / "views" / f"{self.influx.bucket}.tokens.env").read_text()
        return dict(line.split("=", 1) for line in text.splitlines())[token_variable(party)]

    def read(self, party: Jurisdiction, flux: str, as_party: Jurisdiction | None = None) -> list:
        """Rows of ``flux`` on ``party``'s view, read with the token of ``as_party`` (default:
        the party's own)."""
        token = self.token(as_party or party)
        bucket = view_bucket(self.influx.bucket, party)
        query = f'from(bucket: "{bucket}") |> range(start: 0) {flux}'
        with InfluxDBClient(url=self.influx.url, token=token, org=self.influx.org) as client:
            tables = client.query_api().query(query, org=self.influx.org)
        return [row.values for table in tables for row in table]

    def series(self, party: Jurisdiction, station: str, parameter: str, field: str) -> list:
        flux = (
            f'|> filter(fn: (r) => r.station == "{station}" and r.parameter == "{parameter}" '
            f'and r._field == "{field}") |> group() |> sort(columns: ["_time"])'
        )
        return [(r["_time"], r["_value"], r.get("agg")) for r in self.read(party, flux)]


@pytest.fixture
def views(influx: Influx, tmp_path: Path) -> Iterator[Views]:
    """The published April 2021 results in the test's main bucket; the views' buckets and
    tokens are deleted after the test."""
    docs = _docs()
    lines = [line for doc in docs for line in line_protocol(assessed_points(doc))]
    with influx.client() as client:
        client.write_api(write_options=SYNCHRONOUS).write(
            bucket=influx.bucket, record=lines, write_precision=WritePrecision.S
        )
    yield Views(influx, docs, tmp_path / "state", tmp_path / "sharing.yaml")
    with influx.client() as client:
        for party in Jurisdiction:
            found = client.buckets_api().find_bucket_by_name(view_bucket(influx.bucket, party))
            if found is not None:
                client.buckets_api().delete_bucket(found)
        wanted = {token_description(influx.bucket, party) for party in Jurisdiction}
        for auth in client.authorizations_api().find_authorizations():
            if auth.description in wanted:
                client.authorizations_api().delete_authorization(auth)


def _good(docs: list[AssessedReport], station: str, parameter: str) -> list[tuple[datetime, float]]:
    out = []
    for doc in docs:
        entry = doc.values.get(parameter)
        if doc.station == station and entry is not None and entry.good is not None:
            out.append((doc.observed_at, entry.good))
    return out


def _refused(call: Any) -> int:
    with pytest.raises(ApiException) as refused:
        call()
    return int(refused.value.status)


def test_a_party_token_reads_what_is_shared_with_it_and_nothing_else(views: Views) -> None:
    report = views.apply(FIRST)
    assert report.changed
    token_file = views.state / "views" / f"{views.influx.bucket}.tokens.env"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert not any(views.token(ZJ) in line for line in report.done), "never in the report"

    xishan = [
        (d.observed_at, d.values["tp"].value)
        for d in views.docs
        if d.station == "JS-TH-028" and "tp" in d.values and d.observed_at < NOW
    ]
    shared = views.series(ZJ, "JS-TH-028", "tp", "value")
    assert len(xishan) > 10
    assert [(t, v) for t, v, _ in shared] == [(at, v) for at, v in sorted(xishan) if v is not None]
    assert views.series(ZJ, "JS-TH-028", "do", "value") == [], "do is not shared with ZJ"
    assert views.series(ZJ, "JS-TH-003", "tp", "value") == [], "nor 五牧 at all"
    assert views.read(ZJ, '|> filter(fn: (r) => r._measurement == "assessment")') != []
    # JS's own view holds its data in full
    own = [d for d in views.docs if d.station == "JS-TH-028" and d.observed_at < NOW]
    own_do = [d for d in own if "do" in d.values and d.values["do"].value is not None]
    assert len(views.series(JS, "JS-TH-028", "do", "value")) == len(own_do)

    # refused by InfluxDB itself: ZJ's token on JS's view, on the main bucket, and any write
    assert _refused(lambda: views.read(JS, "|> limit(n: 1)", as_party=ZJ)) in (401, 403, 404)
    with InfluxDBClient(url=views.influx.url, token=views.token(ZJ), org=views.influx.org) as c:
        main = f'from(bucket: "{views.influx.bucket}") |> range(start: 0) |> limit(n: 1)'
        assert _refused(lambda: c.query_api().query(main)) in (401, 403, 404)
        write = c.write_api(write_options=SYNCHRONOUS)
        zj_view = view_bucket(views.influx.bucket, ZJ)
        assert _refused(lambda: write.write(zj_view, record="x v=1")) in (401, 403, 404)

    again = views.apply(FIRST)
    assert again.done == [], again.done


def test_delayed_items_appear_only_after_their_delay_and_daily_items_only_as_means(
    views: Views,
) -> None:
    views.apply(FIRST)
    # nh3n of 东潘桥 in real time after 48 h: nothing younger than NOW - 48 h
    nh3n = views.series(ZJ, "JS-TH-002", "nh3n", "value")
    assert nh3n and max(t for t, _, _ in nh3n) < NOW - timedelta(hours=48)
    cut = NOW - timedelta(hours=48)
    older = [d for d in views.docs if d.station == "JS-TH-002" and d.observed_at < cut]
    assert len(nh3n) == len([d for d in older if d.values.get("nh3n") and d.values["nh3n"].value])

    def daily(now: datetime) -> dict[datetime, float]:
        deriver = Deriver(selections(views.sharing(FIRST)), views.influx.bucket, views.influx.org)
        with views.influx.client() as client:
            deriver.run(client.query_api(), now, since=now - timedelta(days=30))
        found = views.series(ZJ, "JS-TH-001", "tn", "value")
        assert {agg for _, _, agg in found} <= {"1d"}, "tn only as daily means"
        assert {q for _, q, _ in views.series(ZJ, "JS-TH-001", "tn", "qc")} <= {1}
        return {t: v for t, v, _ in found}

    # at NOW only the days ended 24 h before: 1 and 2 April (Beijing)
    days = [datetime(2021, 4, d, tzinfo=hj212.BEIJING) for d in range(1, 7)]
    assert sorted(daily(NOW)) == [d.astimezone(UTC) for d in days[:2]]
    # two days later every day of the data, each the mean of its QC-good values
    means = daily(NOW + timedelta(days=3))
    expected = {}
    for start, end in itertools.pairwise(days):
        values = [v for at, v in _good(views.docs, "JS-TH-001", "tn") if start <= at < end]
        if values:
            expected[start.astimezone(UTC)] = pytest.approx(sum(values) / len(values))
    assert len(expected) >= 4
    assert means == expected


def test_a_changed_list_applied_again_leaks_nothing_no_longer_shared(views: Views) -> None:
    views.apply(FIRST)
    assert views.series(ZJ, "JS-TH-028", "tp", "value") != []
    assert {a for _, _, a in views.series(ZJ, "JS-TH-001", "tn", "value")} == {"1d"}

    report = views.apply(CHANGED, now=NOW + timedelta(days=3))
    assert any("JS-TH-028" in line for line in report.done), report.done
    assert views.series(ZJ, "JS-TH-028", "tp", "value") == []
    assert views.read(ZJ, '|> filter(fn: (r) => r.station == "JS-TH-028")') == []
    tn = views.series(ZJ, "JS-TH-001", "tn", "value")
    assert tn and {a for _, _, a in tn} == {"1h"}, "the daily means are gone, hourly ones made"
    good = _good(views.docs, "JS-TH-001", "tn")
    assert len(tn) == len({at.astimezone(UTC).replace(minute=0, second=0) for at, _ in good})
    assert views.series(ZJ, "JS-TH-002", "nh3n", "value") != [], "kept what is still shared"
    assert views.apply(CHANGED, now=NOW + timedelta(days=3)).done == []


def test_the_store_writes_real_time_grants_to_the_views_as_points_arrive(
    influx: Influx, views: Views
) -> None:
    sharing = views.sharing(FIRST)
    with influx.client() as client:  # the buckets and tokens only, nothing derived yet
        Applier(client, influx.bucket, influx.org, views.state).apply([], now=NOW)
    doc = next(d for d in views.docs if d.station == "JS-TH-028" and "tp" in d.values)

    async def store() -> None:
        sender = InfluxSender(influx.url, influx.token, influx.org, influx.bucket)
        try:
            router = Router(sharing, influx.bucket)
            await write_points(BatchWriter(sender), assessed_points(doc), router)
        finally:
            await sender.close()

    asyncio.run(store())
    at = doc.observed_at.astimezone(UTC)
    fields = views.read(ZJ, '|> filter(fn: (r) => r.parameter == "tp")')
    assert {(r["_time"], r["_field"]) for r in fields} >= {(at, "value"), (at, "qc")}
    rows = views.read(ZJ, "")
    classed = {p for p, e in doc.values.items() if e.water_class is not None}
    assert {r["_measurement"] for r in rows} == {"water_quality", "assessment"}
    assert {(r["parameter"], r["_field"]) for r in rows if r["_measurement"] != "assessment"} == {
        ("tp", "value"),
        ("tp", "qc"),
    } | {(p, "class") for p in classed}, "of the other parameters only their class"
    own = {r["parameter"] for r in views.read(JS, '|> filter(fn: (r) => r._field == "value")')}
    assert own == {p for p, e in doc.values.items() if e.value is not None}


def test_basin_sharing_apply_twice_changes_nothing_the_second_time(
    influx: Influx, views: Views
) -> None:
    from click.testing import CliRunner

    from streams.cli import main
    from streams.cli.common import SettingsInfo
    from streams.settings import Settings

    views.path.write_text(FIRST, encoding="utf-8")
    settings = Settings(
        influx_url=influx.url,
        influx_org=influx.org,
        influx_token=influx.token,
        influx_bucket=influx.bucket,
        state_dir=views.state,
    )

    def apply(*options: str) -> Any:
        args = ["sharing", "apply", str(views.path), *options]
        result = CliRunner().invoke(main, args, obj=SettingsInfo(settings))
        assert result.exit_code == 0, result.output
        return result.output

    first = apply()
    assert f"created bucket {view_bucket(influx.bucket, ZJ)}" in first
    assert "created a read token for ZJ" in first and views.token(ZJ) not in first
    second = apply("--show-tokens")
    assert second.splitlines()[0].startswith("nothing to change: the views of")
    assert f"BASIN_VIEW_TOKEN_ZJ={views.token(ZJ)}" in second.splitlines()


def test_the_store_worker_writes_and_derives_the_views(
    kafka: str, influx: Influx, views: Views, topics: TopicSet, start_worker: Any
) -> None:
    """`basin store` with BASIN_STORE_VIEWS: real-time grants as the messages arrive, daily means
    from its timer."""
    # applied as on 1 March: the buckets and tokens, and nothing derived yet
    views.apply(FIRST.replace("JS-TH-028", "JS-TH-004"), now=datetime(2021, 3, 1, tzinfo=UTC))
    assert views.series(ZJ, "JS-TH-004", "tp", "value") == []
    assert views.series(ZJ, "JS-TH-001", "tn", "value") == []
    topics.create("raw", "assessed", "rejected", "breaches", "alerts", "commands")
    mine = [d for d in views.docs if d.station in ("JS-TH-004", "JS-TH-001")]
    publish_all(kafka, topics.name("assessed"), [(d.station.encode(), encode(d)) for d in mine])
    sharing = views.path
    env = topics.worker_env(
        **influx.env(),
        BASIN_SHARING_PATH=str(sharing),
        BASIN_STORE_VIEWS="true",
        BASIN_VIEWS_DERIVE_SECONDS="2",
        BASIN_VIEWS_LOOKBACK_HOURS="200000",
    )
    store = start_worker(env, name="store", command="store")
    want = [d for d in mine if d.station == "JS-TH-004" and d.values.get("tp")]
    want_values = [d for d in want if d.values["tp"].value is not None]
    tn_days = {d.observed_at.date() for d in mine if d.station == "JS-TH-001"}  # Beijing days
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        got = views.series(ZJ, "JS-TH-004", "tp", "value")
        days = views.series(ZJ, "JS-TH-001", "tn", "value")
        # the timer's log line comes after its Flux has written the means: wait for both
        derived = "derived the views" in store.output()
        if len(got) >= len(want_values) and len(days) >= len(tn_days) and derived:
            break
        time.sleep(1)
    assert [(t, v) for t, v, _ in got] == sorted(
        (d.observed_at.astimezone(UTC), d.values["tp"].value) for d in want_values
    ), store.output()[-3000:]
    assert len(days) == len(tn_days) and {agg for _, _, agg in days} == {"1d"}, store.output()
    assert store.stop() == 0, store.output()[-3000:]
    assert "derived the views" in store.output()
