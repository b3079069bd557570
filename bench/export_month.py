"""A month's export read aggregated in InfluxDB vs. the same aggregation on every point pulled.

    .venv/bin/python -m bench.export_month [--stations 91] [--days 30] [--interval 5]
                                           [--bucket NAME] [--keep]

Needs the local InfluxDB (`make up`).
1. Writes a month (April 2021, Beijing time) of ``--stations`` water-quality stations reporting
   every ``--interval`` minutes (91 × 30 days × 288 = 786 240 reports) DIRECTLY into a fresh bench
   bucket, as the store writes them (docs/schema.md): per report a ``water_quality`` point per
   parameter (``value``, ``qc``, ``class`` when classed), an ``assessment`` point, and a ``qc``
   point per flagged value. The series keys are made by influxdb-client's ``Point`` with the
   store's tags (streams.store.points); the lines are then formatted directly, much faster than
   one ``Point`` per value. About 3 % of the values are suspect (qc 3) and 1 % missing (qc 9, no
   value). The stations are the registry's water-quality stations, repeated under new ids when
   more are asked for. Timed and reported: the write. ``--bucket NAME`` reads an existing bucket
   instead (written by an earlier run with ``--keep``).
2. (a) the export's read: ``exports.reading.read_month`` (the month, previous month and same month
   last year, lake days, breaches, alerts, sharing items), aggregated in InfluxDB; and (a1) its
   month query alone (QC-good means and counts per station and parameter);
3. (b) the same aggregation as (a1) by pulling every ``value`` and ``qc`` point of the month
   with influxdb-client (``query_raw``, CSV, one station at a time) into numpy.

Checks that (a1) and (b) agree (counts equal, means within 1e-9), and prints the seconds of each
and the ratios. The target: (a) under 60 s and faster than (b).
"""

from __future__ import annotations

import argparse
import csv
import io
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

import numpy as np
from influxdb_client import Dialect, InfluxDBClient, Point, WritePrecision
from influxdb_client.client.write_api import SYNCHRONOUS

from boards.schema import STATION_TAGS
from exports import influxql as iql
from exports.reading import month_bounds, read_month
from stations.registry import load_registry
from stations.standard.gb3838 import is_classed
from stations.station import Station, StationKind
from streams.settings import Settings
from streams.store.derive import flux_string, flux_time
from streams.store.points import ASSESSMENT, QC, WATER_QUALITY

MONTH = date(2021, 4, 1)
#: Typical values (canonical units) the simulated values scatter around.
TYPICAL = {"ph": 7.8, "do": 7.5, "codmn": 4.0, "nh3n": 0.3, "tp": 0.08, "tn": 1.6, "chla": 0.02}
CHUNK = 50_000


@dataclass(frozen=True)
class Sizes:
    stations: int
    days: int
    interval: int

    @property
    def times(self) -> int:
        return self.days * 24 * 60 // self.interval

    @property
    def reports(self) -> int:
        return self.stations * self.times


def stations(count: int) -> list[Station]:
    """``count`` water-quality stations: the registry's, then copies of them under new ids."""
    real = [s for s in load_registry() if s.kind is StationKind.WATER_QUALITY]
    out = list(real[:count])
    n = 0
    while len(out) < count:
        base = real[n % len(real)]
        out.append(replace(base, id=f"{base.id[:-3]}{900 + n:03d}", name=f"{base.name}{n}"))
        n += 1
    return out


def series_key(measurement: str, station: Station, parameter: str | None = None) -> str:
    """The measurement and tags of a store point, as influxdb-client writes them."""
    point = Point(measurement).field("x", 1).time(0, WritePrecision.S)
    values = {
        "station": station.id,
        "station_name": station.name,
        "jurisdiction": station.jurisdiction.value,
        "basin": station.basin,
        "water_body": station.water_body.value,
    }
    for tag in STATION_TAGS:
        point.tag(tag, values[tag])
    if parameter is not None:
        point.tag("parameter", parameter)
    return point.to_line_protocol(precision=WritePrecision.S).split(" x=")[0]


