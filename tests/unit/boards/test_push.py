"""`basin boards push` against the local Grafana stand-in (streams/testing/grafana.py), and its
pure planning."""

from __future__ import annotations

import copy
import socket
from collections.abc import Iterator

import pytest

from boards.bundle import Board, Bundle, Datasource, Folder, Team
from boards.push import (
    GrafanaRefused,
    GrafanaState,
    GrafanaUnreachable,
    connect,
    plan,
    push,
)
from streams.testing.grafana import GrafanaServer

TOKEN = "test-token"
MESSAGE = "basin boards push: test"


def _dashboard(uid: str, title: str, query: str = "from(bucket: v.defaultBucket)") -> dict:
    return {
        "uid": uid,
        "title": title,
        "schemaVersion": 41,
        "panels": [{"id": 1, "type": "timeseries", "targets": [{"query": query}]}],
    }


BUNDLE = Bundle(
    folders=(
        Folder("bw-shared", "共享 Shared", None),
        Folder("bw-js", "江苏 JS", "JS"),
        Folder("bw-zj", "浙江 ZJ", "ZJ"),
    ),
    teams=(Team("basinwatch JS", "JS"), Team("basinwatch ZJ", "ZJ")),
    datasources=(
        Datasource(
            "bw-influx-js",
            "basinwatch JS",
            "JS",
            "basinwatch-js",
            "BASIN_VIEW_TOKEN_JS",
            "http://influx:8086",
            "basinwatch",
        ),
        Datasource(
            "bw-influx-zj",
            "basinwatch ZJ",
            "ZJ",
            "basinwatch-zj",
            "BASIN_VIEW_TOKEN_ZJ",
            "http://influx:8086",
            "basinwatch",
        ),
    ),
    boards=(
        Board("bw-shared", _dashboard("bw-basin", "流域总览 Basin overview")),
        Board("bw-js", _dashboard("bw-jurisdiction-js", "辖区 江苏")),
        Board("bw-zj", _dashboard("bw-jurisdiction-zj", "辖区 浙江")),
    ),
)
TOKENS: dict[str, str | None] = {"bw-influx-js": "js-secret", "bw-influx-zj": "zj-secret"}


@pytest.fixture
def grafana() -> Iterator[GrafanaServer]:
    with GrafanaServer(token=TOKEN) as server:
        yield server


def _push(server: GrafanaServer, bundle: Bundle = BUNDLE, url: str | None = None):  # type: ignore[no-untyped-def]
    url = url or server.url
    return push(connect(url, TOKEN), url, bundle, TOKENS, MESSAGE)


def _team_ids(server: GrafanaServer) -> dict[int, str]:
    return {team_id: team["name"] for team_id, team in server.state.teams.items()}


def test_the_first_push_creates_exactly_the_bundle(grafana: GrafanaServer) -> None:
    report = _push(grafana)

    assert report.failures == []
    assert report.version == "11.6.0"
    state = grafana.state
    assert {uid: f["title"] for uid, f in state.folders.items()} == {
        "bw-shared": "共享 Shared",
        "bw-js": "江苏 JS",
        "bw-zj": "浙江 ZJ",
    }
    assert sorted(t["name"] for t in state.teams.values()) == ["basinwatch JS", "basinwatch ZJ"]
    teams = _team_ids(grafana)
    permissions = {
        uid: sorted(
            (teams.get(item["teamId"], ""), item["role"], item["permission"]) for item in items
        )
        for uid, items in state.permissions.items()
    }
    # Only the teams: the default Viewer and Editor role grants are gone.
    assert permissions == {
        "bw-shared": [("basinwatch JS", "", 1), ("basinwatch ZJ", "", 1)],
        "bw-js": [("basinwatch JS", "", 1)],
        "bw-zj": [("basinwatch ZJ", "", 1)],
    }
    assert set(state.datasources) == {"bw-influx-js", "bw-influx-zj"}
    zj = state.datasources["bw-influx-zj"]
    assert (zj["name"], zj["type"], zj["url"]) == (
        "basinwatch ZJ",
        "influxdb",
        "http://influx:8086",
    )
    assert zj["jsonData"] == {
        "version": "Flux",
        "organization": "basinwatch",
        "defaultBucket": "basinwatch-zj",
    }
    assert state.secrets == {
        "bw-influx-js": {"token": "js-secret"},
        "bw-influx-zj": {"token": "zj-secret"},
    }
    assert {uid: r["folderUid"] for uid, r in state.dashboards.items()} == {
        "bw-basin": "bw-shared",
        "bw-jurisdiction-js": "bw-js",
        "bw-jurisdiction-zj": "bw-zj",
    }
    for board in BUNDLE.boards:
        stored = state.dashboards[board.dashboard["uid"]]["dashboard"]
        assert {k: v for k, v in stored.items() if k not in ("id", "version")} == board.dashboard
    assert state.messages == {uid: [MESSAGE] for uid in state.dashboards}
    # 3 folders, 2 teams, 3 permission sets, 2 datasources, 3 dashboards.
    assert len(report.done) == len(grafana.writes) == 13
    assert all(r.authorization == f"Bearer {TOKEN}" for r in grafana.requests[1:])


