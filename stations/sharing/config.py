"""The data-sharing list (数据共享清单) as data: ``stations/data/sharing.yaml`` loaded into
:class:`~stations.sharing.grants.SharingList` s, one per year.

The file's model is :class:`SharingFile` (the schema is in the file's header). It is validated
against the station registry: unknown stations, parties and parameters, a station listed under
another owner, data no selected station gives, and the same station and data shared twice by an
owner with the same party at a different granularity or delay all fail loudly: one
:class:`~stations.errors.SharingError` lists every problem with file and line.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Self

from pydantic import AfterValidator, PlainValidator, ValidationInfo, model_validator
from pydantic_core import PydanticKnownError

from stations import DATA_DIR, parameters
from stations.errors import Problem, SharingError
from stations.jurisdictions import Jurisdiction
from stations.registry import Registry
from stations.schema import (
    Problems,
    Spec,
    Text,
    Version,
    choice,
    invalid,
    names,
    non_empty,
    within,
)
from stations.sharing.grants import (
    ALERTS,
    ALL_PARAMETERS,
    CLASS,
    NOT_AVERAGED,
    QC,
    Granularity,
    Item,
    Selector,
    SharingList,
    data_of,
    terms,
)
from stations.station import Station
from stations.yamlsource import Loc, YamlSource, dotted

#: The sharing list shipped in the package.
DEFAULT_SHARING = DATA_DIR / "sharing.yaml"

#: The longest delay an item may give, in hours (30 days).
MAX_DELAY_HOURS = 720

#: What a ``confirm:`` list may name (fields whose value is an example default).
CONFIRMABLE = ("stations", "excluding", "data", "shared_with", "granularity", "delay_hours")

#: In ``shared_with:``, every party but the owner.
EVERYONE = "all"


def load_sharing(
    path: str | Path | None = None,
    *,
    registry: Registry,
    year: int | None = None,
    text: str | None = None,
) -> SharingList:
    """One year's list (default: the newest in the file) of a sharing file (default: shipped)."""
    lists = load_sharing_years(path, registry=registry, text=text)
    chosen = max(lists) if year is None else year
    if chosen not in lists:
        have = ", ".join(str(y) for y in sorted(lists))
        source = str(path or DEFAULT_SHARING)
        raise SharingError([Problem(source, None, f"no list for {chosen} (lists: {have})")])
    return lists[chosen]


def load_sharing_years(
    path: str | Path | None = None, *, registry: Registry, text: str | None = None
) -> dict[int, SharingList]:
    """Every year's list of a sharing file, each validated against the registry."""
    source = YamlSource(path or DEFAULT_SHARING, text, name="sharing", where=_where)
    spec = source.load(SharingFile, context={"registry": registry})
    source.raise_if_problems(SharingError)
    assert spec is not None
    lists: dict[int, SharingList] = {}
    for year, listed in spec.years.items():

        def line(loc: Loc, year: str = year) -> int | None:
            return source.line_at(("years", year, *loc))

        lists[int(year)] = listed.build(int(year), source.path, registry, line)
    return lists


def check_sharing(path: str | Path | None = None, *, registry: Registry) -> list[Problem]:
    """Every problem of a sharing file (empty when it is valid)."""
    try:
        load_sharing_years(path, registry=registry)
    except SharingError as exc:
        return list(exc.problems)
    return []


def _where(path: Loc, data: Any) -> str | None:
    """``2021 JS item 3.data[1]``; ``2021.example``."""
    if len(path) < 2 or path[0] != "years":
        return None
    head, rest = str(path[1]), path[2:]
    if len(rest) >= 3 and rest[0] == "owners" and isinstance(rest[2], int):
        return dotted(rest[3:], f"{head} {rest[1]} item {rest[2] + 1}")
    return dotted(rest, head)


# --- the file's model ---------------------------------------------------------------------


def _refs(value: Any, check: Callable[[str], str | None]) -> tuple[str, ...]:
    """One string or a list of them, each passing ``check`` (a problem, or None); none twice."""
    if isinstance(value, str):
        value = (value,)
    if not isinstance(value, tuple):
        raise PydanticKnownError("tuple_type")
    found = Problems()
    for index, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            found.add("expected a name, not empty", loc=(index,))
        elif item in value[:index]:
            found.add(f"{item!r} is listed twice", loc=(index,))
        elif (message := check(item)) is not None:
            found.add(message, loc=(index,))
    found.raise_any()
    return value


