"""The read side of the time series: what the boards and the monthly exports ask InfluxDB.

All queries are Flux with parameters (influxdb-client binds ``p_*`` as Flux options), never
strings pasted into the query. Times are
UTC in InfluxDB; a month is a calendar month in Beijing time (Asia/Shanghai, UTC+8), as the
bureaus report it. Statistics use QC-good values only (qc = 1).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from stations.formats.hj212 import BEIJING

LATEST = """
from(bucket: p_bucket)
  |> range(start: p_start)
  |> filter(fn: (r) => r._measurement == p_measurement)
  |> filter(fn: (r) => r._field == "value" or r._field == "qc")
  |> filter(fn: (r) => p_station == "" or r.station == p_station)
  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")
  |> group(columns: ["station", "parameter"])
  |> sort(columns: ["_time"])
  |> tail(n: 1)
  |> group()
"""

SERIES = """
from(bucket: p_bucket)
  |> range(start: p_start, stop: p_stop)
  |> filter(fn: (r) => r._measurement == p_measurement)
  |> filter(fn: (r) => r.station == p_station and r.parameter == p_parameter)
  |> filter(fn: (r) => r._field == "value" or r._field == "qc")
  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")
  |> group()
  |> sort(columns: ["_time"])
"""

MONTHLY = """
from(bucket: p_bucket)
  |> range(start: p_start, stop: p_stop)
  |> filter(fn: (r) => r._measurement == p_measurement)
  |> filter(fn: (r) => r._field == "value" or r._field == "qc")
  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")
  |> filter(fn: (r) => r.qc == 1 and exists r.value)
  |> group(columns: ["station", "station_name", "jurisdiction", "parameter"])
  |> reduce(
      identity: {n: 0, total: 0.0, low: 1000000000000.0, high: -1000000000000.0},
      fn: (r, accumulator) => ({
        n: accumulator.n + 1,
        total: accumulator.total + r.value,
        low: if r.value < accumulator.low then r.value else accumulator.low,
        high: if r.value > accumulator.high then r.value else accumulator.high,
      }))
  |> group()
  |> sort(columns: ["station", "parameter"])
"""


@dataclass(frozen=True)
class Reading:
    station: str
    station_name: str
    parameter: str
    time: datetime
    value: float | None
    qc: int


@dataclass(frozen=True)
class MonthlyAggregate:
    """QC-good values of one station's parameter in one month (Beijing time)."""

    station: str
    station_name: str
    jurisdiction: str
    parameter: str
    count: int
    mean: float
    minimum: float
    maximum: float


def month_range(month: str) -> tuple[datetime, datetime]:
    """``2021-04`` -> its first instant and the next month's, Beijing time."""
    try:
        start = datetime.strptime(month, "%Y-%m").replace(tzinfo=BEIJING)
    except ValueError as exc:
        raise ValueError(f"month must look like 2021-04, got {month!r}") from exc
    following = (start + timedelta(days=32)).replace(day=1)
    return start, following


class Queries:
    """The queries, bound to a bucket and an influxdb-client ``QueryApi``."""

    def __init__(self, query_api: Any, bucket: str, org: str) -> None:
        self._api = query_api
        self.bucket = bucket
        self.org = org

    def _rows(self, flux: str, **params: Any) -> list[dict[str, Any]]:
        bound = {f"p_{name}": value for name, value in {"bucket": self.bucket, **params}.items()}
        tables = self._api.query(flux, org=self.org, params=bound)
        return [record.values for table in tables for record in table.records]

    def latest(
        self, since: datetime, station: str = "", measurement: str = "water_quality"
    ) -> list[Reading]:
        """The newest value of every station and parameter since ``since`` (one station if
        given), whatever its QC flag (boards colour by ``qc``)."""
        rows = self._rows(LATEST, start=since, station=station, measurement=measurement)
        return sorted((_reading(row) for row in rows), key=lambda r: (r.station, r.parameter))

    def series(
        self,
        station: str,
        parameter: str,
        start: datetime,
        stop: datetime,
        measurement: str = "water_quality",
    ) -> list[Reading]:
        """One station's values of one parameter in [start, stop), oldest first."""
        rows = self._rows(
            SERIES,
            start=start,
            stop=stop,
            station=station,
            parameter=parameter,
            measurement=measurement,
        )
        return [_reading(row) for row in rows]

    def monthly(self, month: str, measurement: str = "water_quality") -> list[MonthlyAggregate]:
        """Count, mean, minimum and maximum of the QC-good values per station and parameter."""
        start, stop = month_range(month)
        rows = self._rows(MONTHLY, start=start, stop=stop, measurement=measurement)
        return [
            MonthlyAggregate(
                station=row["station"],
                station_name=row.get("station_name") or "",
                jurisdiction=row.get("jurisdiction") or "",
                parameter=row["parameter"],
                count=int(row["n"]),
                mean=row["total"] / row["n"],
                minimum=row["low"],
                maximum=row["high"],
            )
            for row in rows
        ]


def _reading(row: dict[str, Any]) -> Reading:
    value = row.get("value")
    return Reading(
        station=row["station"],
        station_name=row.get("station_name") or "",
        parameter=row["parameter"],
        time=row["_time"],
        value=None if value is None else float(value),
        qc=int(row["qc"]),
    )
