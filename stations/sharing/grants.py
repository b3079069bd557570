"""What each party sees of each station: the resolved sharing list, as grants.

A :class:`Grant` says that one party sees one station's data of one kind (a parameter's values,
its QC flags, its classes or its alerts), at a granularity and after a delay. A
:class:`SharingList` holds every grant of one year's list:

- a party sees its own stations' data in full, in real time (:attr:`Basis.OWN`);
- the parties of a cross-boundary section see that section in full, in real time, whatever the
  owner's items say (:attr:`Basis.CROSS_BOUNDARY`);
- everything else a party sees is what an owner's item shares with it (:attr:`Basis.LIST`).

>>> grants = sharing.grants_for(Jurisdiction.ZJ)           # doctest: +SKIP
>>> sharing.audience("JS-TH-028", "tp")[Jurisdiction.ZJ]     # doctest: +SKIP
Grant(owner=JS, party=ZJ, station='JS-TH-028', data='tp', granularity=REALTIME, ...)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from functools import cached_property
from types import MappingProxyType

from stations.jurisdictions import Jurisdiction
from stations.registry import Registry
from stations.standard.gb3838 import WaterBody
from stations.station import Station, StationKind

#: Data that are not one parameter's values: QC flags with their reasons, GB 3838 classes (of
#: each value and of the report, with target met), alerts and breach events.
QC, CLASS, ALERTS = "qc", "class", "alerts"
#: In an item's ``data:``, every parameter the station measures.
ALL_PARAMETERS = "parameters"
#: Flags and events, never averaged: shared in real time only (a delay may hold them back).
NOT_AVERAGED = (QC, ALERTS)


class Granularity(StrEnum):
    """Every value as reported, or the means of an hour or of a day (Beijing time)."""

    REALTIME = "realtime"
    HOURLY = "hourly"
    DAILY = "daily"

    @property
    def window(self) -> timedelta | None:
        """The averaging window; None for real time."""
        return {"hourly": timedelta(hours=1), "daily": timedelta(days=1)}.get(self.value)

    @property
    def label(self) -> str:
        return {"realtime": "real time", "hourly": "hourly means", "daily": "daily means"}[self]


def terms(granularity: Granularity, delay_hours: int) -> str:
    """``real time at once``, ``daily means after 24 h``."""
    return f"{granularity.label} {f'after {delay_hours} h' if delay_hours else 'at once'}"


class Basis(StrEnum):
    """Why a party sees something."""

    OWN = "own"
    LIST = "list"
    CROSS_BOUNDARY = "cross_boundary"


class Selector(StrEnum):
    """Names for a group of an owner's stations in an item's ``stations:`` and ``excluding:``."""

    ALL = "all"
    LAKE = "lake"  # water-quality sections on a lake or reservoir
    RIVER = "river"  # water-quality sections on a river
    CROSS_BOUNDARY = "cross_boundary"
    HYDROLOGY = "hydrology"

    def selects(self, station: Station) -> bool:
        quality = station.kind is StationKind.WATER_QUALITY
        return {
            Selector.ALL: True,
            Selector.LAKE: quality and station.water_body is WaterBody.LAKE,
            Selector.RIVER: quality and station.water_body is WaterBody.RIVER,
            Selector.CROSS_BOUNDARY: station.cross_boundary,
            Selector.HYDROLOGY: station.kind is StationKind.HYDROLOGY,
        }[self]


def station_data(station: Station) -> tuple[str, ...]:
    """Everything a station gives: its parameters, then qc, class (water quality), alerts."""
    classed = (CLASS,) if station.kind is StationKind.WATER_QUALITY else ()
    return (*station.parameters, QC, *classed, ALERTS)


def data_of(names: Iterable[str], station: Station) -> tuple[str, ...]:
    """Those of ``names`` (data names, ``parameters`` for all) that a station gives, in order."""
    wanted = set(names)
    if ALL_PARAMETERS in wanted:
        wanted |= set(station.parameters)
    return tuple(name for name in station_data(station) if name in wanted)


def boundary_parties(station: Station) -> tuple[Jurisdiction, ...]:
    """The parties of a cross-boundary section other than its owner (none for other stations)."""
    if station.boundary is None:
        return ()
    b = station.boundary
    found: list[Jurisdiction] = []
    for party in (*b.upstream, *b.downstream, *b.shared):
        if party is not station.jurisdiction and party not in found:
            found.append(party)
    return tuple(found)


@dataclass(frozen=True)
class Grant:
    """One station's data of one kind (a parameter key, qc, class or alerts) seen by a party."""

    owner: Jurisdiction
    party: Jurisdiction
    station: str
    data: str
    granularity: Granularity = Granularity.REALTIME
    delay_hours: int = 0
    basis: Basis = Basis.LIST
    line: int | None = None  # the line of the item in the sharing file (basis list)

    @property
    def delay(self) -> timedelta:
        return timedelta(hours=self.delay_hours)

    @property
    def terms(self) -> str:
        """``real time at once``, ``daily means after 24 h``."""
        return terms(self.granularity, self.delay_hours)


