"""The QC checks judged at the newest value only: the scalar twins of
:mod:`stations.quality.checks`.

The stream screens one new value against a station's recent history. Running the array checks
over the whole window for each new value costs O(n) array set-up per check (and O(n²) for the flat
line test) to read one result. These give the same flags as the array checks at the last
position (and, for the spike test, the one before it), in plain Python over lists; a unit test
holds them equal to :mod:`stations.quality.checks` on random series.

Each function takes the series oldest first (``values`` with NaN for missing, ``seconds`` epoch
seconds) and returns ``(flag of the newest value, flag of the value before it or None)``; only the
spike test judges the value before it, since that is when its next neighbour arrives.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType

from stations.quality.checks import QCFlag

Newest = tuple[QCFlag, QCFlag | None]


def gross_range_newest(
    values: Sequence[float],
    seconds: Sequence[float],
    *,
    fail_span: tuple[float, float],
    suspect_span: tuple[float, float] | None = None,
) -> Newest:
    value = values[-1]
    if math.isnan(value):
        return QCFlag.MISSING, None
    if value < fail_span[0] or value > fail_span[1]:
        return QCFlag.FAIL, None
    if suspect_span is not None and (value < suspect_span[0] or value > suspect_span[1]):
        return QCFlag.SUSPECT, None
    return QCFlag.GOOD, None


def spike_newest(
    values: Sequence[float],
    seconds: Sequence[float],
    *,
    suspect_threshold: float,
    fail_threshold: float,
) -> Newest:
    newest = QCFlag.MISSING if math.isnan(values[-1]) else QCFlag.NOT_EVALUATED
    if len(values) < 2:
        return newest, None
    middle = values[-2]
    if math.isnan(middle):
        return newest, QCFlag.MISSING
    if len(values) < 3:
        return newest, QCFlag.NOT_EVALUATED
    distance = abs(middle - (values[-3] + values[-1]) / 2.0)
    if math.isnan(distance):
        return newest, QCFlag.NOT_EVALUATED
    if distance > fail_threshold:
        return newest, QCFlag.FAIL
    if distance > suspect_threshold:
        return newest, QCFlag.SUSPECT
    return newest, QCFlag.GOOD


def rate_of_change_newest(
    values: Sequence[float], seconds: Sequence[float], *, threshold: float
) -> Newest:
    value = values[-1]
    if math.isnan(value):
        return QCFlag.MISSING, None
    for index in range(len(values) - 2, -1, -1):
        if not math.isnan(values[index]):
            elapsed = seconds[-1] - seconds[index]
            if not elapsed > 0:
                return QCFlag.NOT_EVALUATED, None
            rate = abs(value - values[index]) / elapsed
            return (QCFlag.SUSPECT if rate > threshold else QCFlag.GOOD), None
    return QCFlag.NOT_EVALUATED, None  # the first value present


def flat_line_newest(
    values: Sequence[float],
    seconds: Sequence[float],
    *,
    tolerance: float,
    suspect_threshold: float,
    fail_threshold: float,
) -> Newest:
    value = values[-1]
    if math.isnan(value):
        return QCFlag.MISSING, None
    low = high = value
    start = len(values) - 1
    broken = False
    for index in range(len(values) - 2, -1, -1):
        earlier = values[index]
        if math.isnan(earlier):
            continue
        low, high = min(low, earlier), max(high, earlier)
        if high - low > tolerance:
            broken = True
            break
        start = index
    duration = seconds[-1] - seconds[start]
    if duration >= fail_threshold:
        return QCFlag.FAIL, None
    if duration >= suspect_threshold:
        return QCFlag.SUSPECT, None
    return (QCFlag.GOOD if broken else QCFlag.NOT_EVALUATED), None


#: check name (as in :data:`stations.quality.limits.CHECKS`) -> its newest-value twin
NEWEST: Mapping[str, Callable[..., Newest]] = MappingProxyType(
    {
        "gross_range_test": gross_range_newest,
        "spike_test": spike_newest,
        "rate_of_change_test": rate_of_change_newest,
        "flat_line_test": flat_line_newest,
    }
)
