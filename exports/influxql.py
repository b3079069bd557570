"""The month's QC-good means, read with InfluxQL: a condition on one field (``qc = 1``) that
selects the rows of another (``value``), evaluated inside InfluxDB's storage engine.

Why not Flux: the store writes a value and its QC flag as two fields of one point, and Flux can
only pair them by pivoting every row (``pivot`` on ``_time``), which InfluxDB's Flux engine does
row by row, outside its storage pushdowns. On a month of 91 stations every 5 minutes (about 7.9
million values) that pivot took about 120 s here, slower than pulling every point into numpy;
the same means and counts with InfluxQL's field condition take about 5 s (docs/performance.md).
InfluxDB 2.x answers InfluxQL on any bucket through its virtual database mapping (database = the
bucket's name, retention policy ``autogen``), with the same token: a party's read token reads its
view this way too.

Pure text here, plus :func:`rows`, the one call to InfluxDB's ``/query`` endpoint.
"""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from stations.standard.gb3838 import WaterBody
from streams.errors import StoreError
from streams.store.influx import from_status
from streams.store.points import WATER_QUALITY

__all__ = ["good_means", "lake_days", "rows", "string"]

#: The offset of daily windows that start at midnight Beijing time (16:00 UTC the day before).
DAY_OFFSET = "16h"


def identifier(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def string(text: str) -> str:
    """An InfluxQL string literal."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _time(at: datetime) -> str:
    return string(at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))


def _span(start: datetime, stop: datetime) -> str:
    return f"time >= {_time(start)} AND time < {_time(stop)}"


def good_means(start: datetime, stop: datetime) -> str:
    """Per station, parameter and ``agg`` tag: the mean and the number of QC-good values."""
    return (
        f'SELECT mean("value"), count("value") FROM {identifier(WATER_QUALITY)} '
        f'WHERE "qc" = 1 AND {_span(start, stop)} GROUP BY "station", "parameter", "agg"'
    )


def lake_days(start: datetime, stop: datetime, parameters: Iterable[str]) -> str:
    """Per lake station, parameter and Beijing day: the mean of the QC-good values."""
    chosen = " OR ".join(f'"parameter" = {string(p)}' for p in sorted(parameters))
    return (
        f'SELECT mean("value") FROM {identifier(WATER_QUALITY)} '
        f'WHERE "qc" = 1 AND "water_body" = {string(WaterBody.LAKE.value)} AND ({chosen}) '
        f"AND {_span(start, stop)} "
        f'GROUP BY time(1d, {DAY_OFFSET}), "station", "parameter" fill(none)'
    )


def rows(client: Any, bucket: str, query: str, timeout: timedelta) -> list[dict[str, Any]]:
    """The rows of an InfluxQL query on ``bucket``, each its series' tags and its columns
    (``time`` in seconds), with the client's URL and token; a StoreError when refused."""
    params = urllib.parse.urlencode({"db": bucket, "rp": "autogen", "q": query, "epoch": "s"})
    request = urllib.request.Request(
        f"{client.url.rstrip('/')}/query?{params}",
        headers={"Authorization": f"Token {client.token}", "Accept": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout.total_seconds()) as answer:
            body = json.load(answer)
    except urllib.error.HTTPError as exc:
        raise from_status(exc.code, exc.read().decode(errors="replace")) from exc
    out: list[dict[str, Any]] = []
    for result in body.get("results", []):
        if "error" in result:
            raise StoreError(f"InfluxQL on {bucket}: {result['error']}")
        for series in result.get("series", []):
            tags = series.get("tags", {})
            for values in series["values"]:
                out.append({**tags, **dict(zip(series["columns"], values, strict=True))})
    return out
