"""Every panel query of every board, run on the real local InfluxDB holding the published April
2021 results (and the alert documents of tests/data/messages/alerts), after substituting
variables and macros as Grafana does (boards.grafana_vars); the values of the key panels are
checked against the same numbers computed from the documents in Python."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import pytest
from influxdb_client import InfluxDBClient

from boards.bundle import Bundle, bundle
from boards.grafana_vars import interpolate
from stations.formats.assessed import AssessedReport
from stations.formats.hj212 import BEIJING
from stations.registry import load_registry
from stations.sharing.config import load_sharing
from stations.standard.gb3838 import WaterBody, basin_status
from streams.agents.store import Storer
from streams.deadletter import Source, dead_letter
from streams.settings import Settings
from streams.store.influx import InfluxSender
from streams.store.writer import BatchWriter
from streams.testing.influx import (
    alert_documents,
    published_assessed,
    published_outcome,
    store_lines,
    write_lines,
)

APRIL = (datetime(2021, 4, 1, tzinfo=BEIJING), datetime(2021, 5, 1, tzinfo=BEIJING))
ALERT_DAYS = (datetime(2026, 11, 29, tzinfo=UTC), datetime(2026, 12, 2, tzinfo=UTC))
XISHAN = "JS-TH-028"
#: Known dead letters (station key, reason), rejected in April 2021; the third is delivered twice.
LETTERS = [
    (b"JS-TH-028", "undecodable"),
    (b"JS-TH-028", "invalid"),
    (b"JS-TH-001", "invalid"),
    (b"ZJ-TH-001", "undecodable"),
    (b"JS-TH-999", "unknown_station"),  # not in the registry: no station, no jurisdiction
]


@cache
def shipped() -> Bundle:
    registry = load_registry()
    return bundle(Settings(_env_file=None), registry, load_sharing(registry=registry))


@cache
def docs() -> list[AssessedReport]:
    return published_assessed()


class Store:
    def __init__(self, client: InfluxDBClient, bucket: str, org: str) -> None:
        self.client, self.bucket, self.org = client, bucket, org

    def run(
        self, query: str, span: tuple[datetime, datetime] = APRIL, station: str = XISHAN
    ) -> list[dict[str, Any]]:
        text = interpolate(
            query, {"station": station}, span[0], span[1], timedelta(hours=4), self.bucket, self.org
        )
        tables = self.client.query_api().query(text, org=self.org)
        return [dict(record.values) for table in tables for record in table.records]


@dataclass
class Message:
    """A message as the store agent gets it from Faust."""

    topic: str
    key: bytes | None
    value: bytes
    partition: int = 0
    offset: int = 0


def letter_messages() -> list[Message]:
    """The dead letters of :data:`LETTERS` on the rejected topic, the third one twice."""
    out = []
    for offset, (key, reason) in enumerate(LETTERS):
        at = datetime(2021, 4, 2, 10, tzinfo=UTC) + timedelta(hours=offset)
        where = Source("wq.reports.raw", 1, 500 + offset)
        value = dead_letter(b"##bad", key, where, reason, f"{reason} at {where}", at)
        out.append(Message("wq.reports.rejected", key, value, 2, offset))
    return [*out, out[2]]


async def store_letters(server: dict[str, str], bucket: str) -> None:
    """The dead letters through the store's own code into ``bucket`` (what the store agent does
    with a batch read from the rejected topic)."""

    async def reject(message: Any, reason: str, detail: str) -> None:
        raise AssertionError(f"a dead letter was dead-lettered: {reason}: {detail}")

    sender = InfluxSender(server["url"], server["token"], server["org"], bucket)
    storer = Storer(
        BatchWriter(sender),
        reject,
        assessed_topic="wq.reports.assessed",
        alerts_topic="wq.alerts",
        rejected_topic="wq.reports.rejected",
        registry=load_registry(),
    )
    try:
        await storer.store_batch(letter_messages())
    finally:
        await sender.close()
    assert storer.writer.stats.dropped_dead_letters == 0


@pytest.fixture(scope="module")
def store(influx_server: dict[str, str]) -> Iterator[Store]:
    name = f"t-boards-{uuid.uuid4().hex[:8]}"
    with InfluxDBClient(timeout=60_000, **influx_server) as client:
        bucket = client.buckets_api().create_bucket(bucket_name=name, org=influx_server["org"])
        write_lines(client, name, store_lines(published_outcome(), alert_documents()))
        asyncio.run(store_letters(influx_server, name))
        yield Store(client, name, influx_server["org"])
        client.buckets_api().delete_bucket(bucket)


def query_of(board_uid: str, title: str, ref: str = "A") -> str:
    board = next(b.dashboard for b in shipped().boards if b.uid == board_uid)
    panel = next(p for p in board["panels"] if p["title"].startswith(title))
    return str(next(t["query"] for t in panel["targets"] if t["refId"] == ref))


@pytest.mark.parametrize("board_uid", [b.uid for b in shipped().boards])
def test_every_panel_query_runs(store: Store, board_uid: str) -> None:
    board = next(b.dashboard for b in shipped().boards if b.uid == board_uid)
    ran = 0
    for panel in board["panels"]:
        for target in panel["targets"]:
            for span in (APRIL, ALERT_DAYS):
                store.run(target["query"], span)  # raises on any Flux error
                ran += 1
    assert ran == 2 * sum(len(p["targets"]) for p in board["panels"])


def test_xishan_tp_series_is_the_published_values_split_by_qc(store: Store) -> None:
    rows = store.run(query_of("bw-station", "总磷 tp"))
    got = defaultdict(list)
    for row in rows:
        got[row["_field"]].append((row["_time"], row["_value"]))
    label = {1: "正常 good", 2: "正常 good", 3: "可疑 suspect", 4: "失败 fail"}
    want = defaultdict(list)
    for doc in sorted(docs(), key=lambda d: d.observed_at):
        entry = doc.values.get("tp")
        if doc.station == XISHAN and entry is not None and entry.value is not None:
            want[label[int(entry.qc)]].append((doc.observed_at, entry.value))
    assert want["正常 good"], "西山 has published TP values"
    assert dict(got) == dict(want)


def newest_classes() -> dict[str, int]:
    newest: dict[str, int] = {}
    for doc in sorted(docs(), key=lambda d: d.observed_at):
        if doc.water_class is not None:
            newest[doc.station] = doc.water_class
    return newest


def test_class_distribution_and_basin_status_are_computed_from_the_data(store: Store) -> None:
    classes = newest_classes()
    groups = Counter(
        "Ⅰ–Ⅲ类" if c <= 3 else "Ⅳ–Ⅴ类" if c <= 5 else "劣Ⅴ类" for c in classes.values()
    )
    rows = store.run(query_of("bw-overview", "水质类别分布"))
    assert {r["grade"]: r["_value"] for r in rows} == dict(groups)
    (status,) = store.run(query_of("bw-overview", "流域水质状况"))
    expected = basin_status(list(classes.values()))
    assert status["status"] == expected.grade
    assert status["sections"] == expected.sections
    assert status["share_good"] == pytest.approx(100 * expected.share_good)
    assert status["share_worse_than_v"] == pytest.approx(100 * expected.share_worse_than_v)


def test_lake_tn_and_tp_against_last_year(store: Store) -> None:
    registry = load_registry()
    good: dict[str, list[float]] = defaultdict(list)
    for doc in docs():
        if registry.get(doc.station).water_body is WaterBody.LAKE:
            for name in ("tn", "tp"):
                entry = doc.values.get(name)
                if entry is not None and entry.value is not None and int(entry.qc) == 1:
                    good[name].append(entry.value)
    now = store.run(query_of("bw-overview", "湖体总氮总磷", "A"))
    assert {r["parameter"]: r["_value"] for r in now} == pytest.approx(
        {name: sum(v) / len(v) for name, v in good.items()}
    )
    assert store.run(query_of("bw-overview", "湖体总氮总磷", "B")) == []  # no 2020 data


def test_completeness_per_day_is_received_over_expected(store: Store) -> None:
    registry = load_registry()
    counts: Counter[tuple[str, datetime]] = Counter()
    for doc in docs():
        day = doc.observed_at.astimezone(BEIJING).replace(hour=0, minute=0, second=0)
        counts[(doc.station, day)] += 1
    rows = store.run(query_of("bw-quality-js", "每日完整率"))
    got = {(r["station"], r["_time"]): r["_value"] for r in rows}
    want = {
        key: 100.0 * n * registry.get(key[0]).interval_minutes / 1440 for key, n in counts.items()
    }
    assert got == pytest.approx(want)
    assert max(want.values()) <= 100.0


def test_qc_flag_shares_and_newest_values(store: Store) -> None:
    flags = Counter(int(e.qc) for d in docs() for e in d.values.values())
    rows = store.run(query_of("bw-quality-js", "质控标记"))
    assert {int(r["flag"][0]): r["_value"] for r in rows} == dict(flags)
    newest = max((d for d in docs() if d.station == XISHAN), key=lambda d: d.observed_at)
    rows = store.run(query_of("bw-jurisdiction-js", "最新监测值"))
    (xishan,) = [r for r in rows if r["station"] == XISHAN]
    latest: dict[str, float] = {}
    for doc in sorted((d for d in docs() if d.station == XISHAN), key=lambda d: d.observed_at):
        latest |= {k: e.value for k, e in doc.values.items() if e.value is not None}
    assert {k: xishan[k] for k in latest} == latest
    assert newest.values["tp"].value == xishan["tp"]


def test_silent_stations_are_those_without_a_recent_result(store: Store) -> None:
    rows = store.run(query_of("bw-quality-js", "静默站点"))
    registry = load_registry()
    ctx_stations = {
        s.id
        for s in registry
        if s.jurisdiction.value == "JS"
        or s.id in {g.station for g in load_sharing(registry=registry).grants_for("JS")}
    }
    assert {r["station"] for r in rows} == ctx_stations  # nothing after 5 April: all silent
    last = {r["station"]: r["_time"] for r in rows}
    assert last[XISHAN] == max(d.observed_at for d in docs() if d.station == XISHAN)


def test_alerts_open_time_to_acknowledge_and_failed_deliveries(store: Store) -> None:
    changes = [
        (c["at"], c["alert"])
        for doc in alert_documents()
        if doc["kind"] == "changes"
        for c in doc["changes"]
    ]
    newest: dict[str, tuple[str, str]] = {}
    for at, alert in sorted(changes, key=lambda c: c[0]):
        newest[alert["id"]] = (at, alert["state"])
    open_ids = {key for key, (_, state) in newest.items() if state != "resolved"}
    assert len(open_ids) == 2  # the acknowledged TP alert and the DO alert; class was resolved
    rows = store.run(query_of("bw-alerts-sh", "未关闭告警"), ALERT_DAYS)
    assert {f"{r['station']}:{r['rule']}:{r['parameter']}" for r in rows} == open_ids
    per_party = store.run(query_of("bw-overview-sh", "未关闭告警"), ALERT_DAYS)
    assert {r["jurisdiction"]: r["_value"] for r in per_party} == {"SH": len(open_ids)}
    failed = [d for d in alert_documents() if d["kind"] != "changes" and not d["ok"]]
    rows = store.run(query_of("bw-alerts-sh", "发送失败"), ALERT_DAYS)
    assert sorted(r["receiver"] for r in rows) == sorted(d["receiver"] for d in failed)
    for title, done in (("平均确认时间", "acked_at"), ("平均解除时间", "resolved_at")):
        spans = {
            alert["id"]: (
                datetime.fromisoformat(alert[done]) - datetime.fromisoformat(alert["fired_at"])
            )
            / timedelta(minutes=1)
            for _, alert in changes
            if alert[done]
        }
        assert spans, done
        (mean,) = store.run(query_of("bw-alerts-sh", title), ALERT_DAYS)
        assert mean["_value"] == pytest.approx(sum(spans.values()) / len(spans), abs=1 / 60)


def test_the_map_shows_the_located_stations_and_the_table_the_others(store: Store) -> None:
    registry = load_registry()
    classes = newest_classes()
    rows = store.run(query_of("bw-overview", "站点地图"))
    located = {s.id: (s.lat, s.lon) for s in registry if s.lat is not None}
    assert {r["station"]: (r["lat"], r["lon"], r["class"]) for r in rows} == {
        sid: (*located[sid], cls) for sid, cls in classes.items() if sid in located
    }
    assert rows, "some April 2021 stations have coordinates"
    rows = store.run(query_of("bw-overview", "无坐标站点"))
    assert {r["station"] for r in rows} == {s.id for s in registry} - set(located)
    assert {r["station"]: r["class"] for r in rows if r["class"]} == {
        sid: cls for sid, cls in classes.items() if sid not in located
    }


def test_rejected_messages_by_reason_count_each_dead_letter_once(store: Store) -> None:
    registry = load_registry()
    for party in ("JS", "ZJ"):
        want: Counter[tuple[str, str]] = Counter()
        for key, reason in LETTERS:  # each once: the redelivered one overwrote itself
            station = key.decode()
            if station in registry and registry.get(station).jurisdiction.value == party:
                want[(party, reason)] += 1
        rows = store.run(query_of(f"bw-quality-{party.lower()}", "被拒消息"))
        assert {(r["jurisdiction"], r["reason"]): r["_value"] for r in rows} == dict(want)
    assert want and len(letter_messages()) == len(LETTERS) + 1
