"""Seeded, realistic station reports for the registry's stations, with injected faults.

Each round (one observation time) every station whose interval falls on it makes one report
slot: values from :mod:`stations.simulation.values`, in the station's units, published decimals,
observed at the slot in Beijing time, received a few minutes later. A slot may get one fault
(:class:`~stations.simulation.faults.FaultRates`); each message sent is an :class:`Emission` that
says what the check agent must make of it (``expect``). A fault a station cannot have (an HJ 212
packet from a station without a logger MN, a stuck run right after another) is passed on to the
next slot that can, so the rates hold over the run.

>>> from stations.registry import load_registry
>>> run = simulate(load_registry(), count=5, seed=1, start=datetime(2021, 4, 1, tzinfo=BEIJING))
>>> [e.expect for e in run]
['assessed', 'assessed', 'assessed', 'assessed', 'assessed']

Pure: numpy and stdlib only; :meth:`Simulator.next_round` takes ``now`` for real time.
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import msgspec
import numpy as np

from stations.errors import SimulationError
from stations.formats.hj212 import BEIJING
from stations.formats.report import Reading, Report
from stations.registry import Registry
from stations.simulation import faults as faults_
from stations.simulation.faults import EXPECT, FaultRates
from stations.simulation.profile import load_profile
from stations.simulation.values import StationModel
from stations.station import Station

SOURCE = "simulate"
STUCK_RUN = (3, 6)  # reports a stuck value lasts, both ends included
LATE_AFTER = (1, 3)  # later reports of the station sent before a held-back one
DUPLICATE_AFTER = (0, 20)  # report slots between a report and its duplicate
DELAY_SECONDS = (60, 600)  # from observation to reception


@dataclass(frozen=True, slots=True)
class Emission:
    """One message to produce, and the outcome the check agent must give it."""

    key: bytes | None
    value: bytes
    kind: str
    expect: str


@dataclass
class Summary:
    """What was sent, by kind and by expected outcome, and how many slots were dropped."""

    by_kind: Counter[str] = field(default_factory=Counter)
    by_expect: Counter[str] = field(default_factory=Counter)
    dropped: int = 0

    @property
    def sent(self) -> int:
        return sum(self.by_kind.values())

    def add(self, emission: Emission) -> None:
        self.by_kind[emission.kind] += 1
        self.by_expect[emission.expect] += 1

    def as_dict(self) -> dict[str, Any]:
        """``{"sent", "by_kind", "expect": {"assessed", "rejected": {reason: n}}, "dropped"}``."""
        rejected = {
            outcome.partition(":")[2]: n
            for outcome, n in sorted(self.by_expect.items())
            if outcome.startswith("rejected:")
        }
        return {
            "sent": self.sent,
            "by_kind": dict(sorted(self.by_kind.items())),
            "expect": {"assessed": self.by_expect["assessed"], "rejected": rejected},
            "dropped": self.dropped,
        }


@dataclass
class _Held:
    report: Report
    after: int


@dataclass
class _StationState:
    station: Station
    model: StationModel
    stuck: tuple[str, float, int] | None = None  # parameter, value, reports left
    cooldown: bool = False
    held: _Held | None = None


class Simulator:
    """Report slots round after round from ``start``; ``summary`` counts what was yielded."""

    def __init__(
        self,
        registry: Registry,
        *,
        seed: int,
        faults: FaultRates | None = None,
        start: datetime | None = None,
        profile: Mapping[str, Any] | None = None,
    ) -> None:
        self.registry = registry
        self.faults = faults or FaultRates()
        if self.faults.dropout >= 1.0:
            raise SimulationError("dropout=1 drops every report: nothing would be sent")
        fault_seq, value_seq = np.random.SeedSequence(seed).spawn(2)
        self._rng = np.random.default_rng(fault_seq)
        profile = profile if profile is not None else load_profile()
        self._states = []
        for station, seq in zip(registry, value_seq.spawn(len(registry)), strict=True):
            model = StationModel(station, profile, np.random.default_rng(seq))
            if model.parameters:
                self._states.append(_StationState(station, model))
        if not self._states:
            raise SimulationError(f"no station of {registry.path} measures a simulated parameter")
        intervals = {s.station.interval_minutes for s in self._states}
        self.step_minutes = math.gcd(*intervals)
        if start is None:
            self.next_slot = floor_time(datetime.now(BEIJING), max(intervals))
        else:
            self.next_slot = floor_time(start, self.step_minutes)
        self.summary = Summary()
        self._kinds, self._cumulative = self._draw_table()
        self._owed: Counter[str] = Counter()
        self._duplicates: list[list[Any]] = []  # [slots to wait, emission]

    def _draw_table(self) -> tuple[list[str], np.ndarray]:
        # A stuck run starts on a free slot and forces the next ones: scale so that the share
        # of *all* slots matches each rate (see FaultRates).
        mean_run = sum(STUCK_RUN) / 2
        stuck = self.faults.stuck
        free = 1.0 - stuck * (mean_run - 1) / mean_run
        probabilities = {name: rate / free for name, rate in self.faults.items() if rate}
        if stuck:
            probabilities["stuck"] = stuck / mean_run / free
        return list(probabilities), np.cumsum(list(probabilities.values()))

    def emissions(self) -> Iterator[Emission]:
        """Every message, round after round, in simulated time (endless)."""
        while True:
            yield from self.next_round()

    def next_round(self, now: datetime | None = None) -> Iterator[Emission]:
        """The messages of the round at ``next_slot`` (then the slot advances one step).

        ``now`` (real time): the reception time of every report; else each report is received
        a few minutes after its observation.
        """
        slot = self.next_slot
        self.next_slot = slot + timedelta(minutes=self.step_minutes)
        received = None if now is None else now.astimezone(BEIJING)
        return self._round(slot, received)

    def _round(self, slot: datetime, now: datetime | None) -> Iterator[Emission]:
        minute = _minute(slot)
        for state in self._states:
            if minute % state.station.interval_minutes == 0:
                yield from self._slot(state, slot, now)
                yield from self._release_duplicates()

    def _slot(
        self, state: _StationState, slot: datetime, now: datetime | None
    ) -> Iterator[Emission]:
        model, station, rng = state.model, state.station, self._rng
        values = model.canonical(slot)
        delay = timedelta(seconds=int(model.rng.integers(*DELAY_SECONDS)))
        received = now or slot + delay
        kind = self._kind(state)
        readings = {key: self._reading(model, key, value) for key, value in values.items()}
        key = str(rng.choice(list(readings)))
        if kind == "dropout":
            self.summary.dropped += 1
            return
        if kind == "spike":
            readings[key] = msgspec.structs.replace(
                readings[key], value=model.present(key, model.processes[key].spike(rng))
            )
        elif kind == "stuck":
            readings = self._stuck(state, readings)
        elif kind == "maintenance":
            readings = {k: msgspec.structs.replace(r, flag="M") for k, r in readings.items()}
        elif kind == "wrong_unit":
            readings[key] = msgspec.structs.replace(
                readings[key], unit=faults_.foreign_unit(key, rng)
            )
        report = Report(station.id, slot, received, SOURCE, readings)
        if kind == "late":
            state.held = _Held(report, int(rng.integers(LATE_AFTER[0], LATE_AFTER[1] + 1)))
            return
        if kind == "malformed":
            packet = faults_.hj212_packet(station, report) if self._hj212_ok(state) else None
            yield self._emit(
                station.id.encode(), faults_.malformed(report.to_json(), packet, rng), kind
            )
            return
        if kind == "unknown_station":
            other = faults_.unknown_station_id(self.registry, station, rng)
            yield self._emit(
                other.encode(), msgspec.structs.replace(report, station=other).to_json(), kind
            )
            return
        if kind == "future":
            ahead = faults_.future_time(received, station.interval_minutes, rng)
            yield self._emit(
                key_of(station), msgspec.structs.replace(report, observed_at=ahead).to_json(), kind
            )
            return
        if kind == "hj212":
            yield self._emit(key_of(station), faults_.hj212_packet(station, report), kind)
        else:
            sent = self._emit(
                key_of(station), report.to_json(), "normal" if kind == "duplicate" else kind
            )
            yield sent
            if kind == "duplicate":
                wait = int(rng.integers(DUPLICATE_AFTER[0], DUPLICATE_AFTER[1] + 1))
                self._duplicates.append(
                    [wait, dataclasses.replace(sent, kind="duplicate", expect=EXPECT["duplicate"])]
                )
        if kind != "wrong_unit":
            yield from self._release_held(state, slot, received)

    def _kind(self, state: _StationState) -> str:
        if state.stuck is not None:
            return "stuck"
        cooldown, state.cooldown = state.cooldown, False
        index = int(np.searchsorted(self._cumulative, self._rng.random(), side="right"))
        kind = self._kinds[index] if index < len(self._kinds) else "normal"
        if kind != "normal" and not self._applicable(kind, state, cooldown):
            self._owed[kind] += 1
            kind = "normal"
        if kind == "normal":
            for owed in self._kinds:
                if self._owed[owed] and self._applicable(owed, state, cooldown):
                    self._owed[owed] -= 1
                    return owed
        return kind

    def _applicable(self, kind: str, state: _StationState, cooldown: bool) -> bool:
        if kind == "hj212":
            return self._hj212_ok(state)
        if kind == "stuck":
            return not cooldown
        if kind == "late":
            return state.held is None
        return True

    def _hj212_ok(self, state: _StationState) -> bool:
        return faults_.can_send_hj212(state.station, state.model.parameters)

    @staticmethod
    def _reading(model: StationModel, key: str, canonical: float) -> Reading:
        sensor = model.station.sensor(key)
        assert sensor is not None
        return Reading(model.present(key, canonical), sensor.unit)

    def _stuck(self, state: _StationState, readings: dict[str, Reading]) -> dict[str, Reading]:
        if state.stuck is None:
            key = str(self._rng.choice(list(readings)))
            value = readings[key].value
            assert value is not None
            length = int(self._rng.integers(STUCK_RUN[0], STUCK_RUN[1] + 1))
            state.stuck = (key, value, length)
        key, value, left = state.stuck
        state.stuck = (key, value, left - 1) if left > 1 else None
        state.cooldown = state.stuck is None
        return {**readings, key: msgspec.structs.replace(readings[key], value=value)}

    def _release_held(
        self, state: _StationState, slot: datetime, received: datetime
    ) -> Iterator[Emission]:
        held = state.held
        if held is None or held.report.observed_at >= slot:
            return
        held.after -= 1
        if held.after == 0:
            state.held = None
            late = msgspec.structs.replace(held.report, received_at=received + timedelta(seconds=1))
            yield self._emit(key_of(state.station), late.to_json(), "late")

    def _release_duplicates(self) -> Iterator[Emission]:
        due = [item for item in self._duplicates if item[0] == 0]
        self._duplicates = [[wait - 1, e] for wait, e in self._duplicates if wait > 0]
        for _, emission in due:
            self.summary.add(emission)
            yield emission

    def _emit(self, key: bytes | None, value: bytes, kind: str) -> Emission:
        emission = Emission(key, value, kind, EXPECT[kind])
        self.summary.add(emission)
        return emission


class Simulation:
    """Exactly ``count`` messages of a :class:`Simulator` (iterate once), and their summary."""

    def __init__(self, simulator: Simulator, count: int) -> None:
        if count < 0:
            raise SimulationError(f"count must be 0 or more, got {count}")
        self.simulator = simulator
        self.count = count

    @property
    def summary(self) -> Summary:
        return self.simulator.summary

    def __iter__(self) -> Iterator[Emission]:
        if self.count == 0:
            return
        for sent, emission in enumerate(self.simulator.emissions(), start=1):
            yield emission
            if sent == self.count:
                return


def simulate(
    registry: Registry,
    *,
    count: int,
    seed: int,
    faults: FaultRates | None = None,
    start: datetime | None = None,
    profile: Mapping[str, Any] | None = None,
) -> Simulation:
    """``count`` messages for ``registry``'s stations, the same bytes for the same arguments.

    ``start``: the first observation time (floored to the rounds' step); default: now floored
    to the longest station interval. ``profile``: default the shipped simulation profile.
    """
    simulator = Simulator(registry, seed=seed, faults=faults, start=start, profile=profile)
    return Simulation(simulator, count)


def floor_time(moment: datetime, minutes: int) -> datetime:
    """``moment`` floored to a multiple of ``minutes`` counted from Beijing midnight, in Beijing
    time (for intervals that divide a day; others count from the epoch's Beijing midnight)."""
    if moment.tzinfo is None:
        raise SimulationError(f"start time {moment.isoformat()} has no UTC offset")
    total = _minute(moment)
    return datetime.fromtimestamp((total - total % minutes - 8 * 60) * 60, BEIJING)


def key_of(station: Station) -> bytes:
    """The message key of a station's reports: its id."""
    return station.id.encode()


def _minute(moment: datetime) -> int:
    """Minutes since the epoch's Beijing midnight."""
    return int(moment.timestamp()) // 60 + 8 * 60


def backlog_start(registry: Registry, count: int, now: datetime) -> datetime:
    """A start from which ``count`` messages end before ``now`` (with a tenth to spare), so
    that every observation time of a fixed-count run lies in the past."""
    per_day = sum(24 * 60 / s.interval_minutes for s in registry)
    longest = max(s.interval_minutes for s in registry)
    span = timedelta(days=1.1 * count / per_day, minutes=longest)
    return floor_time(now - span, longest)