def station_lines(station: Station, sizes: Sizes, seed: int) -> Iterator[str]:
    """The lines of one station's month."""
    rng = np.random.default_rng(seed)
    start = int(month_bounds(MONTH)[0].timestamp())
    times = start + np.arange(sizes.times, dtype=np.int64) * sizes.interval * 60
    assessment = series_key(ASSESSMENT, station)
    for parameter in station.parameters:
        key = series_key(WATER_QUALITY, station, parameter)
        flagged = series_key(QC, station, parameter)
        values = TYPICAL.get(parameter, 1.0) * rng.lognormal(0.0, 0.3, sizes.times)
        draw = rng.random(sizes.times)
        good = "class=3i,qc=1i" if is_classed(parameter, station.water_body) else "qc=1i"
        for t, v, d in zip(times.tolist(), values.tolist(), draw.tolist(), strict=True):
            if d < 0.01:
                yield f"{key} qc=9i {t}"
                yield f'{flagged} flag=9i,reasons="missing" {t}'
            elif d < 0.04:
                yield f"{key} qc=3i,value={v} {t}"
                yield f'{flagged} flag=3i,reasons="spike" {t}'
            else:
                yield f"{key} {good},value={v} {t}"
    target = station.target_class or 3
    for t in times.tolist():
        fields = f'class=3i,late=false,limiting="tp",target_class={target}i,target_met=true'
        yield f"{assessment} {fields} {t}"


def chunks(lines: Iterator[str]) -> Iterator[str]:
    batch: list[str] = []
    for line in lines:
        batch.append(line)
        if len(batch) == CHUNK:
            yield "\n".join(batch)
            batch = []
    if batch:
        yield "\n".join(batch)


def write_month(client: InfluxDBClient, bucket: str, chosen: list[Station], sizes: Sizes) -> int:
    """Write the month with two writers in parallel; the number of lines."""
    api: Any = client.write_api(write_options=SYNCHRONOUS)
    written = 0

    def send(body: str) -> None:
        api.write(bucket=bucket, record=body, write_precision=WritePrecision.S)

    with ThreadPoolExecutor(max_workers=2) as pool:
        pending = []
        for n, station in enumerate(chosen):
            for body in chunks(station_lines(station, sizes, seed=n)):
                written += body.count("\n") + 1
                pending.append(pool.submit(send, body))
                if len(pending) >= 4:
                    pending.pop(0).result()
        for future in pending:
            future.result()
    return written


PULL = """
from(bucket: {bucket})
  |> range(start: {start}, stop: {stop})
  |> filter(fn: (r) => r._measurement == "water_quality" and r.station == {station})
  |> filter(fn: (r) => r._field == "value" or r._field == "qc")
  |> keep(columns: ["_time", "_value", "_field", "parameter"])
"""