@dataclass(frozen=True)
class Item:
    """One item of an owner, resolved: the stations it selects, the parties it names."""

    owner: Jurisdiction
    stations: tuple[str, ...]
    data: tuple[str, ...]
    shared_with: tuple[Jurisdiction, ...]
    granularity: Granularity = Granularity.REALTIME
    delay_hours: int = 0
    confirm: tuple[str, ...] = ()
    line: int | None = None


@dataclass(frozen=True)
class SharingList:
    """One year's sharing list, resolved against a registry into grants (:func:`resolve`)."""

    path: str
    year: int
    example: bool
    agreed: str | None
    registry: Registry
    items: tuple[Item, ...]

    @cached_property
    def grants(self) -> tuple[Grant, ...]:
        """Every grant, by owner, station (registry order), data (station order), party."""
        return resolve(self.registry, self.items)

    @cached_property
    def _by_party(self) -> Mapping[Jurisdiction, tuple[Grant, ...]]:
        return MappingProxyType(
            {party: tuple(g for g in self.grants if g.party is party) for party in Jurisdiction}
        )

    @cached_property
    def _by_data(self) -> Mapping[tuple[str, str], Mapping[Jurisdiction, Grant]]:
        found: dict[tuple[str, str], dict[Jurisdiction, Grant]] = {}
        for grant in self.grants:
            found.setdefault((grant.station, grant.data), {})[grant.party] = grant
        return MappingProxyType({key: MappingProxyType(v) for key, v in found.items()})

    def grants_for(self, party: Jurisdiction) -> tuple[Grant, ...]:
        """Everything ``party`` sees, its own data included, by owner, station and data."""
        return self._by_party[Jurisdiction(party)]

    def received(self, party: Jurisdiction) -> dict[Jurisdiction, tuple[Grant, ...]]:
        """What ``party`` sees, grouped by owner: the party itself first, then the others."""
        party = Jurisdiction(party)
        grouped: dict[Jurisdiction, list[Grant]] = {party: []}
        for grant in self.grants_for(party):
            grouped.setdefault(grant.owner, []).append(grant)
        return {owner: tuple(grants) for owner, grants in grouped.items() if grants}

    def audience(self, station: str, data: str) -> Mapping[Jurisdiction, Grant]:
        """Who sees a station's data of one kind, and how (the owner always, in full).

        UnknownStationError for a station not in the registry; empty for data it does not give.
        """
        self.registry.get(station)
        return self._by_data.get((station, data), MappingProxyType({}))

    @property
    def to_confirm(self) -> tuple[Item, ...]:
        """The items with fields whose value is an example default."""
        return tuple(item for item in self.items if item.confirm)


def resolve(registry: Registry, items: Iterable[Item]) -> tuple[Grant, ...]:
    """Every grant: own data, then the items (the first wins), then the cross-boundary rule
    (which overrides the items)."""
    grants: dict[tuple[str, str, Jurisdiction], Grant] = {}
    for station in registry:
        owner = station.jurisdiction
        for data in station_data(station):
            grants[(station.id, data, owner)] = Grant(
                owner, owner, station.id, data, basis=Basis.OWN
            )
    for item in items:
        for station_id in item.stations:
            for data in data_of(item.data, registry.get(station_id)):
                for party in item.shared_with:
                    grant = Grant(
                        item.owner,
                        party,
                        station_id,
                        data,
                        item.granularity,
                        item.delay_hours,
                        line=item.line,
                    )
                    grants.setdefault((station_id, data, party), grant)
    for station in registry:
        for party in boundary_parties(station):
            for data in station_data(station):
                rule = Basis.CROSS_BOUNDARY
                grant = Grant(station.jurisdiction, party, station.id, data, basis=rule)
                grants[(station.id, data, party)] = grant
    order = {station.id: n for n, station in enumerate(registry)}
    rank = {party: n for n, party in enumerate(Jurisdiction)}

    def key(grant: Grant) -> tuple[int, int, int, int]:
        gives = station_data(registry.get(grant.station))
        where = (rank[grant.owner], order[grant.station])
        return (*where, gives.index(grant.data), rank[grant.party])

    return tuple(sorted(grants.values(), key=key))
