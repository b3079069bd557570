"""The station registry: what each station is, loaded from YAML into frozen dataclasses.

The shipped registry is ``stations/data/stations.yaml`` (the source of truth, edited by hand; its
header comment documents the schema). :func:`load_registry` validates the whole file and raises a
:class:`~stations.errors.RegistryError` listing every problem with file and line;
:func:`check_registry` returns the problems instead.

>>> registry = load_registry()
>>> registry.by_name("西山").water_body
<WaterBody.LAKE: 'lake'>
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    Field,
    PlainValidator,
    ValidationInfo,
    field_validator,
    model_validator,
)

from stations import DATA_DIR, parameters
from stations.errors import Problem, RegistryError, UnitError, UnknownStationError
from stations.jurisdictions import Jurisdiction
from stations.schema import (
    Number,
    Problems,
    Span,
    Spec,
    Text,
    Version,
    bounded,
    choice,
    invalid,
    matching,
    names,
    within,
)
from stations.standard.gb3838 import WaterBody
from stations.station import (
    Boundary,
    Hj212Link,
    HydrologyLimits,
    Sensor,
    Station,
    StationKind,
)
from stations.yamlsource import Loc, YamlSource, dotted, value_at

#: The registry shipped in the package.
DEFAULT_REGISTRY = DATA_DIR / "stations.yaml"

#: Automatic water-quality stations analyse every 4 hours (HJ 915-2017).
WATER_QUALITY_INTERVAL_MINUTES = 240

_ID_PATTERN = r"(JS|ZJ|SH|AH|TBA)-[A-Z]{2}-[0-9]{3}"
_MN_PATTERN = r"[A-Za-z0-9]{1,24}"
_SECRET_REF_PATTERN = r"[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)+"
_PROVINCES = ("JS", "ZJ", "SH", "AH")

#: What a ``confirm:`` list may name (fields whose value is an example default).
CONFIRMABLE = (
    "jurisdiction",
    "water_body",
    "target_class",
    "interval_minutes",
    "parameters",
    "lat",
    "lon",
    "hj212.mn",
    "boundary",
    "hydrology.datum",
    "hydrology.warning_level",
    "hydrology.guaranteed_level",
    "hydrology.flow_min",
    "hydrology.flow_max",
)


@dataclass(frozen=True)
class Registry:
    """All stations of one registry file, with lookups by id, name and HJ 212 MN."""

    path: str
    stations: tuple[Station, ...]

    @cached_property
    def _by_id(self) -> Mapping[str, Station]:
        return MappingProxyType({s.id: s for s in self.stations})

    @cached_property
    def _by_name(self) -> Mapping[str, Station]:
        return MappingProxyType({s.name: s for s in self.stations})

    @cached_property
    def _by_mn(self) -> Mapping[str, Station]:
        return MappingProxyType({s.hj212.mn: s for s in self.stations if s.hj212 is not None})

    def __iter__(self) -> Iterator[Station]:
        return iter(self.stations)

    def __len__(self) -> int:
        return len(self.stations)

    def __contains__(self, station_id: object) -> bool:
        return station_id in self._by_id

    def get(self, station_id: str) -> Station:
        """The station with this id; UnknownStationError otherwise."""
        try:
            return self._by_id[station_id]
        except KeyError:
            raise UnknownStationError(f"no station {station_id!r} in {self.path}") from None

    def by_name(self, name: str) -> Station:
        """The station with this published name; UnknownStationError otherwise."""
        try:
            return self._by_name[name]
        except KeyError:
            raise UnknownStationError(f"no station named {name!r} in {self.path}") from None

    def by_mn(self, mn: str) -> Station:
        """The station whose logger has this HJ 212 MN; UnknownStationError otherwise."""
        try:
            return self._by_mn[mn]
        except KeyError:
            raise UnknownStationError(f"no station with MN {mn!r} in {self.path}") from None

    def counts(self) -> dict[Jurisdiction, int]:
        """Number of stations per owning jurisdiction, in Jurisdiction order."""
        counter = Counter(s.jurisdiction for s in self.stations)
        return {j: counter[j] for j in Jurisdiction if counter[j]}


def load_registry(path: str | Path | None = None, *, text: str | None = None) -> Registry:
    """Load and validate a registry (default: the shipped one). RegistryError lists all problems."""
    source = YamlSource(path or DEFAULT_REGISTRY, text, name="registry", where=_where)
    profiles = value_at(source.data, ("profiles",))
    known = {
        name: tuple(sensors) if isinstance(sensors, dict) else ()
        for name, sensors in (profiles.items() if isinstance(profiles, dict) else ())
    }
    spec = source.load(RegistryFile, context={"profiles": known})
    source.raise_if_problems(RegistryError)
    assert spec is not None
    sensors = {name: _sensors(entries) for name, entries in spec.profiles.items()}
    stations = tuple(
        station.build(sensors, line=source.line_at(("stations", index)))
        for index, station in enumerate(spec.stations)
    )
    return Registry(path=source.path, stations=stations)


def check_registry(path: str | Path | None = None) -> list[Problem]:
    """Every problem of a registry file (empty when it is valid)."""
    try:
        load_registry(path)
    except RegistryError as exc:
        return list(exc.problems)
    return []


def _where(path: Loc, data: Any) -> str | None:
    """``station JS-TH-001.hj212.mn`` (``stations[3]`` while the id is missing)."""
    if len(path) < 2 or path[0] != "stations":
        return None
    sid = value_at(data, (*path[:2], "id"))
    head = f"station {sid}" if isinstance(sid, str | int) and str(sid) else dotted(path[:2])
    return dotted(path[2:], head)


# --- the file's model ---------------------------------------------------------------------


def _known_parameter(key: str) -> str:
    if key not in parameters.PARAMETERS:
        known = ", ".join(parameters.PARAMETERS)
        raise invalid(f"unknown parameter {key!r} (known: {known})", hides=True)
    return key


#: A parameter's canonical key as a mapping key (an unknown one hides its value's problems).
ParameterKey = Annotated[str, AfterValidator(_known_parameter)]


def _known_jurisdiction(code: Any) -> Jurisdiction:
    known = [j.value for j in Jurisdiction]
    if code not in known:
        raise invalid(f"unknown jurisdiction {code!r} (one of {', '.join(known)})", hides=True)
    return Jurisdiction(code)


#: A jurisdiction's code as a mapping key (an unknown one hides its value's problems).
JurisdictionKey = Annotated[Jurisdiction, PlainValidator(_known_jurisdiction)]


class SensorSpec(Spec):
    """``{unit: U, range: [low, high]}``: the unit a station reports in, its sensor's range."""

    unit: Text
    range: Span