def pulled(client: InfluxDBClient, org: str, bucket: str, station: str) -> dict[str, object]:
    """(b) for one station: every value and flag of the month pulled, then aggregated."""
    start, stop = month_bounds(MONTH)
    flux = PULL.format(
        bucket=flux_string(bucket),
        start=flux_time(start),
        stop=flux_time(stop),
        station=flux_string(station),
    )
    plain = Dialect(header=True, annotations=[])
    text = client.query_api().query_raw(flux, org=org, dialect=plain).data.decode()
    rows = list(csv.reader(io.StringIO(text)))
    header = rows[0]
    col = {name: i for i, name in enumerate(header)}
    at, field, param, value = (col[c] for c in ("_time", "_field", "parameter", "_value"))
    rows = [r for r in rows if len(r) == len(header) and r[at] != "_time"]
    times = np.array([r[at].rstrip("Z") for r in rows], dtype="datetime64[s]").astype(np.int64)
    fields = np.array([r[field] for r in rows])
    names, index = np.unique(np.array([r[param] for r in rows]), return_inverse=True)
    numbers = np.array([float(r[value]) for r in rows])
    keys = index.astype(np.int64) << 40 | times  # (parameter, time) of each row
    is_qc = fields == "qc"
    good_keys = keys[is_qc & (numbers == 1)]
    is_value = ~is_qc & np.isin(keys, good_keys)
    means: dict[str, float] = {}
    counts: dict[str, int] = {}
    for n, name in enumerate(names):
        chosen = numbers[is_value & (index == n)]
        if chosen.size:
            means[str(name)], counts[str(name)] = float(chosen.mean()), int(chosen.size)
    valid = max(counts.values(), default=0)  # as exports.reading defines it
    return {"means": means, "counts": counts, "valid": valid}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stations", type=int, default=91)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--interval", type=int, default=5, help="minutes between reports")
    parser.add_argument("--bucket", help="read this bucket (kept by an earlier --keep run)")
    parser.add_argument("--keep", action="store_true", help="keep the bench bucket")
    args = parser.parse_args()
    sizes = Sizes(args.stations, min(args.days, 30), args.interval)
    settings = Settings()
    org = settings.influx_org
    chosen = stations(sizes.stations)
    token = settings.influx_token_value()
    with InfluxDBClient(url=settings.influx_url, token=token, org=org, timeout=900_000) as client:
        buckets = client.buckets_api()
        made = None
        name = args.bucket
        if name is None:
            name = f"bench-export-{uuid.uuid4().hex[:8]}"
            made = buckets.create_bucket(bucket_name=name, org=org)
            started = time.perf_counter()
            lines = write_month(client, name, chosen, sizes)
            seconds = time.perf_counter() - started
            print(
                f"wrote {sizes.reports} reports of {sizes.stations} stations every "
                f"{sizes.interval} min for {sizes.days} days: {lines} lines in {seconds:.1f} s "
                f"({lines / seconds:,.0f} lines/s) into {name}"
            )
        try:
            run(client, org, name, chosen)
        finally:
            if made is not None and not args.keep:
                buckets.delete_bucket(made)
            elif made is not None:
                print(f"kept the bucket {name}: rerun with --bucket {name}")


def run(client: InfluxDBClient, org: str, bucket: str, chosen: list[Station]) -> None:
    started = time.perf_counter()
    data = read_month(client, MONTH, bucket=bucket)
    seconds_a = time.perf_counter() - started

    started = time.perf_counter()
    query = iql.good_means(*month_bounds(MONTH))
    rows = iql.rows(client, bucket, query, timedelta(minutes=10))
    seconds_a1 = time.perf_counter() - started

    started = time.perf_counter()
    pull = {s.id: pulled(client, org, bucket, s.id) for s in chosen}
    seconds_b = time.perf_counter() - started

    assert len(rows) > 0
    for station, month in data.stations.items():
        theirs = pull[station]
        assert month.counts == theirs["counts"], station
        assert month.valid == theirs["valid"], station
        means = theirs["means"]
        assert isinstance(means, dict)
        for parameter, mean in month.means.items():
            assert abs(mean - means[parameter]) <= 1e-9 * max(1.0, abs(mean)), station
    assert set(data.stations) == {s for s, p in pull.items() if p["counts"]}
    values = sum(sum(m.counts.values()) for m in data.stations.values())
    print(f"{len(data.stations)} stations, {values} QC-good values in the month; (a1) = (b)")
    print(f"(a)  read_month, aggregated in InfluxDB  : {seconds_a:8.1f} s")
    print(f"(a1) its month query alone               : {seconds_a1:8.1f} s")
    print(f"(b)  every point pulled, numpy           : {seconds_b:8.1f} s")
    print(f"(b)/(a): {seconds_b / seconds_a:.1f}×   (b)/(a1): {seconds_b / seconds_a1:.1f}×")
    ok = seconds_a < 60 and seconds_a < seconds_b
    print(f"target (a) < 60 s and faster than (b): {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
