"""What a simulated station measures: one random process per parameter, in model space.

A water-quality parameter is ``level + slow(t) + cycle(hour) + noise`` in model space (see
:mod:`stations.simulation.profile`): ``level`` is the section's own median when the section is in
the published data, else the water body's median shifted by a per-station offset drawn from the
spread between sections; ``slow`` is an Ornstein-Uhlenbeck process with a one-day time constant
and the day-to-day spread; ``cycle`` is the first harmonic of the daily cycle. A parameter the
profile has no data for in the station's water body (no river publishes algae) is not simulated.

Hydrology: the water level wanders slowly (time constant of days) around 0.40 m below the warning
level (3.40 m for Taihu's 3.80 m; 3.40 m without one); the flow around the middle of the station's
flow limits (50 m3/s without them). Pure: numpy and stdlib only.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from stations import parameters
from stations.simulation.profile import LINEAR, from_model, to_model
from stations.station import Station

#: Level, noise and drift of hydrology parameters (not in the published water-quality data).
LEVEL_BELOW_WARNING = 0.40
DEFAULT_LEVEL = 3.40
DEFAULT_FLOW = 50.0
_HYDROLOGY_DECIMALS = {"level": 2, "flow": 1}


@dataclass
class ParameterProcess:
    """One parameter of one station. ``level`` and the spreads are in model space."""

    key: str
    level: float
    slow_std: float
    noise_std: float
    tau_hours: float
    amplitude: float = 0.0
    peak_hour: float = 0.0
    _slow: float | None = None
    _at: datetime | None = None

    def value(self, at: datetime, rng: np.random.Generator) -> float:
        """The canonical value at ``at`` (advances the slow process from the previous call)."""
        if self._slow is None or self._at is None:
            self._slow = float(rng.normal(0.0, self.slow_std))
        else:
            hours = abs((at - self._at).total_seconds()) / 3600
            phi = math.exp(-hours / self.tau_hours)
            self._slow = phi * self._slow + math.sqrt(1 - phi * phi) * float(
                rng.normal(0.0, self.slow_std)
            )
        self._at = at
        hour = at.hour + at.minute / 60
        cycle = self.amplitude * math.cos(2 * math.pi * (hour - self.peak_hour) / 24)
        x = self.level + self._slow + cycle + float(rng.normal(0.0, self.noise_std))
        value = from_model(self.key, x)
        return value if self.key in LINEAR else max(0.0, value)

    def spike(self, rng: np.random.Generator) -> float:
        """A canonical value far from the level: 5-10 times it, or well above it for pH and ℃."""
        level = from_model(self.key, self.level)
        if self.key == "ph":
            return min(14.0, level + float(rng.uniform(2.0, 3.0)))
        if self.key == "temp":
            return level + float(rng.uniform(8.0, 15.0))
        if self.key == "level":
            return level + float(rng.uniform(0.5, 1.0))
        return level * float(rng.uniform(5.0, 10.0))


class StationModel:
    """The processes of every parameter a station measures that can be simulated."""

    def __init__(
        self,
        station: Station,
        profile: Mapping[str, Any],
        rng: np.random.Generator,
    ) -> None:
        self.station = station
        self.rng = rng
        self.decimals: dict[str, int] = {}
        self.processes: dict[str, ParameterProcess] = {}
        body = profile["water_bodies"].get(station.water_body.value, {})
        own = profile["sections"].get(station.name, {})
        for sensor in station.sensors:
            key = sensor.parameter
            process = self._process(key, body.get(key), own.get(key))
            if process is None:
                continue
            self.processes[key] = process
            canonical = _HYDROLOGY_DECIMALS.get(key, profile["decimals"].get(key, 2))
            shift = round(math.log10(parameters.unit_factor(key, sensor.unit)))
            self.decimals[key] = max(0, canonical + shift)

    @property
    def parameters(self) -> tuple[str, ...]:
        """The simulated parameters, in the station's order."""
        return tuple(self.processes)

    def canonical(self, at: datetime) -> dict[str, float]:
        """One result per simulated parameter at ``at``, canonical units, not rounded."""
        return {key: p.value(at, self.rng) for key, p in self.processes.items()}

    def present(self, key: str, canonical: float) -> float:
        """A canonical value as the station reports it: its unit, published decimals."""
        sensor = self.station.sensor(key)
        unit = sensor.unit if sensor else parameters.get(key).unit
        value = round(canonical / parameters.unit_factor(key, unit), self.decimals[key])
        return value + 0.0  # no -0.0

    def _process(
        self, key: str, stats: Mapping[str, Any] | None, own_median: float | None
    ) -> ParameterProcess | None:
        if key == "level":
            return ParameterProcess(key, self._level_mean(), 0.08, 0.005, tau_hours=120.0)
        if key == "flow":
            return ParameterProcess(key, math.log(self._flow_mean()), 0.3, 0.03, tau_hours=48.0)
        if stats is None:
            return None
        if own_median is not None and (key in LINEAR or own_median > 0):
            level = to_model(key, own_median)
        else:
            offset = float(self.rng.normal(0.0, stats["between_section_std"]))
            level = to_model(key, stats["median"]) + offset
        return ParameterProcess(
            key,
            level,
            slow_std=stats["day_std"],
            noise_std=stats["noise_std"],
            tau_hours=24.0,
            amplitude=stats["amplitude"],
            peak_hour=stats["peak_hour"],
        )

    def _level_mean(self) -> float:
        limits = self.station.hydrology
        if limits is not None and limits.warning_level is not None:
            return limits.warning_level - LEVEL_BELOW_WARNING
        return DEFAULT_LEVEL

    def _flow_mean(self) -> float:
        limits = self.station.hydrology
        if limits is not None and limits.flow_min is not None and limits.flow_max is not None:
            middle = (limits.flow_min + limits.flow_max) / 2
            if middle > 0:
                return middle
        return DEFAULT_FLOW