_SELECTOR_NAMES = frozenset(s.value for s in Selector)
_SELECTORS = ", ".join(s.value for s in Selector)
_EXTRAS = (ALL_PARAMETERS, QC, CLASS, ALERTS)
_PARTIES = [j.value for j in Jurisdiction]


def _data_name(name: str) -> str | None:
    if name in parameters.PARAMETERS or name in _EXTRAS:
        return None
    known = ", ".join(parameters.PARAMETERS)
    return f"unknown parameter {name!r} (parameters: {known}; or {', '.join(_EXTRAS)})"


def _party_name(name: str) -> str | None:
    if name in _PARTIES or name == EVERYONE:
        return None
    return f"unknown party {name!r} (one of {', '.join(_PARTIES)}, or {EVERYONE})"


def _everyone_alone(parties: tuple[str, ...]) -> tuple[str, ...]:
    if EVERYONE in parties and len(parties) > 1:
        raise invalid(f"{EVERYONE!r} already names every party")
    return parties


def _stations(value: Any, info: ValidationInfo) -> tuple[str, ...]:
    registry: Registry = (info.context or {})["registry"]

    def known(ref: str) -> str | None:
        if ref in registry or ref in _SELECTOR_NAMES:
            return None
        return f"unknown station {ref!r} (not in the registry; selectors: {_SELECTORS})"

    return _refs(value, known)


#: Station ids (in the registry) or selectors.
StationRefs = Annotated[tuple[str, ...], PlainValidator(_stations)]
DataRefs = Annotated[
    tuple[str, ...], PlainValidator(lambda v: _refs(v, _data_name)), non_empty("list some data")
]
Parties = Annotated[
    tuple[str, ...],
    PlainValidator(lambda v: _refs(v, _party_name)),
    non_empty("name a party"),
    AfterValidator(_everyone_alone),
]


class ItemSpec(Spec):
    """One item of an owner: which stations, which data, shared with whom, how soon."""

    stations: Annotated[StationRefs, non_empty("select some stations")]
    excluding: StationRefs = ()
    data: DataRefs
    shared_with: Parties
    granularity: Annotated[Granularity, choice(Granularity)] = Granularity.REALTIME
    delay_hours: Annotated[int, within(0, MAX_DELAY_HOURS)] = 0
    confirm: Annotated[tuple[str, ...], names(choices=CONFIRMABLE)] = ()
    note: Text | None = None

    @model_validator(mode="after")
    def _averaged(self) -> Self:
        found = Problems()
        if self.granularity is not Granularity.REALTIME:
            for index, name in enumerate(self.data):
                if name in NOT_AVERAGED:
                    message = f"{name} is not averaged: share it in real time (delayed or not)"
                    found.add(message, loc=("data", index))
        found.raise_any()
        return self

    def selection(
        self, owner: Jurisdiction, registry: Registry, found: Problems, where: Loc = ()
    ) -> list[Station]:
        """The owner's stations the item selects, in registry order; problems into ``found``
        (``where``: the item's place in the value being validated)."""
        owned = [s for s in registry if s.jurisdiction is owner]
        elsewhere = False

        def resolve(key: str) -> set[str]:
            nonlocal elsewhere
            chosen: set[str] = set()
            for index, ref in enumerate(getattr(self, key)):
                if ref in _SELECTOR_NAMES:
                    chosen |= {s.id for s in owned if Selector(ref).selects(s)}
                    continue
                station = registry.get(ref)
                if station.jurisdiction is not owner:
                    elsewhere = True
                    message = f"station {ref} belongs to {station.jurisdiction}: list it there"
                    found.add(message, loc=(*where, key, index))
                chosen.add(ref)
            return chosen

        chosen = resolve("stations") - resolve("excluding")
        stations = [s for s in owned if s.id in chosen]
        if not stations and not elsewhere:
            found.add(f"selects none of {owner}'s stations", loc=(*where, "stations"))
        return stations

    def data_of(self, station: Station) -> tuple[str, ...]:
        """The item's data that the station gives, in the station's order."""
        return data_of(self.data, station)

    def parties(self, owner: Jurisdiction) -> tuple[Jurisdiction, ...]:
        """The parties the item names (``all``: every party but the owner)."""
        if EVERYONE in self.shared_with:
            return tuple(j for j in Jurisdiction if j is not owner)
        return tuple(Jurisdiction(name) for name in self.shared_with)