def _units_known(sensors: dict[str, SensorSpec]) -> dict[str, SensorSpec]:
    found = Problems()
    for parameter, sensor in sensors.items():
        try:
            parameters.unit_factor(parameter, sensor.unit)
        except UnitError as exc:
            found.add(str(exc), loc=(parameter, "unit"))
    found.raise_any()
    return sensors


#: ``{parameter: {unit, range}}``: a profile, or a station's own parameters.
Sensors = Annotated[dict[ParameterKey, SensorSpec], AfterValidator(_units_known)]


def _sensors(entries: Mapping[str, SensorSpec]) -> tuple[Sensor, ...]:
    return tuple(Sensor(key, entry.unit, entry.range) for key, entry in entries.items())


class Hj212Spec(Spec):
    mn: Annotated[str, matching(_MN_PATTERN)]
    password_ref: Annotated[str, matching(_SECRET_REF_PATTERN)]


class BoundarySpec(Spec):
    upstream: Annotated[tuple[str, ...], names(choices=_PROVINCES)] = ()
    downstream: Annotated[tuple[str, ...], names(choices=_PROVINCES)] = ()
    shared: Annotated[tuple[str, ...], names(choices=_PROVINCES)] = ()

    @model_validator(mode="after")
    def _someone(self) -> Self:
        if not (self.upstream or self.downstream or self.shared):
            raise invalid("name at least one jurisdiction")
        return self

    def build(self) -> Boundary:
        def parties(names: tuple[str, ...]) -> tuple[Jurisdiction, ...]:
            return tuple(Jurisdiction(name) for name in names)

        return Boundary(parties(self.upstream), parties(self.downstream), parties(self.shared))


_Level = Annotated[Number, bounded(-1.0e6, 1.0e6)]


class HydrologySpec(Spec):
    nullable = ("warning_level", "guaranteed_level", "flow_min", "flow_max")
    datum: Text | None = None
    warning_level: _Level | None = None
    guaranteed_level: _Level | None = None
    flow_min: _Level | None = None
    flow_max: _Level | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        found = Problems()
        warning, guaranteed = self.warning_level, self.guaranteed_level
        if warning is not None and guaranteed is not None and not warning < guaranteed:
            found.add("guaranteed_level must be above warning_level", at=("guaranteed_level",))
        low, high = self.flow_min, self.flow_max
        if low is not None and high is not None and not low < high:
            found.add("flow_max must be above flow_min", at=("flow_max",))
        found.raise_any()
        return self


