"""The party views' pure parts: which points go to which view bucket with which fields, the Flux
that derives the delayed and averaged views, and what an apply deletes and re-derives."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from influxdb_client import Point, WritePrecision

from stations.errors import SharingError
from stations.formats import hj212
from stations.jurisdictions import Jurisdiction
from stations.registry import load_registry
from stations.sharing.config import load_sharing
from stations.sharing.grants import Granularity, SharingList
from streams.cli import main
from streams.cli.common import SettingsInfo
from streams.settings import Settings
from streams.store import apply as applying
from streams.store import derive
from streams.store.views import Router, Selection, point_parts, selections, view_bucket

JS, ZJ, SH, TBA = Jurisdiction.JS, Jurisdiction.ZJ, Jurisdiction.SH, Jurisdiction.TBA
LIST = """\
version: 1
years:
  2021:
    example: true
    owners:
      JS:
        - stations: [JS-TH-028]
          data: [tp, class, alerts]
          shared_with: ZJ
        - stations: [JS-TH-028]
          data: [do, qc]
          shared_with: SH
        - stations: [JS-TH-001]
          data: [tn, class]
          shared_with: ZJ
          granularity: daily
          delay_hours: 24
        - stations: [JS-TH-002]
          data: [nh3n]
          shared_with: ZJ
          delay_hours: 48
"""
BAD = """\
version: 1
years:
  2021:
    owners:
      JS:
        - stations: [JS-TH-999]
          data: [tp]
          shared_with: ZJ
        - stations: [JS-TH-028]
          data: [tpp]
          shared_with: [HZ]