def _owner(code: Any) -> Jurisdiction:
    if code not in _PARTIES:
        raise invalid(f"unknown owner {code!r} (one of {', '.join(_PARTIES)})", hides=True)
    return Jurisdiction(code)


def _year(key: str) -> str:
    if not (key.isdigit() and 2000 <= int(key) <= 2100):
        raise invalid(f"{key!r} is not a year (2000..2100)", hides=True)
    return key


class YearSpec(Spec):
    """One year's list."""

    example: bool = False
    agreed: Text | None = None
    note: Text | None = None
    owners: Annotated[
        dict[
            Annotated[Jurisdiction, PlainValidator(_owner)],
            Annotated[tuple[ItemSpec, ...], non_empty("list the owner's items, or leave it out")],
        ],
        non_empty("list the items of at least one owner"),
    ]

    @model_validator(mode="after")
    def _resolvable(self, info: ValidationInfo) -> Self:
        registry: Registry = (info.context or {})["registry"]
        found = Problems()
        for owner, items in self.owners.items():
            selections = []
            for index, item in enumerate(items):
                where = ("owners", owner.value, index)
                stations = item.selection(owner, registry, found, where)
                selections.append(stations)
                if owner.value in item.shared_with:
                    at = item.shared_with.index(owner.value)
                    message = f"{owner} sees its own data in full: do not share with it"
                    found.add(message, loc=(*where, "shared_with", at))
                for at, name in enumerate(item.data):
                    if name == ALL_PARAMETERS or not stations:
                        continue
                    if not any(name in item.data_of(s) for s in stations):
                        what = "has a class" if name == CLASS else f"measures {name}"
                        message = f"none of the selected stations {what}"
                        found.add(message, loc=(*where, "data", at))
            _clashes(owner, items, selections, found)
        found.raise_any()
        return self

    def build(
        self, year: int, path: str, registry: Registry, line: Callable[[Loc], int | None]
    ) -> SharingList:
        items: list[Item] = []
        for owner, specs in self.owners.items():
            for index, spec in enumerate(specs):
                stations = spec.selection(owner, registry, Problems())  # valid: no problems
                items.append(
                    Item(
                        owner=owner,
                        stations=tuple(s.id for s in stations),
                        data=spec.data,
                        shared_with=spec.parties(owner),
                        granularity=spec.granularity,
                        delay_hours=spec.delay_hours,
                        confirm=spec.confirm,
                        line=line(("owners", owner.value, index)),
                    )
                )
        return SharingList(
            path=path,
            year=year,
            example=self.example,
            agreed=self.agreed,
            registry=registry,
            items=tuple(items),
        )


_Shared = tuple[str, str, Jurisdiction]  # station id, data, party


def _clashes(
    owner: Jurisdiction,
    items: tuple[ItemSpec, ...],
    selections: list[list[Station]],
    found: Problems,
) -> None:
    """One problem per later item sharing something an earlier one shares on other terms."""
    first: dict[_Shared, int] = {}
    clashes: dict[tuple[int, int], list[_Shared]] = {}
    for index, (item, stations) in enumerate(zip(items, selections, strict=True)):
        for station in stations:
            for data in item.data_of(station):
                for party in item.parties(owner):
                    earlier = first.setdefault((station.id, data, party), index)
                    if _terms(items[earlier]) != _terms(item):
                        clashes.setdefault((earlier, index), []).append((station.id, data, party))
    for (earlier, later), shared in clashes.items():
        station_id, data, _ = shared[0]
        parties = ", ".join(sorted({party.value for _, _, party in shared}))
        more = f" and {len(shared) - 1} more" if len(shared) > 1 else ""
        here, there = (terms(*_terms(items[n])) for n in (later, earlier))
        message = f"shares {station_id} {data}{more} with {parties} as {here}, but item "
        found.add(
            f"{message}{earlier + 1} shares it as {there}",
            loc=("owners", owner.value, later),
            first=("owners", owner.value, earlier),
        )


def _terms(item: ItemSpec) -> tuple[Granularity, int]:
    return (item.granularity, item.delay_hours)


class SharingFile(Spec):
    """sharing.yaml (the schema is in its header)."""

    version: Version
    years: Annotated[
        dict[Annotated[str, AfterValidator(_year)], YearSpec], non_empty("give one year's list")
    ]
