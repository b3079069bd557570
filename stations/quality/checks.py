"""QARTOD-style quality-control checks: pure functions over numpy arrays.

Each check takes the values (and, when time matters, the timestamps) of one parameter of one
station, thresholds as keyword arguments, and returns a ``uint8`` flag array of the same shape:

====  ==============  =====================================================
1     good            passed
2     not evaluated   the check could not judge (e.g. no neighbour)
3     suspect         shown, marked; never feeds assessments
4     fail            not used
9     missing         no value (NaN)
====  ==============  =====================================================

Timestamps are seconds (any epoch) as numbers, or numpy ``datetime64`` values. Thresholds of
time-aware checks are per second and durations in seconds. :func:`qc_combine` merges the flags of
several checks by precedence fail > suspect > good > not evaluated > missing.

>>> gross_range_test([7.2, 15.0, float("nan")], fail_span=(0, 14), suspect_span=(5, 10)).tolist()
[1, 4, 9]
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import IntEnum
from itertools import pairwise
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

FlagArray = npt.NDArray[np.uint8]


class QCFlag(IntEnum):
    """QARTOD flag values."""

    GOOD = 1
    NOT_EVALUATED = 2
    SUSPECT = 3
    FAIL = 4
    MISSING = 9


#: Flags from strongest to weakest, as qc_combine ranks them.
PRECEDENCE: tuple[QCFlag, ...] = (
    QCFlag.FAIL,
    QCFlag.SUSPECT,
    QCFlag.GOOD,
    QCFlag.NOT_EVALUATED,
    QCFlag.MISSING,
)

_RANK = np.zeros(256, dtype=np.uint8)  # 0 = not a flag
for _rank, _flag in enumerate(reversed(PRECEDENCE), start=1):
    _RANK[_flag] = _rank
_FLAG_OF_RANK = np.array([0, *reversed(PRECEDENCE)], dtype=np.uint8)
#: The rank of each flag in the precedence (higher wins), for combining single flags.
PRECEDENCE_RANK: Mapping[QCFlag, int] = MappingProxyType(
    {flag: rank for rank, flag in enumerate(reversed(PRECEDENCE), start=1)}
)


def _values(inp: npt.ArrayLike) -> npt.NDArray[np.float64]:
    return np.asarray(inp, dtype=np.float64)


def _seconds(tinp: npt.ArrayLike, shape: tuple[int, ...]) -> npt.NDArray[np.float64]:
    times = np.asarray(tinp)
    if np.issubdtype(times.dtype, np.datetime64):
        seconds = times.astype("datetime64[ms]").astype(np.int64).astype(np.float64) / 1000.0
    else:
        seconds = times.astype(np.float64)
    if seconds.shape != shape:
        raise ValueError(f"timestamps shape {seconds.shape} differs from values shape {shape}")
    return seconds


def _span(name: str, span: tuple[float, float]) -> tuple[float, float]:
    low, high = float(span[0]), float(span[1])
    if not low < high:
        raise ValueError(f"{name}: low {low:g} must be below high {high:g}")
    return low, high


def _check_thresholds(suspect: float, fail: float, what: str) -> None:
    if suspect < 0 or fail < 0:
        raise ValueError(f"{what}: thresholds must not be negative")
    if fail < suspect:
        raise ValueError(f"{what}: fail threshold {fail:g} is below suspect threshold {suspect:g}")


def gross_range_test(
    inp: npt.ArrayLike,
    *,
    fail_span: tuple[float, float],
    suspect_span: tuple[float, float] | None = None,
) -> FlagArray:
    """Outside the sensor span (``fail_span``) fails; outside the plausible span is suspect.

    The bounds belong to the span (a value equal to a bound is inside).
    """
    values = _values(inp)
    fail_low, fail_high = _span("fail_span", fail_span)
    flags = np.full(values.shape, QCFlag.GOOD, dtype=np.uint8)
    if suspect_span is not None:
        low, high = _span("suspect_span", suspect_span)
        if low < fail_low or high > fail_high:
            raise ValueError("suspect_span must lie within fail_span")
        flags[(values < low) | (values > high)] = QCFlag.SUSPECT
    flags[(values < fail_low) | (values > fail_high)] = QCFlag.FAIL
    flags[np.isnan(values)] = QCFlag.MISSING
    return flags


def spike_test(inp: npt.ArrayLike, *, suspect_threshold: float, fail_threshold: float) -> FlagArray:
    """Distance of each value from the mean of its two neighbours.

    Above ``fail_threshold`` fails, above ``suspect_threshold`` is suspect. The first and last
    values, and values next to a missing one, are not evaluated (2).
    """
    _check_thresholds(suspect_threshold, fail_threshold, "spike_test")
    values = _values(inp)
    if values.ndim != 1:
        raise ValueError("spike_test takes a 1-D series")
    flags = np.full(values.shape, QCFlag.NOT_EVALUATED, dtype=np.uint8)
    if values.size >= 3:
        middle = values[1:-1]
        reference = np.abs(middle - (values[:-2] + values[2:]) / 2.0)
        inner = np.full(middle.shape, QCFlag.GOOD, dtype=np.uint8)
        inner[reference > suspect_threshold] = QCFlag.SUSPECT
        inner[reference > fail_threshold] = QCFlag.FAIL
        inner[np.isnan(reference)] = QCFlag.NOT_EVALUATED
        flags[1:-1] = inner
    flags[np.isnan(values)] = QCFlag.MISSING
    return flags


def rate_of_change_test(inp: npt.ArrayLike, tinp: npt.ArrayLike, *, threshold: float) -> FlagArray:
    """Change per second from the previous value present, above ``threshold``: suspect.

    The first value present is not evaluated (2), nor a value whose time is not after the
    previous one (duplicate or out-of-order timestamps).
    """
    if threshold <= 0:
        raise ValueError("rate_of_change_test: threshold must be greater than 0")
    values = _values(inp)
    if values.ndim != 1:
        raise ValueError("rate_of_change_test takes a 1-D series")
    seconds = _seconds(tinp, values.shape)
    flags = np.full(values.shape, QCFlag.MISSING, dtype=np.uint8)
    present = np.flatnonzero(~np.isnan(values))
    if present.size:
        flags[present[0]] = QCFlag.NOT_EVALUATED
    for previous, current in pairwise(present):
        elapsed = seconds[current] - seconds[previous]
        if not elapsed > 0:
            flags[current] = QCFlag.NOT_EVALUATED
            continue
        rate = abs(values[current] - values[previous]) / elapsed
        flags[current] = QCFlag.SUSPECT if rate > threshold else QCFlag.GOOD
    return flags


def flat_line_test(
    inp: npt.ArrayLike,
    tinp: npt.ArrayLike,
    *,
    tolerance: float,
    suspect_threshold: float,
    fail_threshold: float,
) -> FlagArray:
    """A stuck sensor: the values up to each point stayed within ``tolerance`` (max - min) for
    at least ``suspect_threshold`` seconds (suspect) or ``fail_threshold`` seconds (fail).

    Missing values are skipped. A point whose flat run reaches back to the start of the series
    without lasting ``suspect_threshold`` is not evaluated (2): the data cannot tell.
    """
    if tolerance < 0:
        raise ValueError("flat_line_test: tolerance must not be negative")
    _check_thresholds(suspect_threshold, fail_threshold, "flat_line_test")
    values = _values(inp)
    if values.ndim != 1:
        raise ValueError("flat_line_test takes a 1-D series")
    seconds = _seconds(tinp, values.shape)
    flags = np.full(values.shape, QCFlag.MISSING, dtype=np.uint8)
    present = np.flatnonzero(~np.isnan(values))
    for position, index in enumerate(present):
        low = high = values[index]
        start = index
        broken = False
        for earlier in present[position - 1 :: -1] if position else ():
            low, high = min(low, values[earlier]), max(high, values[earlier])
            if high - low > tolerance:
                broken = True
                break
            start = earlier
        duration = seconds[index] - seconds[start]
        if duration >= fail_threshold:
            flags[index] = QCFlag.FAIL
        elif duration >= suspect_threshold:
            flags[index] = QCFlag.SUSPECT
        else:
            flags[index] = QCFlag.GOOD if broken else QCFlag.NOT_EVALUATED
    return flags


def qc_combine(*flag_arrays: npt.ArrayLike) -> FlagArray:
    """Merge flag arrays of the same shape: fail > suspect > good > not evaluated > missing."""
    if not flag_arrays:
        raise ValueError("qc_combine needs at least one flag array")
    arrays = [np.asarray(flags, dtype=np.uint8) for flags in flag_arrays]
    shape = arrays[0].shape
    ranks = np.zeros(shape, dtype=np.uint8)
    for flags in arrays:
        if flags.shape != shape:
            raise ValueError(f"flag arrays differ in shape: {flags.shape} vs {shape}")
        rank = _RANK[flags]
        if (rank == 0).any():
            bad = sorted({int(v) for v in flags[rank == 0]})
            raise ValueError(f"not QC flags: {bad}")
        ranks = np.maximum(ranks, rank)
    return _FLAG_OF_RANK[ranks]