"""
AT = datetime(2021, 4, 2, 8, tzinfo=hj212.BEIJING)


@pytest.fixture(scope="module")
def sharing() -> SharingList:
    return load_sharing(registry=load_registry(), text=LIST)


def wq(station: str, parameter: str, **fields: Any) -> Point:
    point = Point("water_quality").time(int(AT.timestamp()), WritePrecision.S)
    point.tag("station", station).tag("jurisdiction", "JS").tag("parameter", parameter)
    for name, value in fields.items():
        point.field(name, value)
    return point


def routed(router: Router, point: Point) -> dict[str, dict[str, Any]]:
    return {bucket: dict(point_parts(p)[2]) for bucket, p in router.route(point).items()}


def test_the_view_bucket_of_a_party() -> None:
    assert view_bucket("basinwatch", "ZJ") == "basinwatch-zj"
    assert view_bucket("t-x", Jurisdiction.TBA) == "t-x-tba"


def test_a_point_goes_to_each_party_it_is_shared_with_in_real_time_with_its_fields(
    sharing: SharingList,
) -> None:
    router = Router(sharing, "bw")
    full = {"value": 0.05, "qc": 1, "class": 3}
    # 西山 tp: JS in full, ZJ (tp and class shared), not SH (only do) nor TBA (nothing listed)
    assert routed(router, wq("JS-TH-028", "tp", **full)) == {"bw-js": full, "bw-zj": full}
    # 西山 do: SH gets value and flag but not the class; ZJ only the class
    assert routed(router, wq("JS-TH-028", "do", **full)) == {
        "bw-js": full,
        "bw-zj": {"class": 3},
        "bw-sh": {"value": 0.05, "qc": 1},
    }
    # 312国道桥 tn as daily means after 24 h: nothing to ZJ at ingestion; 东潘桥 nh3n delayed
    assert set(routed(router, wq("JS-TH-001", "tn", **full))) == {"bw-js"}
    assert set(routed(router, wq("JS-TH-002", "nh3n", **full))) == {"bw-js"}
    # a point of a station not in the registry reaches no view
    assert router.route(wq("XX-1", "tp", **full)) == {}
    # the point given to a party with fewer fields is a copy: the original is untouched
    assert dict(point_parts(wq("JS-TH-028", "do", **full))[2]) == full


def test_qc_alerts_and_deliveries_go_where_the_list_says(sharing: SharingList) -> None:
    router = Router(sharing, "bw")
    at = int(AT.timestamp())
    qc = Point("qc").tag("station", "JS-TH-028").tag("parameter", "do").field("flag", 3)
    qc_tp = Point("qc").tag("station", "JS-TH-028").tag("parameter", "tp").field("flag", 3)
    breach = Point("breaches").tag("station", "JS-TH-028").tag("parameter", "tp").field("id", "x")
    alert = Point("alerts").tag("station", "JS-TH-028").tag("parameter", "do").field("id", "y")
    delivery = Point("alert_deliveries").tag("station", "JS-TH-028").field("title", "t")
    for point in (qc, qc_tp, breach, alert, delivery):
        point.time(at, WritePrecision.S)
    assert set(router.route(qc)) == {"bw-js", "bw-sh"}  # SH has do and qc
    assert set(router.route(qc_tp)) == {"bw-js"}  # ZJ has tp but not qc
    assert set(router.route(breach)) == set(router.route(alert)) == {"bw-js", "bw-zj"}
    assert set(router.route(delivery)) == {"bw-js"}, "who was paged: the owner only"
    by_bucket = router.route_all([qc, breach, delivery])
    assert {b: len(p) for b, p in by_bucket.items()} == {"bw-js": 3, "bw-sh": 1, "bw-zj": 1}


def test_qc_reasons_go_only_where_the_value_goes_as_it_is() -> None:
    qc_item = "        - stations: [JS-TH-001]\n          data: [qc]\n          shared_with: ZJ\n"

    def qc_of(text: str) -> list[tuple[str, str | None]]:
        found = selections(load_sharing(registry=load_registry(), text=text))
        return [
            (s.station, s.parameter)
            for s in found
            if s.party is ZJ and s.measurement == "qc" and s.station.startswith("JS-TH-00")
        ]

    # qc of 312国道桥 with tn as daily means: no reasons at all (they quote the values)
    assert qc_of(LIST + qc_item) == []
    # with tn in real time: tn's reasons, and none of its other parameters
    realtime = LIST.replace("          granularity: daily\n          delay_hours: 24\n", "")
    assert qc_of(realtime + qc_item) == [("JS-TH-001", "tn")]


def test_selections_of_a_daily_item(sharing: SharingList) -> None:
    mine = [s for s in selections(sharing) if s.party is ZJ and s.station == "JS-TH-001"]
    terms = {(s.granularity, s.delay_hours) for s in mine}
    assert terms == {(Granularity.DAILY, 24)}
    assert {(s.measurement, s.parameter, s.fields) for s in mine} >= {
        ("water_quality", "tn", ("value", "qc")),
        ("water_quality", "tp", ("class",)),
        ("assessment", None, None),
    }
    assert not any(s.at_ingestion for s in mine)
    assert {s.agg for s in mine} == {"1d"}


def test_days_are_beijing_days_and_windows_end_before_the_delay() -> None:
    day = timedelta(days=1)
    at = datetime(2021, 4, 2, 7, 30, tzinfo=hj212.BEIJING)
    assert derive.window_floor(at, day) == datetime(2021, 4, 2, tzinfo=hj212.BEIJING)
    late = datetime(2021, 4, 2, 23, 59, tzinfo=hj212.BEIJING)
    assert derive.window_floor(late, day) == datetime(2021, 4, 2, tzinfo=hj212.BEIJING)
    hour = timedelta(hours=1)
    assert derive.window_floor(at, hour) == datetime(2021, 4, 2, 7, tzinfo=hj212.BEIJING)
    assert derive.window_floor(at, None) == at
    group = derive.Group(ZJ, "water_quality", ("value", "qc"), Granularity.DAILY, 24)
    now = datetime(2021, 4, 4, 10, tzinfo=hj212.BEIJING)
    start, stop = derive.span(group, now, now - timedelta(days=3))
    assert stop == datetime(2021, 4, 3, tzinfo=hj212.BEIJING), "3 April ends only at 4 April 24:00"
    assert start == datetime(2021, 4, 1, tzinfo=hj212.BEIJING)
    assert derive.span(group, now, None)[0] == derive.EPOCH


def test_the_flux_of_daily_means_of_qc_good_values(sharing: SharingList) -> None:
    now = datetime(2021, 4, 4, 10, tzinfo=hj212.BEIJING)
    plans = derive.plan(selections(sharing), "bw", "org", now, since=None)
    by_group = {
        (d.group.party, d.group.measurement, d.group.fields, d.group.delay_hours): d for d in plans
    }
    means = by_group[(ZJ, "water_quality", ("value", "qc"), 24)]
    assert means.flux == (
        'from(bucket: "bw")\n'
        "  |> range(start: 1970-01-01T00:00:00Z, stop: 2021-04-02T16:00:00Z)\n"
        '  |> filter(fn: (r) => r._measurement == "water_quality")\n'
        '  |> filter(fn: (r) => (r.parameter == "tn" and contains(value: r.station, '
        'set: ["JS-TH-001"])))\n'
        '  |> filter(fn: (r) => r._field == "value" or r._field == "qc")\n'
        '  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")\n'
        "  |> filter(fn: (r) => r.qc == 1 and exists r.value)\n"
        "  |> map(fn: (r) => ({r with _value: r.value}))\n"
        '  |> drop(columns: ["value", "qc", "class"])\n'
        '  |> aggregateWindow(every: 24h, offset: 16h, createEmpty: false, timeSrc: "_start", '
        "fn: mean)\n"
        '  |> set(key: "agg", value: "1d")\n'
        '  |> to(bucket: "bw-zj", org: "org", fieldFn: (r) => ({"value": r._value, "qc": 1}))\n'
        '  |> keep(columns: ["_measurement"])\n'
        "  |> group()\n"
        '  |> count(column: "_measurement")\n'
    )
    classes = by_group[(ZJ, "assessment", None, 24)].flux
    assert 'r._field == "class" or r._field == "target_class"' in classes
    assert "fn: max" in classes and 'to(bucket: "bw-zj", org: "org")' in classes
    assert means.group.granularity is Granularity.DAILY
    nh3n = [d for d in plans if d.group.delay_hours == 48]
    assert len(nh3n) == 1 and "aggregateWindow" not in nh3n[0].flux
    assert "stop: 2021-04-02T02:00:00Z" in nh3n[0].flux, "now less 48 h, not aligned"
    # the real-time grants are the store's at ingestion; a re-derivation takes them too
    assert not [d for d in plans if d.group.party is JS]
    everything = derive.plan(selections(sharing), "bw", "org", now, None, everything=True)
    assert {d.group.party for d in everything} == set(Jurisdiction), "own data included"


def test_flux_strings_are_escaped() -> None:
    assert derive.flux_string('a"b\\c${x}') == '"a\\"b\\\\c\\${x}"'
    sel = [Selection(ZJ, "alerts", 'S"1', None, None), Selection(ZJ, "alerts", "S2", None, None)]
    assert derive.series_filter(sel) == '(contains(value: r.station, set: ["S\\"1", "S2"]))'


def test_what_an_apply_deletes() -> None:
    keep = Selection(ZJ, "water_quality", "S1", "tp", ("value", "qc"))
    daily = Selection(ZJ, "water_quality", "S2", "tn", ("value", "qc"), Granularity.DAILY, 24)
    report = Selection(ZJ, "assessment", "S2", None, None, Granularity.DAILY, 24)
    held = [
        (ZJ, "water_quality", "S1", "tp", None, "value"),
        (ZJ, "water_quality", "S1", "tp", None, "class"),  # class no longer shared
        (ZJ, "water_quality", "S2", "tn", "1d", "value"),
        (ZJ, "water_quality", "S2", "tn", None, "value"),  # raw, but only means are shared
        (ZJ, "assessment", "S2", None, "1d", "class"),
        (ZJ, "assessment", "S2", None, "1d", "late"),  # never derived as means
        (ZJ, "qc", "S3", "do", None, "flag"),
    ]
    assert applying.stale(held, [keep, daily, report]) == {
        (ZJ, "water_quality", "S1", "tp"),
        (ZJ, "water_quality", "S2", "tn"),
        (ZJ, "assessment", "S2", None),
        (ZJ, "qc", "S3", "do"),
    }
    assert applying.stale(held[:1] + held[2:3] + held[4:5], [keep, daily, report]) == set()
    hourly = Selection(ZJ, "water_quality", "S2", "tn", ("value", "qc"), Granularity.HOURLY)
    assert applying.changed([keep, daily], [keep, hourly]) == {(ZJ, "water_quality", "S2", "tn")}
    assert applying.changed([keep], [keep]) == set()
    assert applying.delete_predicate((ZJ, "water_quality", "S1", "tp")) == (
        '_measurement="water_quality" AND station="S1" AND parameter="tp"'
    )
    assert applying.delete_predicate((ZJ, "alerts", "S1", None)) == (
        '_measurement="alerts" AND station="S1"'
    )
    assert applying.from_json(applying.to_json([keep, daily, report])) == [keep, daily, report]


def test_the_tokens_are_named_for_grafana() -> None:
    assert applying.token_variable(ZJ) == "BASIN_VIEW_TOKEN_ZJ"
    assert applying.token_description("bw", ZJ) == "basinwatch view ZJ: read bw-zj"


def test_view_token_variables_are_no_unknown_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BASIN_VIEW_TOKEN_ZJ", "x")
    assert Settings().influx_bucket == "basinwatch"


def test_apply_stops_on_a_bad_list_with_every_problem_and_its_line(tmp_path: Path) -> None:
    path = tmp_path / "sharing.yaml"
    path.write_text(BAD, encoding="utf-8")
    settings = Settings(influx_url="http://127.0.0.1:9", influx_token="t", state_dir=tmp_path)
    result = CliRunner().invoke(main, ["sharing", "apply", str(path)], obj=SettingsInfo(settings))
    assert result.exit_code == 1
    problems = result.output.splitlines()
    assert [line.split(": ")[0] for line in problems] == [f"{path}:6", f"{path}:10", f"{path}:11"]
    assert "unknown station 'JS-TH-999'" in problems[0] and "unknown party 'HZ'" in problems[2]
    assert not (tmp_path / "views").exists()


def test_the_store_and_the_worker_stop_at_start_on_a_bad_list(tmp_path: Path) -> None:
    from streams.app import create_app, create_store_app

    path = tmp_path / "sharing.yaml"
    path.write_text(BAD, encoding="utf-8")
    settings = Settings(influx_token="t", sharing_path=path, worker_store="memory://")
    for create in (create_store_app, create_app):
        with pytest.raises(SharingError) as stopped:
            create(settings)
        assert [p.line for p in stopped.value.problems] == [6, 10, 11]


def test_deriving_counts_the_rows_written() -> None:
    class Row:
        def __init__(self, n: int) -> None:
            self.values = {"_measurement": n}

    assert derive.points_read([[Row(3)], [Row(4)]]) == 7
    assert derive.points_read([]) == 0
