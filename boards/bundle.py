"""Everything a Grafana needs, as one value shared by ``basin boards build`` and ``push``
(contract 2): folders, teams, datasources and dashboards.

Folders: one per party (``bw-{p}``), holding the party's copies of all six boards bound to
its view's datasource, and the shared one (``bw-shared``) holding the basin-wide boards
(overview, station and cross-boundary sections; the alert messages link to its station board)
with a ``datasource`` variable, so each viewer reads them through a view it may read.
Permissions: each party's team may view its own folder and the shared one.

Isolation: in Grafana OSS every member of an org can query every datasource of the org
(datasource permissions are an Enterprise feature). What enforces the sharing list is InfluxDB:
each datasource carries a read token scoped to one party's view bucket. For strict isolation
inside Grafana too, give each party its own org (docs/boards.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from boards import alerts, cross_boundary, jurisdiction, overview, quality, station
from boards.context import BoardContext, datasource_uid
from stations.jurisdictions import Jurisdiction
from stations.registry import Registry
from stations.sharing.grants import SharingList
from streams.store.views import view_bucket

SHARED_FOLDER = "bw-shared"
Builder = Callable[[BoardContext], dict[str, Any]]
#: The boards of a party's folder, and of the shared folder.
PARTY_BOARDS: tuple[Builder, ...] = (
    overview.build,
    jurisdiction.build,
    station.build,
    quality.build,
    cross_boundary.build,
    alerts.build,
)
SHARED_BOARDS: tuple[Builder, ...] = (overview.build, station.build, cross_boundary.build)


def folder_uid(party: Jurisdiction | None) -> str:
    return SHARED_FOLDER if party is None else f"bw-{party.value.lower()}"


@dataclass(frozen=True)
class Folder:
    uid: str
    title: str
    party: str | None  # None = the shared folder


@dataclass(frozen=True)
class Team:
    name: str
    party: str


@dataclass(frozen=True)
class Datasource:
    uid: str
    name: str
    party: str
    bucket: str
    token_env: str
    url: str
    org: str

    def model(self, token: str | None) -> dict[str, Any]:
        """Grafana's datasource JSON (``POST /api/datasources``); the token only when given."""
        model: dict[str, Any] = {
            "uid": self.uid,
            "name": self.name,
            "type": "influxdb",
            "access": "proxy",
            "url": self.url,
            "isDefault": False,
            "jsonData": {
                "version": "Flux",
                "organization": self.org,
                "defaultBucket": self.bucket,
            },
        }
        if token is not None:
            model["secureJsonData"] = {"token": token}
        return model


@dataclass(frozen=True)
class Board:
    folder_uid: str
    dashboard: dict[str, Any]

    @property
    def uid(self) -> str:
        return str(self.dashboard["uid"])


@dataclass(frozen=True)
class Bundle:
    folders: tuple[Folder, ...]
    teams: tuple[Team, ...]
    datasources: tuple[Datasource, ...]
    boards: tuple[Board, ...]

    def permissions(self) -> dict[str, tuple[str, ...]]:
        """Folder uid -> the team names that may view it."""
        out: dict[str, tuple[str, ...]] = {}
        for folder in self.folders:
            if folder.party is None:
                out[folder.uid] = tuple(t.name for t in self.teams)
            else:
                out[folder.uid] = tuple(t.name for t in self.teams if t.party == folder.party)
        return out


def visible(registry: Registry, sharing: SharingList, party: Jurisdiction) -> BoardContext:
    """A party's copy: its own stations and those the sharing list shares with it."""
    ids = {g.station for g in sharing.grants_for(party)}
    ids |= {s.id for s in registry if s.jurisdiction is party}
    return BoardContext(party, tuple(s for s in registry if s.id in ids))


def bundle(settings: Any, registry: Registry, sharing: SharingList) -> Bundle:
    """Folders, teams, datasources and boards for ``settings``' InfluxDB and the given list."""
    parties = tuple(Jurisdiction)
    folders = [Folder(SHARED_FOLDER, "basinwatch 共享 Shared", None)]
    folders += [Folder(folder_uid(p), f"basinwatch {p.value}", p.value) for p in parties]
    teams = tuple(Team(f"basinwatch-{p.value.lower()}", p.value) for p in parties)
    datasources = tuple(
        Datasource(
            uid=datasource_uid(p),
            name=f"basinwatch {p.value}",
            party=p.value,
            bucket=view_bucket(settings.influx_bucket, p.value),
            token_env=f"BASIN_VIEW_TOKEN_{p.value}",
            url=settings.influx_url,
            org=settings.influx_org,
        )
        for p in parties
    )
    boards = [
        Board(SHARED_FOLDER, build(BoardContext(None, tuple(registry)))) for build in SHARED_BOARDS
    ]
    for p in parties:
        ctx = visible(registry, sharing, p)
        boards += [Board(folder_uid(p), build(ctx)) for build in PARTY_BOARDS]
    return Bundle(tuple(folders), teams, datasources, tuple(boards))
