"""QC of one new value as it arrives: HJ 212 instrument flags, then the configured checks.

The stream calls :func:`screen_value` with the new value, its instrument flag and the station's
recent history of the same parameter. Instrument flags other than N mean the value is not a
normal measurement (HJ 915: invalidated only with a reason), so maintenance, calibration, stopped,
faulty and communication-fault values are flagged fail (4) with the reason and never count as
measurements; over range (T) fails; set manually (S) is suspect.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import numpy.typing as npt

from stations.qc import FlagArray, QCFlag, qc_combine
from stations.qc_limits import CheckConfig


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
    with the other checks by :func:`~stations.qc.qc_combine`.
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
    ``checks`` come from :meth:`stations.qc_limits.QCLimits.checks_for`.
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

    past = np.asarray(history_values, dtype=np.float64).copy()
    past_times = np.asarray(history_times, dtype=np.float64)
    if past.shape != past_times.shape or past.ndim != 1:
        raise ValueError("history_values and history_times must be 1-D and of the same length")
    if history_flags is not None:
        past_flags = np.asarray(history_flags, dtype=np.uint8)
        if past_flags.shape != past.shape:
            raise ValueError("history_flags must have the length of history_values")
        past[(past_flags == QCFlag.FAIL) | (past_flags == QCFlag.MISSING)] = np.nan
    values = np.append(past, value)
    times = np.append(past_times, observed_at)

    flags: dict[str, QCFlag] = {}
    reasons: list[str] = []
    previous_spike: QCFlag | None = None
    for check in checks:
        result = check.run(values, times)
        flags[check.name] = QCFlag(int(result[-1]))
        if check.name == "spike_test" and values.size >= 2:
            previous_spike = QCFlag(int(result[-2]))
        if flags[check.name] in (QCFlag.SUSPECT, QCFlag.FAIL):
            reasons.append(f"{check.describe()}: {flags[check.name].name.lower()} at {value:g}")
    if not flag.is_measurement:
        flags["instrument_flag"] = flag.qc_flag
        reasons.insert(0, f"instrument flag {flag.code} ({flag.name_en}, {flag.name_zh})")
    return Screening(
        _combine(flags.values()), tuple(reasons), MappingProxyType(flags), previous_spike
    )


def _combine(flags: Iterable[QCFlag]) -> QCFlag:
    arrays = [np.array([flag], dtype=np.uint8) for flag in flags]
    if not arrays:
        return QCFlag.NOT_EVALUATED
    return QCFlag(int(qc_combine(*arrays)[0]))