def test_a_second_push_writes_nothing(grafana: GrafanaServer) -> None:
    _push(grafana)
    grafana.requests.clear()

    report = _push(grafana)

    assert report.done == [] and report.failures == []
    assert grafana.writes == []
    assert grafana.requests  # it did read


def test_one_changed_dashboard_gives_one_write(grafana: GrafanaServer) -> None:
    _push(grafana)
    grafana.requests.clear()
    changed = copy.deepcopy(BUNDLE.boards[2].dashboard)
    changed["panels"][0]["targets"][0]["query"] = "from(bucket: v.defaultBucket) |> limit(n: 1)"
    bundle = Bundle(
        BUNDLE.folders,
        BUNDLE.teams,
        BUNDLE.datasources,
        (*BUNDLE.boards[:2], Board("bw-zj", changed)),
    )

    report = _push(grafana, bundle)

    assert report.failures == []
    assert [(w.method, w.path) for w in grafana.writes] == [("POST", "/api/dashboards/db")]
    body = grafana.writes[0].body
    assert body["dashboard"] == changed
    assert (body["folderUid"], body["overwrite"], body["message"]) == ("bw-zj", True, MESSAGE)
    assert grafana.state.dashboards["bw-jurisdiction-zj"]["dashboard"]["version"] == 2
    assert [str(a) for a in report.done] == [
        "update dashboard bw-jurisdiction-zj (content differs)"
    ]


def test_a_401_stops_with_one_clear_message(grafana: GrafanaServer) -> None:
    grafana.unauthorized = True

    with pytest.raises(GrafanaRefused) as refused:
        _push(grafana)

    assert str(refused.value) == (
        f"Grafana at {grafana.url} refused the token (401 invalid API key): set "
        "BASIN_GRAFANA_TOKEN to a service account token with the Admin role"
    )
    assert grafana.writes == []


def test_a_412_is_reported_and_the_rest_is_still_written(grafana: GrafanaServer) -> None:
    grafana.conflicts = {"bw-basin"}

    report = _push(grafana)

    assert [str(f) for f in report.failures] == [
        "create dashboard bw-basin: FAILED: 412 The dashboard has been changed by someone else "
        "(version-mismatch)"
    ]
    assert set(grafana.state.dashboards) == {"bw-jurisdiction-js", "bw-jurisdiction-zj"}
    assert len(report.done) == 12


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_grafana_is_one_error_naming_the_url() -> None:
    url = f"http://127.0.0.1:{free_port()}"

    with pytest.raises(GrafanaUnreachable) as unreachable:
        push(connect(url, TOKEN), url, BUNDLE, TOKENS, MESSAGE)

    assert str(unreachable.value) == (
        f"cannot reach Grafana at {url}: connection refused or no route (is Grafana running there?)"
    )


