"""Helpers of the store tests: the points a set of documents must give, and what InfluxDB holds."""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Iterable

from stations.formats.assessed import AssessedReport
from stations.rules.events import RuleEvent
from streams.store.points import line_protocol, record_points
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


def expected_points(records: Iterable[AssessedReport | RuleEvent]) -> Counter[str]:
    """Distinct points (measurement, tags, time) per measurement that ``records`` give."""
    keys: set[tuple[str, str]] = set()
    for record in records:
        for line in line_protocol(record_points(record)):
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


def wait_for_points(influx: Influx, total: int, timeout: float) -> Counter[str]:
    """Poll until the bucket holds at least ``total`` points; what it holds then."""
    deadline = time.monotonic() + timeout
    have: Counter[str] = Counter()
    while time.monotonic() < deadline:
        have = stored_points(influx)
        if have.total() >= total:
            return have
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s: have {dict(have)}, want {total} points")


def settled_points(influx: Influx, want: Counter[str], timeout: float = 300) -> Counter[str]:
    """What the bucket holds once it has as many points as ``want`` and nothing more arrives
    for 5 s (so extra points are seen too)."""
    have = wait_for_points(influx, want.total(), timeout)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        time.sleep(1)
        now = stored_points(influx)
        if now != have:
            have, deadline = now, time.monotonic() + 5
    return have


def rejected_by_reason(influx: Influx) -> Counter[str]:
    """Dead letters stored in the test's bucket (measurement ``rejected``), by reason."""
    flux = (
        f'from(bucket: "{influx.bucket}") |> range(start: 0) '
        '|> filter(fn: (r) => r._measurement == "rejected" and r._field == "count") '
        '|> group(columns: ["reason"]) |> sum()'
    )
    with influx.client() as client:
        tables = client.query_api().query(flux, org=influx.org)
    return Counter({r.values["reason"]: r.values["_value"] for t in tables for r in t})


def settled_rejected(influx: Influx, want: Counter[str], timeout: float = 120) -> Counter[str]:
    """Dead letters by reason once there are as many as ``want`` and 3 s bring no more."""
    deadline = time.monotonic() + timeout
    have = rejected_by_reason(influx)
    while have.total() < want.total() and time.monotonic() < deadline:
        time.sleep(0.5)
        have = rejected_by_reason(influx)
    time.sleep(3)
    return rejected_by_reason(influx)