class StationSpec(Spec):
    """One entry of ``stations:`` (the schema is in the header of stations.yaml)."""

    nullable = ("lat", "lon")

    id: Annotated[str, matching(_ID_PATTERN)]
    name: Text
    jurisdiction: Annotated[Jurisdiction, choice(Jurisdiction)]
    basin: Text
    water_body: Annotated[WaterBody, choice(WaterBody)]
    kind: Annotated[StationKind, choice(StationKind)]
    interval_minutes: Annotated[int, within(1, 1440)] | None = None
    target_class: Annotated[int, within(1, 5)] | None = None
    profile: Text | None = None
    parameters: Sensors | None = None
    lat: Annotated[Number, bounded(-90.0, 90.0)] | None = None
    lon: Annotated[Number, bounded(-180.0, 180.0)] | None = None
    hj212: Hj212Spec | None = None
    boundary: BoundarySpec | None = None
    hydrology: HydrologySpec | None = None
    example: bool = False
    confirm: Annotated[tuple[str, ...], names(choices=CONFIRMABLE)] = ()
    note: Text | None = None

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> Self:
        found = Problems()
        if not self.id.startswith(f"{self.jurisdiction}-"):
            found.add(f"id must start with its jurisdiction {self.jurisdiction}-", at=("id",))
        hydrology = self.kind is StationKind.HYDROLOGY
        if hydrology and self.interval_minutes is None:
            found.add("a hydrology station needs interval_minutes")
        if hydrology and self.target_class is not None:
            found.add("a hydrology station has no target_class", at=("target_class",))
        if not hydrology and self.target_class is None:
            found.add("missing target_class (1..5)", at=("id",))
        profiles: Mapping[str, tuple[str, ...]] = (info.context or {}).get("profiles", {})
        if self.profile is not None and self.profile not in profiles:
            known = ", ".join(profiles) or "none"
            found.add(f"unknown profile {self.profile!r} (known: {known})", at=("profile",))
        else:
            measured = {*profiles.get(self.profile or "", ()), *(self.parameters or {})}
            if not measured:
                found.add("measures nothing (give a profile or parameters)")
            elif hydrology and not {"level", "flow"} & measured:
                found.add("a hydrology station measures level or flow")
        if hydrology and self.hydrology is None:
            found.add("a hydrology station needs a hydrology block")
        if not hydrology and self.hydrology is not None:
            found.add("only for kind hydrology", loc=("hydrology",))
        found.raise_any()
        return self

    def build(self, profiles: Mapping[str, tuple[Sensor, ...]], *, line: int | None) -> Station:
        merged = {s.parameter: s for s in profiles.get(self.profile or "", ())}
        merged.update((s.parameter, s) for s in _sensors(self.parameters or {}))
        limits = self.hydrology
        return Station(
            id=self.id,
            name=self.name,
            jurisdiction=self.jurisdiction,
            basin=self.basin,
            water_body=self.water_body,
            kind=self.kind,
            interval_minutes=self.interval_minutes or WATER_QUALITY_INTERVAL_MINUTES,
            sensors=tuple(merged.values()),
            target_class=self.target_class,
            lat=self.lat,
            lon=self.lon,
            hj212=Hj212Link(self.hj212.mn, self.hj212.password_ref) if self.hj212 else None,
            boundary=self.boundary.build() if self.boundary else None,
            hydrology=HydrologyLimits(**limits.model_dump()) if limits else None,
            example=self.example,
            confirm=self.confirm,
            note=self.note,
            line=line,
        )


class RegistryFile(Spec):
    """stations.yaml."""

    version: Version
    profiles: dict[str, Sensors] = Field(default_factory=dict)
    stations: tuple[StationSpec, ...]

    @field_validator("stations")
    @classmethod
    def _unique(cls, stations: tuple[StationSpec, ...]) -> tuple[StationSpec, ...]:
        found = Problems()
        for label, key in (
            ("id", lambda s: s.id),
            ("name", lambda s: s.name),
            ("HJ 212 MN", lambda s: s.hj212.mn if s.hj212 else None),
        ):
            first: dict[str, int] = {}
            for index, station in enumerate(stations):
                value = key(station)
                if value is None:
                    continue
                if value in first:
                    message = f"duplicate {label} {value!r}"
                    found.add(message, loc=(index,), first=(first[value],), prefix=False)
                else:
                    first[value] = index
        found.raise_any()
        return stations
