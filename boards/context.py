"""What a board is built for: the datasource it reads, the party, and the stations it may show.

A party's boards read the party's view (contract 1) and list the stations of its view: its own
and those the sharing list shares with it. The basin-wide boards of the shared folder read the
datasource the viewer picks (the ``datasource`` variable) and list every station.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from boards.flux import Scalar, array_rows, dictionary
from stations.jurisdictions import Jurisdiction
from stations.station import Station, StationKind

#: The dashboard variable that picks the datasource on the shared boards.
DATASOURCE_VARIABLE = "datasource"


def datasource_uid(party: Jurisdiction | str) -> str:
    """Contract 1: the Grafana datasource of a party's view."""
    return f"bw-influx-{Jurisdiction(party).value.lower()}"


@dataclass(frozen=True)
class BoardContext:
    """One copy of the boards: for a party (its folder) or basin-wide (``party`` None)."""

    party: Jurisdiction | None
    stations: tuple[Station, ...]

    @property
    def datasource(self) -> str:
        """The datasource uid of every panel (a variable on the shared boards)."""
        if self.party is None:
            return f"${{{DATASOURCE_VARIABLE}}}"
        return datasource_uid(self.party)

    def uid(self, board: str) -> str:
        """The board's uid: ``bw-{board}`` basin-wide, ``bw-{board}-{party}`` in a party folder."""
        suffix = "" if self.party is None else f"-{self.party.value.lower()}"
        return f"bw-{board}{suffix}"

    def title(self, title: str) -> str:
        return title if self.party is None else f"{title} · {self.party.value}"

    @property
    def water_quality(self) -> tuple[Station, ...]:
        return tuple(s for s in self.stations if s.kind is StationKind.WATER_QUALITY)

    @property
    def located(self) -> tuple[Station, ...]:
        return tuple(s for s in self.stations if s.lat is not None and s.lon is not None)


def expected_rows(
    stations: tuple[Station, ...], columns: Mapping[str, Scalar], names: bool = True
) -> str:
    """``array.from`` of one row per station (id, name, jurisdiction) plus ``columns``: unioned
    with a query's rows, it makes a station without data show up (as a zero or the epoch)."""
    rows = [
        {"station": s.id, "jurisdiction": s.jurisdiction.value, **columns}
        | ({"station_name": s.name} if names else {})
        for s in stations
    ]
    return (
        array_rows(rows)
        if rows
        else 'array.from(rows: [{station: "", jurisdiction: ""}]) |> filter(fn: (r) => false)'
    )


def intervals(name: str, stations: tuple[Station, ...]) -> str:
    """A Flux dictionary of each station's reporting interval in minutes."""
    return dictionary(name, {s.id: s.interval_minutes for s in stations}, 240)
