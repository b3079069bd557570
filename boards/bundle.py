"""TEMPORARY: contract 2's bundle types until h-boards' boards/bundle.py is merged."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Folder:
    uid: str
    title: str
    party: str | None


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
        model: dict[str, Any] = {
            "uid": self.uid,
            "name": self.name,
            "type": "influxdb",
            "access": "proxy",
            "url": self.url,
            "jsonData": {"version": "Flux", "organization": self.org, "defaultBucket": self.bucket},
        }
        if token is not None:
            model["secureJsonData"] = {"token": token}
        return model


@dataclass(frozen=True)
class Board:
    folder_uid: str
    dashboard: dict[str, Any]


@dataclass(frozen=True)
class Bundle:
    folders: tuple[Folder, ...]
    teams: tuple[Team, ...]
    datasources: tuple[Datasource, ...]
    boards: tuple[Board, ...]


def bundle(settings: Any, registry: Any, sharing: Any) -> Bundle:
    raise NotImplementedError("temporary: h-boards' bundle() replaces this module")
