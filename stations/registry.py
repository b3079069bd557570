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
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import TypeVar

from yaml.nodes import MappingNode, Node, ScalarNode

from stations import DATA_DIR, parameters
from stations.errors import Problem, RegistryError, UnitError, UnknownStationError
from stations.jurisdictions import Jurisdiction
from stations.standard.gb3838 import WaterBody
from stations.station import (
    Boundary,
    Hj212Link,
    HydrologyLimits,
    Sensor,
    Station,
    StationKind,
)
from stations.yamlsource import YamlSource, is_null

#: The registry shipped in the package.
DEFAULT_REGISTRY = DATA_DIR / "stations.yaml"

#: Automatic water-quality stations analyse every 4 hours (HJ 915-2017).
WATER_QUALITY_INTERVAL_MINUTES = 240

_E = TypeVar("_E", bound=StrEnum)

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

_STATION_KEYS_REQUIRED = ("id", "name", "jurisdiction", "basin", "water_body", "kind")
_STATION_KEYS_OPTIONAL = (
    "interval_minutes",
    "target_class",
    "profile",
    "parameters",
    "lat",
    "lon",
    "hj212",
    "boundary",
    "hydrology",
    "example",
    "confirm",
    "note",
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
    source = YamlSource(path or DEFAULT_REGISTRY, text)
    stations = _Reader(source).read()
    source.raise_if_problems(RegistryError)
    return Registry(path=source.path, stations=tuple(stations))


def check_registry(path: str | Path | None = None) -> list[Problem]:
    """Every problem of a registry file (empty when it is valid)."""
    try:
        load_registry(path)
    except RegistryError as exc:
        return list(exc.problems)
    return []


class _Reader:
    """Turns the node tree of one registry file into stations, recording problems."""

    def __init__(self, source: YamlSource) -> None:
        self.src = source
        self.profiles: dict[str, tuple[Sensor, ...]] = {}

    def read(self) -> list[Station]:
        if self.src.root is None:
            return []
        top = self.src.mapping(
            self.src.root, "registry", required=("version", "stations"), optional=("profiles",)
        )
        if top is None:
            return []
        if "version" in top:
            self.src.integer(top["version"], "version", low=1, high=1)
        if "profiles" in top:
            self._read_profiles(top["profiles"])
        items = self.src.sequence(top["stations"], "stations") if "stations" in top else None
        stations: list[Station] = []
        for index, node in enumerate(items or ()):
            station = self._station(node, index)
            if station is not None:
                stations.append(station)
        self._check_unique(stations)
        return stations

    def _read_profiles(self, node: Node) -> None:
        profiles = self.src.mapping(node, "profiles", optional=None)
        for name, profile_node in (profiles or {}).items():
            sensors = self._sensors(profile_node, f"profiles.{name}")
            if sensors is not None:
                self.profiles[name] = sensors

    def _sensors(self, node: Node, where: str) -> tuple[Sensor, ...] | None:
        entries = self.src.mapping(node, where, optional=None)
        if entries is None:
            return None
        sensors: list[Sensor] = []
        for key, entry in entries.items():
            here = f"{where}.{key}"
            if key not in parameters.PARAMETERS:
                known = ", ".join(parameters.PARAMETERS)
                self.src.problem(entry, f"{here}: unknown parameter {key!r} (known: {known})")
                continue
            fields = self.src.mapping(entry, here, required=("unit", "range"))
            if fields is None or "unit" not in fields or "range" not in fields:
                continue
            unit = self._unit(key, fields["unit"], f"{here}.unit")
            span = self.src.span(fields["range"], f"{here}.range")
            if unit is not None and span is not None:
                sensors.append(Sensor(parameter=key, unit=unit, range=span))
        return tuple(sensors)

    def _unit(self, parameter: str, node: Node, where: str) -> str | None:
        unit = self.src.string(node, where)
        if unit is None:
            return None
        try:
            parameters.unit_factor(parameter, unit)
        except UnitError as exc:
            self.src.problem(node, f"{where}: {exc}")
            return None
        return unit

    def _station(self, node: Node, index: int) -> Station | None:
        src = self.src
        where = _peek_id(node) or f"stations[{index}]"
        f = src.mapping(
            node, where, required=_STATION_KEYS_REQUIRED, optional=_STATION_KEYS_OPTIONAL
        )
        if f is None:
            return None
        sid = src.string(f["id"], f"{where}.id", pattern=_ID_PATTERN) if "id" in f else None
        where = f"station {sid}" if sid else where
        name = src.string(f["name"], f"{where}.name") if "name" in f else None
        jur = self._jurisdiction(f, where, sid)
        basin = src.string(f["basin"], f"{where}.basin") if "basin" in f else None
        body = self._choice(f, "water_body", where, WaterBody)
        kind = self._choice(f, "kind", where, StationKind)
        interval = self._interval(f, where, kind)
        target = self._target(f, where, kind)
        sensors = self._station_sensors(node, f, where, kind)
        lat = self._optional_number(f, "lat", where, -90.0, 90.0)
        lon = self._optional_number(f, "lon", where, -180.0, 180.0)
        hj212 = self._hj212(f["hj212"], f"{where}.hj212") if "hj212" in f else None
        boundary = self._boundary(f["boundary"], f"{where}.boundary") if "boundary" in f else None
        hydrology = self._hydrology(node, f, where, kind)
        example = src.boolean(f["example"], f"{where}.example") if "example" in f else False
        confirm: tuple[str, ...] | None = ()
        if "confirm" in f:
            confirm = src.strings(f["confirm"], f"{where}.confirm", choices=CONFIRMABLE)
        note = src.string(f["note"], f"{where}.note") if "note" in f else None
        if (
            sid is None
            or name is None
            or jur is None
            or basin is None
            or body is None
            or kind is None
            or interval is None
            or sensors is None
            or example is None
            or confirm is None
            or (kind is StationKind.WATER_QUALITY and target is None)
        ):
            return None
        return Station(
            id=sid,
            name=name,
            jurisdiction=jur,
            basin=basin,
            water_body=body,
            kind=kind,
            interval_minutes=interval,
            sensors=sensors,
            target_class=target,
            lat=lat,
            lon=lon,
            hj212=hj212,
            boundary=boundary,
            hydrology=hydrology,
            example=example,
            confirm=confirm,
            note=note,
            line=int(node.start_mark.line) + 1,
        )

    def _jurisdiction(self, f: dict[str, Node], where: str, sid: str | None) -> Jurisdiction | None:
        if "jurisdiction" not in f:
            return None
        value = self.src.string(
            f["jurisdiction"], f"{where}.jurisdiction", choices=list(Jurisdiction)
        )
        if value is None:
            return None
        if sid is not None and not sid.startswith(f"{value}-"):
            self.src.problem(f["id"], f"{where}: id must start with its jurisdiction {value}-")
        return Jurisdiction(value)

    def _choice(self, f: dict[str, Node], key: str, where: str, enum: type[_E]) -> _E | None:
        if key not in f:
            return None
        value = self.src.string(f[key], f"{where}.{key}", choices=[e.value for e in enum])
        return None if value is None else enum(value)

    def _interval(self, f: dict[str, Node], where: str, kind: StationKind | None) -> int | None:
        if "interval_minutes" in f:
            return self.src.integer(
                f["interval_minutes"], f"{where}.interval_minutes", low=1, high=1440
            )
        if kind is StationKind.HYDROLOGY:
            self.src.problem(None, f"{where}: a hydrology station needs interval_minutes")
            return None
        return WATER_QUALITY_INTERVAL_MINUTES

    def _target(self, f: dict[str, Node], where: str, kind: StationKind | None) -> int | None:
        if "target_class" in f:
            if kind is StationKind.HYDROLOGY:
                self.src.problem(
                    f["target_class"], f"{where}: a hydrology station has no target_class"
                )
                return None
            return self.src.integer(f["target_class"], f"{where}.target_class", low=1, high=5)
        if kind is StationKind.WATER_QUALITY:
            self.src.problem(f.get("id"), f"{where}: missing target_class (1..5)")
        return None

    def _station_sensors(
        self, node: Node, f: dict[str, Node], where: str, kind: StationKind | None
    ) -> tuple[Sensor, ...] | None:
        merged: dict[str, Sensor] = {}
        if "profile" in f:
            profile = self.src.string(f["profile"], f"{where}.profile")
            if profile is not None and profile not in self.profiles:
                known = ", ".join(self.profiles) or "none"
                self.src.problem(
                    f["profile"], f"{where}: unknown profile {profile!r} (known: {known})"
                )
                return None
            if profile is None:
                return None
            merged.update((s.parameter, s) for s in self.profiles[profile])
        if "parameters" in f:
            own = self._sensors(f["parameters"], f"{where}.parameters")
            if own is None:
                return None
            merged.update((s.parameter, s) for s in own)
        if not merged:
            self.src.problem(node, f"{where}: measures nothing (give a profile or parameters)")
            return None
        if kind is StationKind.HYDROLOGY and not {"level", "flow"} & merged.keys():
            self.src.problem(node, f"{where}: a hydrology station measures level or flow")
        return tuple(merged.values())

    def _optional_number(
        self, f: dict[str, Node], key: str, where: str, low: float, high: float
    ) -> float | None:
        if key not in f or is_null(f[key]):
            return None
        return self.src.number(f[key], f"{where}.{key}", low=low, high=high)

    def _hj212(self, node: Node, where: str) -> Hj212Link | None:
        f = self.src.mapping(node, where, required=("mn", "password_ref"))
        if f is None or "mn" not in f or "password_ref" not in f:
            return None
        mn = self.src.string(f["mn"], f"{where}.mn", pattern=_MN_PATTERN)
        ref = self.src.string(
            f["password_ref"], f"{where}.password_ref", pattern=_SECRET_REF_PATTERN
        )
        if mn is None or ref is None:
            return None
        return Hj212Link(mn=mn, password_ref=ref)

    def _boundary(self, node: Node, where: str) -> Boundary | None:
        f = self.src.mapping(node, where, optional=("upstream", "downstream", "shared"))
        if f is None:
            return None
        sides: dict[str, tuple[Jurisdiction, ...]] = {}
        known_problems = len(self.src.problems)
        for key, value in f.items():
            names = self.src.strings(value, f"{where}.{key}", choices=_PROVINCES)
            if names is None:
                return None
            sides[key] = tuple(Jurisdiction(name) for name in names)
        if len(self.src.problems) > known_problems:
            return None
        if not any(sides.values()):
            self.src.problem(node, f"{where}: name at least one jurisdiction")
            return None
        return Boundary(**sides)

    def _hydrology(
        self, node: Node, f: dict[str, Node], where: str, kind: StationKind | None
    ) -> HydrologyLimits | None:
        if "hydrology" not in f:
            if kind is StationKind.HYDROLOGY:
                self.src.problem(node, f"{where}: a hydrology station needs a hydrology block")
            return None
        here = f"{where}.hydrology"
        if kind is StationKind.WATER_QUALITY:
            self.src.problem(f["hydrology"], f"{here}: only for kind hydrology")
            return None
        keys = ("datum", "warning_level", "guaranteed_level", "flow_min", "flow_max")
        h = self.src.mapping(f["hydrology"], here, optional=keys)
        if h is None:
            return None
        values: dict[str, float | None] = {}
        for key in keys[1:]:
            values[key] = self._optional_number(h, key, here, -1.0e6, 1.0e6)
        datum = self.src.string(h["datum"], f"{here}.datum") if "datum" in h else None
        warning, guaranteed = values["warning_level"], values["guaranteed_level"]
        if warning is not None and guaranteed is not None and not warning < guaranteed:
            self.src.problem(
                h["guaranteed_level"], f"{here}: guaranteed_level must be above warning_level"
            )
        low, high = values["flow_min"], values["flow_max"]
        if low is not None and high is not None and not low < high:
            self.src.problem(h["flow_max"], f"{here}: flow_max must be above flow_min")
        return HydrologyLimits(datum=datum, **values)

    def _check_unique(self, stations: list[Station]) -> None:
        for label, key in (
            ("id", lambda s: s.id),
            ("name", lambda s: s.name),
            ("HJ 212 MN", lambda s: s.hj212.mn if s.hj212 else None),
        ):
            first_line: dict[str, int | None] = {}
            for station in stations:
                value = key(station)
                if value is None:
                    continue
                if value in first_line:
                    self.src.problems.append(
                        Problem(
                            self.src.path,
                            station.line,
                            f"duplicate {label} {value!r} (first at line {first_line[value]})",
                        )
                    )
                else:
                    first_line[value] = station.line


def _peek_id(node: Node) -> str | None:
    """``station ID`` for messages about a station mapping, before it is validated."""
    if not isinstance(node, MappingNode):
        return None
    for key, value in node.value:
        if getattr(key, "value", None) == "id" and isinstance(value, ScalarNode) and value.value:
            return f"station {value.value}"
    return None
