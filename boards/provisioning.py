"""``basin boards build``: the bundle as files for Grafana's file provisioning.

Layout of ``DIR``::

    dashboards/<folder uid>/<dashboard uid>.json   sorted keys, one per board
    provisioning/datasources/basinwatch.yaml       one InfluxDB Flux datasource per party view,
                                                   its token from $BASIN_VIEW_TOKEN_<P>
    provisioning/dashboards/basinwatch.yaml        one file provider per folder

Grafana expands ``$VAR`` in provisioning files from its own environment, so no token is written.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from boards.bundle import Bundle


def dashboard_json(dashboard: dict[str, Any]) -> str:
    return json.dumps(dashboard, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def datasources_yaml(bundle: Bundle) -> dict[str, Any]:
    sources = []
    for ds in bundle.datasources:
        model = ds.model(f"${{{ds.token_env}}}")
        sources.append(
            {
                "name": model["name"],
                "uid": model["uid"],
                "type": model["type"],
                "access": model["access"],
                "url": model["url"],
                "orgId": 1,
                "isDefault": False,
                "editable": False,
                "jsonData": model["jsonData"],
                "secureJsonData": model["secureJsonData"],
            }
        )
    return {"apiVersion": 1, "datasources": sources}


def providers_yaml(bundle: Bundle, dashboards_dir: Path) -> dict[str, Any]:
    return {
        "apiVersion": 1,
        "providers": [
            {
                "name": f"basinwatch {folder.uid}",
                "orgId": 1,
                "folder": folder.title,
                "folderUid": folder.uid,
                "type": "file",
                "disableDeletion": False,
                "allowUiUpdates": False,
                "options": {"path": str(dashboards_dir / folder.uid)},
            }
            for folder in bundle.folders
        ],
    }


def write(bundle: Bundle, out: Path) -> list[Path]:
    """Write the bundle under ``out``; the files written, in order."""
    written: list[Path] = []
    dashboards = (out / "dashboards").resolve()
    for board in bundle.boards:
        path = dashboards / board.folder_uid / f"{board.uid}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dashboard_json(board.dashboard), encoding="utf-8")
        written.append(path)
    for name, doc in (
        ("datasources", datasources_yaml(bundle)),
        ("dashboards", providers_yaml(bundle, dashboards)),
    ):
        path = out / "provisioning" / name / "basinwatch.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=True), encoding="utf-8")
        written.append(path)
    return written