def test_a_failed_team_fails_its_permissions_but_not_the_others(grafana: GrafanaServer) -> None:
    # Grafana refuses to create one team (a 409, as for a name taken meanwhile).
    original = grafana._create_team

    def refuse_zj(body: dict) -> dict:  # type: ignore[type-arg]
        if body["name"] == "basinwatch ZJ":
            from streams.testing.grafana import _Refusal

            raise _Refusal(409, "Team name taken")
        return original(body)

    grafana._create_team = refuse_zj  # type: ignore[method-assign]

    report = _push(grafana)

    assert [str(f) for f in report.failures] == [
        "create team basinwatch ZJ: FAILED: 409 Team name taken",
        "create permissions bw-shared: FAILED: team basinwatch ZJ does not exist "
        "(its creation failed)",
        "create permissions bw-zj: FAILED: team basinwatch ZJ does not exist (its creation failed)",
    ]
    assert len(report.done) == 10


# --- planning, pure ---------------------------------------------------------------------------


def _matching_state() -> GrafanaState:
    state = GrafanaState(
        folders={f.uid: f.title for f in BUNDLE.folders},
        teams={"basinwatch JS": 1, "basinwatch ZJ": 2},
        permissions={
            "bw-shared": frozenset({("team", "basinwatch JS", 1), ("team", "basinwatch ZJ", 1)}),
            "bw-js": frozenset({("team", "basinwatch JS", 1)}),
            "bw-zj": frozenset({("team", "basinwatch ZJ", 1)}),
        },
    )
    for source in BUNDLE.datasources:
        model = source.model(None)
        state.datasources[source.uid] = {**model, "id": 7, "secureJsonFields": {"token": True}}
    for board in BUNDLE.boards:
        dashboard = {**board.dashboard, "id": 3, "version": 4}
        state.dashboards[board.dashboard["uid"]] = {
            "dashboard": dashboard,
            "meta": {"folderUid": board.folder_uid},
        }
    return state


def test_a_matching_grafana_needs_no_action() -> None:
    assert plan(BUNDLE, _matching_state(), TOKENS, MESSAGE) == []
    # Tokens are write-only: unknown here, present there, nothing to do either.
    assert plan(BUNDLE, _matching_state(), {}, MESSAGE) == []


def test_drift_is_planned_as_updates() -> None:
    state = _matching_state()
    state.folders["bw-js"] = "Jiangsu"
    state.permissions["bw-zj"] = frozenset({("team", "basinwatch ZJ", 1), ("role", "Viewer", 1)})
    state.datasources["bw-influx-js"]["secureJsonFields"] = {}
    state.datasources["bw-influx-zj"]["url"] = "http://old:8086"
    state.dashboards["bw-basin"]["meta"]["folderUid"] = "bw-js"

    actions = plan(BUNDLE, state, TOKENS, MESSAGE)

    assert [str(a) for a in actions] == [
        "update folder bw-js (title was 'Jiangsu')",
        "update permissions bw-zj (had role Viewer: 1, team basinwatch ZJ: 1)",
        "update datasource bw-influx-js (differs in secureJsonData.token)",
        "update datasource bw-influx-zj (differs in url)",
        "update dashboard bw-basin (in folder 'bw-js')",
    ]
    assert [(a.method, a.path) for a in actions] == [
        ("PUT", "/folders/bw-js"),
        ("POST", "/folders/bw-zj/permissions"),
        ("PUT", "/datasources/uid/bw-influx-js"),
        ("PUT", "/datasources/uid/bw-influx-zj"),
        ("POST", "/dashboards/db"),
    ]
    assert actions[1].body == {"items": [{"team": "basinwatch ZJ", "permission": 1}]}


def test_what_could_not_be_read_is_left_alone() -> None:
    state = GrafanaState(unreadable={"dashboard bw-basin", "datasource bw-influx-zj"})

    targets = [a.target for a in plan(BUNDLE, state, TOKENS, MESSAGE)]

    assert "bw-basin" not in targets and "bw-influx-zj" not in targets
    assert "bw-jurisdiction-js" in targets and "bw-influx-js" in targets
