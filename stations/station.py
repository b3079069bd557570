"""What one station is: the frozen dataclasses the registry is made of.

Loaded from YAML by :mod:`stations.registry`; see ``stations/data/stations.yaml`` for the schema.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from stations import parameters
from stations.jurisdictions import Jurisdiction, involved
from stations.standard.gb3838 import WaterBody


class StationKind(StrEnum):
    """Water-quality stations are classed; hydrology stations carry level and flow."""

    WATER_QUALITY = "water_quality"
    HYDROLOGY = "hydrology"


@dataclass(frozen=True)
class Sensor:
    """A parameter a station measures: the unit it reports in and the sensor's range (that unit)."""

    parameter: str
    unit: str
    range: tuple[float, float]

    @property
    def canonical_range(self) -> tuple[float, float]:
        """The sensor range in the parameter's canonical unit."""
        low, high = self.range
        return (
            parameters.convert(self.parameter, low, self.unit),
            parameters.convert(self.parameter, high, self.unit),
        )


@dataclass(frozen=True)
class Hj212Link:
    """How a station's logger identifies itself: MN (device id), name of its password secret."""

    mn: str
    password_ref: str


@dataclass(frozen=True)
class Boundary:
    """A cross-boundary section: jurisdictions upstream, downstream, or sharing it (no order)."""

    upstream: tuple[Jurisdiction, ...] = ()
    downstream: tuple[Jurisdiction, ...] = ()
    shared: tuple[Jurisdiction, ...] = ()


@dataclass(frozen=True)
class HydrologyLimits:
    """Levels (m, above ``datum``) and flow limits (m3/s) of a hydrology station; None = none."""

    datum: str | None = None
    warning_level: float | None = None
    guaranteed_level: float | None = None
    flow_min: float | None = None
    flow_max: float | None = None


@dataclass(frozen=True)
class Station:
    """One station of the registry."""

    id: str
    name: str
    jurisdiction: Jurisdiction
    basin: str
    water_body: WaterBody
    kind: StationKind
    interval_minutes: int
    sensors: tuple[Sensor, ...]
    target_class: int | None = None
    lat: float | None = None
    lon: float | None = None
    hj212: Hj212Link | None = None
    boundary: Boundary | None = None
    hydrology: HydrologyLimits | None = None
    example: bool = False
    confirm: tuple[str, ...] = ()
    note: str | None = None
    line: int | None = None

    @property
    def parameters(self) -> tuple[str, ...]:
        """The canonical keys of the parameters measured."""
        return tuple(sensor.parameter for sensor in self.sensors)

    def sensor(self, parameter: str) -> Sensor | None:
        """The sensor for a parameter, None if the station does not measure it."""
        return next((s for s in self.sensors if s.parameter == parameter), None)

    @property
    def jurisdictions(self) -> tuple[Jurisdiction, ...]:
        """Everyone a breach here concerns: owner, boundary parties, then TBA."""
        if self.boundary is None:
            return involved(self.jurisdiction)
        b = self.boundary
        return involved(self.jurisdiction, b.upstream, b.downstream, b.shared)

    @property
    def cross_boundary(self) -> bool:
        """Whether the station is a cross-boundary section."""
        return self.boundary is not None
