"""Helpers of the store tests: the points a set of documents must give, and what InfluxDB holds."""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Iterable
from typing import Any

from streams.store.points import assessed_points, event_point, line_protocol
from tests.integration.conftest import Influx

#: a field every point of the measurement has: one value of it per point
KEY_FIELDS = {
    "water_quality": "qc",
    "hydrology": "qc",
    "qc": "flag",
    "assessment": "late",
    "breaches": "id",
}
_UNESCAPED_SPACE = re.compile(r"(?<!\\) ")


def expected_points(docs: Iterable[dict[str, Any]]) -> Counter[str]:
    """Distinct points (measurement, tags, time) per measurement that ``docs`` give."""
    keys: set[tuple[str, str]] = set()
    for doc in docs:
        points = [event_point(doc)] if "rule" in doc else assessed_points(doc)
        for line in line_protocol(points):
            series, _, rest = _UNESCAPED_SPACE.split(line, maxsplit=2)
            keys.add((series, rest))
    return Counter(series.split(",")[0] for series, _ in keys)


def stored_points(influx: Influx) -> Counter[str]:
    """Points per measurement in the test's bucket."""
    wanted = " or ".join(
        f'(r._measurement == "{m}" and r._field == "{f}")' for m, f in KEY_FIELDS.items()
    )
    flux = (
        f'from(bucket: "{influx.bucket}") |> range(start: 0) |> filter(fn: (r) => {wanted}) '
        '|> group(columns: ["_measurement"]) |> count()'
    )
    with influx.client() as client:
        tables = client.query_api().query(flux, org=influx.org)
    return Counter({r.values["_measurement"]: r.values["_value"] for t in tables for r in t})


def wait_for_points(influx: Influx, want: Counter[str], timeout: float) -> Counter[str]:
    """Poll until the bucket holds at least ``want`` in total; what it holds then."""
    deadline = time.monotonic() + timeout
    have: Counter[str] = Counter()
    while time.monotonic() < deadline:
        have = stored_points(influx)
        if have.total() >= want.total():
            return have
        time.sleep(1)
    raise AssertionError(f"timed out after {timeout} s: have {dict(have)}, want {dict(want)}")
