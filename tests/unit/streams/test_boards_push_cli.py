"""`basin boards push` as a user runs it: messages and exit codes, against the local Grafana
stand-in (the bundle is the small one of tests/unit/boards/test_push.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from click.testing import CliRunner, Result

from streams.cli import main
from streams.cli.common import SettingsInfo
from streams.settings import Settings
from streams.testing.grafana import GrafanaServer
from tests.unit.boards.test_push import BUNDLE, TOKEN, free_port


@pytest.fixture
def grafana(monkeypatch: pytest.MonkeyPatch) -> Iterator[GrafanaServer]:
    monkeypatch.setattr("streams.cli.boards_push.bundle", lambda *_: BUNDLE)
    monkeypatch.setenv("BASIN_VIEW_TOKEN_JS", "js-secret")
    monkeypatch.delenv("BASIN_VIEW_TOKEN_ZJ", raising=False)
    with GrafanaServer(token=TOKEN) as server:
        yield server


def _run(url: str, token: str | None = TOKEN) -> Result:
    settings = Settings(grafana_token=token)
    return CliRunner().invoke(
        main, ["boards", "push", "--grafana-url", url], obj=SettingsInfo(settings)
    )


def test_push_twice_writes_then_says_there_is_nothing_to_write(grafana: GrafanaServer) -> None:
    first = _run(grafana.url)
    assert first.exit_code == 0, first.output
    assert "  create dashboard bw-basin" in first.output
    assert (
        "note: BASIN_VIEW_TOKEN_ZJ is unset: datasource bw-influx-zj has no token" in first.output
    )
    assert f"Grafana 11.6.0 at {grafana.url}: 13 writes done, 0 failed" in first.output

    second = _run(grafana.url)

    assert second.exit_code == 0, second.output
    assert second.output.splitlines()[-1] == (
        f"Grafana 11.6.0 at {grafana.url} already has the boards (3 folders, 2 teams, "
        "2 datasources, 3 dashboards): no writes"
    )


def test_a_refused_token_exits_1_with_one_message(grafana: GrafanaServer) -> None:
    result = _run(grafana.url, token="wrong")

    assert result.exit_code == 1
    assert result.output == (
        f"Error: Grafana at {grafana.url} refused the token (401 invalid API key): set "
        "BASIN_GRAFANA_TOKEN to a service account token with the Admin role\n"
    )


def test_a_version_conflict_exits_1_after_writing_the_rest(grafana: GrafanaServer) -> None:
    grafana.conflicts = {"bw-jurisdiction-js"}

    result = _run(grafana.url)

    assert result.exit_code == 1
    assert (
        "create dashboard bw-jurisdiction-js: FAILED: 412 The dashboard has been changed by "
        "someone else (version-mismatch)" in result.output
    )
    assert f"at {grafana.url}: 12 writes done, 1 failed" in result.output


def test_an_unreachable_grafana_is_one_line_naming_the_url(grafana: GrafanaServer) -> None:
    url = f"http://127.0.0.1:{free_port()}"

    result = _run(url)

    assert result.exit_code == 1
    assert result.output == (
        f"Error: cannot reach Grafana at {url}: connection refused or no route "
        "(is Grafana running there?)\n"
    )


def test_without_a_token_nothing_is_sent(grafana: GrafanaServer) -> None:
    result = _run(grafana.url, token=None)

    assert result.exit_code == 1
    assert "set BASIN_GRAFANA_TOKEN" in result.output
    assert grafana.requests == []


def test_the_shipped_boards_land_in_their_folders_with_their_teams(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("BASIN_VIEW_TOKEN_JS", raising=False)
    with GrafanaServer(token=TOKEN) as grafana:
        first = _run(grafana.url)
        assert first.exit_code == 0, first.output
        state = grafana.state
        assert {uid: f["title"] for uid, f in state.folders.items()} == {
            "bw-shared": "basinwatch 共享 Shared",
            "bw-js": "basinwatch JS",
            "bw-zj": "basinwatch ZJ",
            "bw-sh": "basinwatch SH",
            "bw-ah": "basinwatch AH",
            "bw-tba": "basinwatch TBA",
        }
        names = {team_id: team["name"] for team_id, team in state.teams.items()}
        parties = ["ah", "js", "sh", "tba", "zj"]
        assert sorted(names.values()) == [f"basinwatch-{p}" for p in parties]
        viewers = {
            uid: sorted((names[i["teamId"]], i["permission"]) for i in items)
            for uid, items in state.permissions.items()
        }
        assert viewers == {
            "bw-shared": [(f"basinwatch-{p}", 1) for p in parties],
            **{f"bw-{p}": [(f"basinwatch-{p}", 1)] for p in parties},
        }
        assert {uid: d["jsonData"]["defaultBucket"] for uid, d in state.datasources.items()} == {
            f"bw-influx-{p}": f"basinwatch-{p}" for p in parties
        }
        folders = {uid: record["folderUid"] for uid, record in state.dashboards.items()}
        assert [uid for uid, folder in folders.items() if folder == "bw-shared"] == [
            "bw-overview",
            "bw-station",
            "bw-boundary",
        ]
        for party in parties:
            assert len([f for f in folders.values() if f == f"bw-{party}"]) == 6
        assert len(folders) == 33
        grafana.requests.clear()

        second = _run(grafana.url)

        assert second.exit_code == 0, second.output
        assert grafana.writes == []
        assert second.output.splitlines()[-1].endswith(
            "already has the boards (6 folders, 5 teams, 5 datasources, 33 dashboards): no writes"
        )
