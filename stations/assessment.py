"""The check path of one raw message: decode, validate, QC against the station's recent history,
classify under GB 3838-2002, evaluate the breach rules. Pure: the stream agent keeps the
per-station :class:`History` in a table and calls :class:`Assessor`.

Every raw message ends either as an :class:`Outcome` (an
:class:`~stations.formats.assessed.AssessedReport` carrying its
:class:`~stations.rules.events.RuleEvent` s) or as a :class:`~stations.formats.report.ReportError`
whose ``reason`` is one of :data:`REJECT_REASONS`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from stations import parameters
from stations.errors import StationsError, UnitError
from stations.formats import hj212
from stations.formats.assessed import AssessedReport, AssessedValue
from stations.formats.report import Report, ReportError, from_hj212, from_json
from stations.quality.checks import QCFlag
from stations.quality.limits import CheckConfig, QCLimits
from stations.quality.screening import screen_value
from stations.registry import Registry
from stations.rules.engine import Observation, RuleSet, evaluate
from stations.rules.events import RuleEvent
from stations.standard.gb3838 import CLASS_NAMES, classify_report, is_classed, value_class
from stations.station import Station, StationKind

#: Why a message is rejected (the ``reason`` of its dead letter).
REJECT_REASONS = ("undecodable", "invalid", "unknown_station", "bad_unit", "future", "duplicate")


@dataclass
class History:
    """A station's recent accepted reports, oldest first, bounded; serialised into a table.

    ``values`` and ``flags`` hold one list per parameter aligned with ``times`` (epoch seconds);
    a parameter not reported at a time holds NaN and flag 9. ``seen`` maps every observation time
    accepted recently (late ones too) to the message that brought it (``source``, e.g.
    ``topic[partition]@offset``): the same time from another message is a duplicate, from the same
    message a replay after a restart.
    """

    times: list[float] = field(default_factory=list)
    values: dict[str, list[float]] = field(default_factory=dict)
    flags: dict[str, list[int]] = field(default_factory=dict)
    seen: dict[float, str] = field(default_factory=dict)

    @property
    def latest(self) -> float | None:
        return self.times[-1] if self.times else None

    def to_json(self) -> bytes:
        seen = [[moment, source] for moment, source in self.seen.items()]
        doc = {"times": self.times, "values": self.values, "flags": self.flags, "seen": seen}
        return json.dumps(doc, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, raw: bytes | None) -> History:
        if not raw:
            return cls()
        doc = json.loads(raw)
        seen = {float(moment): str(source) for moment, source in doc["seen"]}
        return cls(doc["times"], doc["values"], doc["flags"], seen)

    def before(self, moment: float) -> History:
        """The part of the history older than ``moment`` (for a late report's checks)."""
        n = sum(1 for t in self.times if t < moment)
        return History(
            self.times[:n],
            {p: v[:n] for p, v in self.values.items()},
            {p: f[:n] for p, f in self.flags.items()},
        )

    def append(self, moment: float, values: Mapping[str, float], flags: Mapping[str, int]) -> None:
        for name in values.keys() - self.values.keys():
            self.values[name] = [math.nan] * len(self.times)
            self.flags[name] = [int(QCFlag.MISSING)] * len(self.times)
        self.times.append(moment)
        for name in self.values:
            self.values[name].append(values.get(name, math.nan))
            self.flags[name].append(flags.get(name, int(QCFlag.MISSING)))

    def trim(self, size: int, seen_size: int) -> None:
        if len(self.times) > size:
            cut = len(self.times) - size
            del self.times[:cut]
            for name in self.values:
                del self.values[name][:cut]
                del self.flags[name][:cut]
        while len(self.seen) > seen_size:  # dicts keep insertion order: drop the oldest
            del self.seen[next(iter(self.seen))]

    def observations(self) -> list[Observation]:
        out = []
        for i, moment in enumerate(self.times):
            values = {p: v[i] for p, v in self.values.items() if not math.isnan(v[i])}
            flags = {p: f[i] for p, f in self.flags.items()}
            out.append(Observation(datetime.fromtimestamp(moment, UTC), values, flags))
        return out


class Replay(StationsError):
    """The message was processed before (its effect is in the history): a redelivery after a
    restart, not a duplicate report. Its outputs were written before the history was."""


@dataclass(frozen=True)
class Outcome:
    """What an accepted report produced: the assessed report (its ``events`` are the rule events
    of this result) and the new history."""

    station: Station
    assessed: AssessedReport
    history: History

    @property
    def events(self) -> tuple[RuleEvent, ...]:
        return self.assessed.events


class Assessor:
    """Decode, validate and assess raw messages against the registry, QC limits and rules."""

    def __init__(
        self,
        registry: Registry,
        qc_limits: QCLimits,
        rules: RuleSet,
        *,
        history_size: int = 42,
        seen_size: int = 500,
        future_tolerance: timedelta = timedelta(minutes=10),
    ) -> None:
        self.registry = registry
        self.qc_limits = qc_limits
        self.rules = rules
        self.history_size = history_size
        self.seen_size = seen_size
        self.future_tolerance = future_tolerance
        self._checks: dict[tuple[str, str], tuple[CheckConfig, ...]] = {}

    def checks_for(self, station: Station, parameter: str) -> tuple[CheckConfig, ...]:
        """The QC checks of a station's parameter (merged once, then reused)."""
        key = (station.id, parameter)
        if key not in self._checks:
            self._checks[key] = self.qc_limits.checks_for(station, parameter)
        return self._checks[key]

    def check(self, raw: bytes | None, received_at: datetime) -> Report:
        """Decode and validate; ReportError says why not. ``received_at``: when the message
        reached Kafka (used for HJ 212 packets, which carry no receive time)."""
        if not raw:
            raise ReportError("undecodable", "empty message (no value)")
        if raw.startswith(b"##"):
            try:
                packet = hj212.parse(raw)
            except hj212.Hj212Error as exc:
                raise ReportError("undecodable", f"HJ 212: {exc}") from exc
            report = from_hj212(packet, self.registry, received_at)
        else:
            report = from_json(raw)
        if report.station not in self.registry:
            raise ReportError(
                "unknown_station", f"station {report.station!r} is not in the registry"
            )
        for name, reading in report.readings.items():
            try:
                parameters.get(name).factor(reading.unit)
            except UnitError as exc:
                reason = "bad_unit" if name in parameters.PARAMETERS else "invalid"
                raise ReportError(reason, f"values.{name}: {exc}") from exc
        if report.observed_at > report.received_at + self.future_tolerance:
            raise ReportError(
                "future",
                f"observed_at {report.observed_at.isoformat()} is after received_at "
                f"{report.received_at.isoformat()} by more than {self.future_tolerance}",
            )
        return report

    def assess(self, report: Report, history: History, source: str = "") -> Outcome:
        """QC, classify and evaluate the rules; ReportError('duplicate') for a time already seen
        from another message, :class:`Replay` when ``source`` is the message that brought it.

        A late report (older than the newest accepted one) is checked against the history before
        it and assessed, but it does not enter the history and fires no rule.
        """
        station = self.registry.get(report.station)
        moment = report.observed_at.timestamp()
        if moment in history.seen:
            if source and history.seen[moment] == source:
                raise Replay(f"{source} was processed before (station {station.id})")
            raise ReportError(
                "duplicate",
                f"station {station.id} already reported {report.observed_at.isoformat()}",
            )
        latest = history.latest
        late = latest is not None and moment < latest
        past = history.before(moment) if late else history
        values: dict[str, AssessedValue] = {}
        canonical: dict[str, float] = {}
        flags: dict[str, int] = {}
        good: dict[str, float | None] = {}
        for name, reading in report.readings.items():
            value = (
                None
                if reading.value is None
                else reading.value * parameters.get(name).factor(reading.unit)
            )
            screening = screen_value(
                value,
                moment,
                checks=self.checks_for(station, name),
                instrument=reading.flag,
                history_values=past.values.get(name, ()),
                history_times=past.times if name in past.values else (),
                history_flags=past.flags.get(name, ()) if name in past.values else None,
            )
            flags[name] = int(screening.flag)
            if value is not None:
                canonical[name] = value
            good[name] = value if screening.usable else None
            values[name] = AssessedValue(
                value=value,
                unit=parameters.get(name).unit,
                flag=reading.flag,
                qc=screening.flag,
                reasons=tuple(screening.reasons),
                water_class=self._value_class(station, name, value if screening.usable else None),
            )
            spike = screening.previous_spike
            if not late and spike in (QCFlag.SUSPECT, QCFlag.FAIL) and history.flags.get(name):
                # The spike test judges the previous value only now: keep the verdict in history.
                previous = history.flags[name]
                if previous[-1] == QCFlag.GOOD:
                    previous[-1] = int(spike)
        history.seen[moment] = source
        events: list[RuleEvent] = []
        if not late:
            history.append(moment, canonical, flags)
        history.trim(self.history_size, self.seen_size)
        if not late:
            events = evaluate(station, history.observations(), self.rules)
        # The evaluation's rule events travel with the report too: the alert agent reads one
        # ordered stream per station and groups the events of one evaluation into one message.
        assessed = self._assessed(report, station, values, good, late, tuple(events))
        return Outcome(station, assessed, history)

    @staticmethod
    def _value_class(station: Station, name: str, good: float | None) -> int | None:
        """The class of a QC-good value of a classed parameter at a water-quality station."""
        body = station.water_body
        classed = station.kind is StationKind.WATER_QUALITY and is_classed(name, body)
        return value_class(name, good, body) if classed and good is not None else None

    def _assessed(
        self,
        report: Report,
        station: Station,
        values: dict[str, AssessedValue],
        good: Mapping[str, float | None],
        late: bool,
        events: tuple[RuleEvent, ...],
    ) -> AssessedReport:
        cls: int | None = None
        limiting: tuple[str, ...] = ()
        if station.kind is StationKind.WATER_QUALITY:
            result = classify_report(good, station.water_body)
            cls, limiting = result.cls, tuple(result.limiting)
        return AssessedReport(
            station=station.id,
            station_name=station.name,
            jurisdiction=station.jurisdiction,
            basin=station.basin,
            water_body=station.water_body,
            kind=station.kind,
            observed_at=report.observed_at,
            received_at=report.received_at,
            source=report.source,
            late=late,
            values=values,
            water_class=cls,
            class_name=CLASS_NAMES.get(cls) if cls else None,
            limiting=limiting,
            target_class=station.target_class,
            target_met=None
            if cls is None or station.target_class is None
            else cls <= station.target_class,
            events=events,
        )
