"""Every dashboard of the bundle: valid against Grafana 11.6's dashboard schema, decoded and
re-encoded by the foundation SDK unchanged, stable uids, panels that do not overlap, and every
target a Flux query on a datasource of the bundle."""

from __future__ import annotations

import itertools
import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from click.testing import CliRunner
from grafana_foundation_sdk.models.dashboard import Dashboard

from alerts.config import load_alerts_config
from boards.bundle import SHARED_FOLDER, Bundle, bundle
from boards.panels import FluxQuery, to_json
from stations.registry import load_registry
from stations.sharing.config import load_sharing
from streams.cli import main
from streams.cli.common import SettingsInfo
from streams.settings import Settings

SCHEMA = Path(__file__).parents[2] / "data" / "grafana" / "dashboard-11.6.0.schema.json"
PARTIES = ("js", "zj", "sh", "ah", "tba")
BOARDS = ("overview", "jurisdiction", "station", "quality", "boundary", "alerts")


@cache
def shipped() -> Bundle:
    registry = load_registry()
    return bundle(Settings(_env_file=None), registry, load_sharing(registry=registry))


def dashboards() -> list[dict[str, Any]]:
    return [board.dashboard for board in shipped().boards]


def ids(boards: list[dict[str, Any]]) -> list[str]:
    return [str(b["uid"]) for b in boards]


def test_the_uids_are_the_stable_ones() -> None:
    expected = {"bw-overview", "bw-station", "bw-boundary"} | {
        f"bw-{board}-{party}" for board in BOARDS for party in PARTIES
    }
    assert set(ids(dashboards())) == expected
    assert len(ids(dashboards())) == len(expected)
    assert all(len(uid) <= 40 for uid in expected)
    by_folder = {(b.folder_uid, b.uid) for b in shipped().boards}
    assert ("bw-zj", "bw-station-zj") in by_folder
    assert (SHARED_FOLDER, "bw-overview") in by_folder


@pytest.mark.parametrize("board", dashboards(), ids=ids(dashboards()))
def test_passes_grafanas_dashboard_schema(board: dict[str, Any]) -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator(schema).validate(board)


@pytest.mark.parametrize("board", dashboards(), ids=ids(dashboards()))
def test_round_trips_through_the_sdk(board: dict[str, Any]) -> None:
    decoded = Dashboard.from_json(board)
    targets = [t for panel in decoded.panels or [] for t in getattr(panel, "targets", None) or []]
    assert targets and all(isinstance(target, FluxQuery) for target in targets)
    assert to_json(decoded) == board


@pytest.mark.parametrize("board", dashboards(), ids=ids(dashboards()))
def test_panels_do_not_overlap_and_query_a_known_datasource(board: dict[str, Any]) -> None:
    known = {d.uid for d in shipped().datasources}
    variables = {v["name"] for v in board.get("templating", {}).get("list", [])}
    cells: set[tuple[int, int]] = set()
    for panel in board["panels"]:
        pos = panel["gridPos"]
        assert pos["x"] + pos["w"] <= 24, panel["title"]
        mine = set(
            itertools.product(
                range(pos["x"], pos["x"] + pos["w"]), range(pos["y"], pos["y"] + pos["h"])
            )
        )
        assert not cells & mine, f"{board['uid']}: {panel['title']} overlaps"
        cells |= mine
        assert panel["targets"], panel["title"]
        for target in [*panel["targets"], {"datasource": panel["datasource"], "query": "x"}]:
            uid = target["datasource"]["uid"]
            assert target["datasource"]["type"] == "influxdb"
            assert uid in known or (uid == "${datasource}" and "datasource" in variables)
            assert target["query"].strip()
    assert len({p["id"] for p in board["panels"]}) == len(board["panels"])


def test_the_map_says_how_many_stations_it_shows() -> None:
    board = next(b for b in dashboards() if b["uid"] == "bw-overview")
    registry = load_registry()
    located = sum(1 for s in registry if s.lat is not None)
    (geomap,) = [p for p in board["panels"] if p["type"] == "geomap"]
    assert f"{located}/{len(registry)} 站有坐标" in geomap["title"]
    table = next(p for p in board["panels"] if p["title"].startswith("无坐标站点"))
    assert f"({len(registry) - located})" in table["title"]


def test_the_alert_link_opens_the_station_board_on_the_station() -> None:
    config = load_alerts_config()
    assert config.board_url is not None
    assert config.board_url.endswith("/d/bw-station")
    from alerts.messages import board_link

    assert board_link(config.board_url, "JS-TH-028") == (
        f"{config.board_url}?var-station=JS-TH-028"
    )
    station = next(b for b in dashboards() if b["uid"] == "bw-station")
    names = [v["name"] for v in station["templating"]["list"]]
    assert names == ["datasource", "station"]
    options = station["templating"]["list"][1]["query"]
    assert "西山 : JS-TH-028" in options.split(", ")


def test_build_writes_sorted_dashboards_and_provisioning(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        ["boards", "build", "--out", str(tmp_path)],
        obj=SettingsInfo(Settings(_env_file=None)),
    )
    assert result.exit_code == 0, result.output
    assert "33 dashboards in 6 folders, 5 datasources" in result.output
    path = tmp_path / "dashboards" / "bw-zj" / "bw-station-zj.json"
    text = path.read_text(encoding="utf-8")
    assert text == json.dumps(json.loads(text), ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    sources = yaml.safe_load((tmp_path / "provisioning/datasources/basinwatch.yaml").read_text())
    zj = next(d for d in sources["datasources"] if d["uid"] == "bw-influx-zj")
    assert zj["secureJsonData"] == {"token": "${BASIN_VIEW_TOKEN_ZJ}"}
    assert zj["jsonData"] == {
        "version": "Flux",
        "organization": "basinwatch",
        "defaultBucket": "basinwatch-zj",
    }
    providers = yaml.safe_load((tmp_path / "provisioning/dashboards/basinwatch.yaml").read_text())
    folders = {p["folderUid"]: p["options"]["path"] for p in providers["providers"]}
    assert set(folders) == {SHARED_FOLDER, *(f"bw-{p}" for p in PARTIES)}
    assert Path(folders["bw-zj"]) == path.parent.resolve()
