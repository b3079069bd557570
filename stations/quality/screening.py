"""QC of one new value as it arrives: HJ 212 instrument flags, then the configured checks.

The stream calls :func:`screen_value` with the new value, its instrument flag and the station's
recent history of the same parameter. Instrument flags other than N mean the value is not a
normal measurement (HJ 915: invalidated only with a reason), so maintenance, calibration, stopped,
faulty and communication-fault values are flagged fail (4) with the reason and never count as
measurements; over range (T) fails; set manually (S) is suspect.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

from stations.quality.checks import PRECEDENCE_RANK, FlagArray, QCFlag
from stations.quality.limits import CheckConfig


@dataclass(frozen=True)
class InstrumentFlag:
    """An HJ 212 value flag (``w01009-Flag=M``) and what QC makes of it."""

    code: str
    name_zh: str
    name_en: str
    qc_flag: QCFlag  # NOT_EVALUATED for N: the checks decide

    @property
    def is_measurement(self) -> bool:
        """Only N is a normal measurement."""
        return self.code == "N"


#: HJ 212-2017 value flags.
INSTRUMENT_FLAGS: Mapping[str, InstrumentFlag] = MappingProxyType(
    {
        flag.code: flag
        for flag in (
            InstrumentFlag("N", "正常", "normal", QCFlag.NOT_EVALUATED),
            InstrumentFlag("M", "维护", "maintenance", QCFlag.FAIL),
            InstrumentFlag("C", "校准", "calibration", QCFlag.FAIL),
            InstrumentFlag("F", "停运", "instrument stopped", QCFlag.FAIL),
            InstrumentFlag("D", "故障", "instrument fault", QCFlag.FAIL),
            InstrumentFlag("B", "通讯异常", "communication fault", QCFlag.FAIL),
            InstrumentFlag("T", "超量程", "over the measuring range", QCFlag.FAIL),
            InstrumentFlag("S", "手工设定", "set manually", QCFlag.SUSPECT),
        )
    }
)


def instrument_flag(code: str) -> InstrumentFlag | None:
    """The InstrumentFlag of an HJ 212 flag letter (case-insensitive); None if unknown."""
    return INSTRUMENT_FLAGS.get(code.strip().upper())


def instrument_flag_test(codes: Sequence[str] | npt.NDArray[np.str_]) -> FlagArray:
    """QC flags from HJ 212 value flags: N -> 2 (checks decide), S -> 3, others -> 4.

    An unknown or empty flag fails: a value nobody vouches for is not a measurement. Combine
    with the other checks by :func:`~stations.quality.checks.qc_combine`.
    """
    result = np.empty(len(codes), dtype=np.uint8)
    for index, code in enumerate(codes):
        flag = instrument_flag(str(code))
        result[index] = QCFlag.FAIL if flag is None else flag.qc_flag
    return result


@dataclass(frozen=True)
class Screening:
    """The QC outcome of one new value.

    ``flag``: the combined QARTOD flag; ``reasons``: why it is not good (empty when good);
    ``checks``: the flag of every check run; ``previous_spike``: the spike test's flag for the
    previous value, which it can judge only now that its next neighbour arrived (None if no
    spike test ran).
    """

    flag: QCFlag
    reasons: tuple[str, ...] = ()
    checks: Mapping[str, QCFlag] = field(default_factory=dict)
    previous_spike: QCFlag | None = None

    @property
    def usable(self) -> bool:
        """Only good values feed classification, rules and statistics."""
        return self.flag is QCFlag.GOOD


def screen_value(
    value: float | None,
    observed_at: float,
    *,
    checks: Sequence[CheckConfig],
    instrument: str = "N",
    history_values: npt.ArrayLike = (),
    history_times: npt.ArrayLike = (),
    history_flags: npt.ArrayLike | None = None,
) -> Screening:
    """QC one new value of one parameter of one station.

    ``observed_at`` and ``history_times`` are epoch seconds; history is the station's recent
    values of this parameter, oldest first. History values flagged fail or missing in
    ``history_flags`` are ignored (treated as missing), so a fault never shapes the checks.
    ``checks`` come from :meth:`stations.quality.limits.QCLimits.checks_for`.
    """
    if value is None or np.isnan(value):
        return Screening(QCFlag.MISSING, ("no value",))
    flag = instrument_flag(instrument)
    if flag is None:
        return Screening(
            QCFlag.FAIL, (f"unknown instrument flag {instrument!r}: not a measurement",)
        )
    if not flag.is_measurement and flag.qc_flag is QCFlag.FAIL:
        reason = f"instrument flag {flag.code} ({flag.name_en}, {flag.name_zh}): not a measurement"
        return Screening(QCFlag.FAIL, (reason,))

    past = _series(history_values)
    seconds = _series(history_times)
    if len(past) != len(seconds):
        raise ValueError("history_values and history_times must be 1-D and of the same length")
    if history_flags is not None:
        past_flags = [int(f) for f in _series(history_flags)]
        if len(past_flags) != len(past):
            raise ValueError("history_flags must have the length of history_values")
        past = [math.nan if f in _IGNORED else v for v, f in zip(past, past_flags, strict=True)]
    values = [*past, float(value)]
    seconds.append(float(observed_at))

    flags: dict[str, QCFlag] = {}
    reasons: list[str] = []
    previous_spike: QCFlag | None = None
    for check in checks:
        result, before = check.run_newest(values, seconds)
        flags[check.name] = result
        if before is not None:  # only the spike test judges the value before
            previous_spike = before
        if result in (QCFlag.SUSPECT, QCFlag.FAIL):
            reasons.append(f"{check.describe()}: {result.name.lower()} at {value:g}")
    if not flag.is_measurement:
        flags["instrument_flag"] = flag.qc_flag
        reasons.insert(0, f"instrument flag {flag.code} ({flag.name_en}, {flag.name_zh})")
    return Screening(
        _combine(flags.values()), tuple(reasons), MappingProxyType(flags), previous_spike
    )


def _series(inp: npt.ArrayLike) -> list[float]:
    """A 1-D series as a list of floats (lists pass through without numpy)."""
    if isinstance(inp, list | tuple):
        return [float(v) for v in inp]
    array = np.asarray(inp, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError("history_values and history_times must be 1-D and of the same length")
    return [float(v) for v in array]


_IGNORED = frozenset((int(QCFlag.FAIL), int(QCFlag.MISSING)))


def _combine(flags: Iterable[QCFlag]) -> QCFlag:
    """The scalar twin of :func:`~stations.quality.checks.qc_combine` (same precedence, no
    arrays)."""
    return max(flags, key=PRECEDENCE_RANK.__getitem__, default=QCFlag.NOT_EVALUATED)
