"""`basin alerts` against a stand-in of the worker's alert API (a real local HTTP server): the
settings say where it is, and what the commands send and print is checked."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from click.testing import CliRunner, Result

from streams.cli import main
from streams.cli.common import SettingsInfo
from streams.settings import Settings
from streams.testing.receivers import HttpReceiver, free_port

SILENCE = {
    "id": "s-1",
    "station": "SH-CJ-011",
    "station_name": "斜塘口",
    "start": "2026-04-01T02:00:00+00:00",
    "end": "2026-04-01T04:00:00+00:00",
    "author": "王五",
    "reason": "更换溶解氧电极",
    "created_at": "2026-04-01T01:59:00+00:00",
}
LISTED = "SH-CJ-011\t斜塘口\t04-01 10:00\t04-01 12:00\t王五\t更换溶解氧电极"


@pytest.fixture
def api(http_receiver: HttpReceiver) -> HttpReceiver:
    http_receiver.set_response("/alerts/silences/", {"silences": [SILENCE]})
    return http_receiver


def basin(api: HttpReceiver, *args: str) -> Result:
    settings = Settings(alerts_url=api.url("/"))
    return CliRunner().invoke(main, ["alerts", *args], obj=SettingsInfo(settings))


def test_silences_lists_what_the_worker_holds_in_beijing_time(api: HttpReceiver) -> None:
    result = basin(api, "silences")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["station\t站点\tstart\tend\tauthor\treason", LISTED]
    (request,) = api.requests
    assert (request.method, request.path) == ("GET", "/alerts/silences/")


def test_silence_list_lists_too_instead_of_asking_for_an_author(api: HttpReceiver) -> None:
    result = basin(api, "silence", "--list")
    assert result.exit_code == 0, result.output
    assert LISTED in result.output.splitlines()
    assert [r.method for r in api.requests] == ["GET"]


def test_a_new_silence_still_needs_author_and_reason(api: HttpReceiver) -> None:
    result = basin(api, "silence", "--station", "SH-CJ-011", "--hours", "2")
    assert result.exit_code == 2
    assert "Missing option '--author'" in result.output
    assert api.requests == []


def test_silence_posts_the_window_to_the_worker(api: HttpReceiver) -> None:
    args = ["--station", "SH-CJ-011", "--start", "2026-04-01T10:00+08:00", "--hours", "2"]
    result = basin(api, "silence", *args, "--author", "王五", "--reason", "更换溶解氧电极")
    assert result.exit_code == 0, result.output
    assert "1 station(s) silenced until 2026-04-01T12:00:00+08:00" in result.output
    (request,) = api.requests
    assert request.method == "POST"
    body = request.json
    assert body["station"] == "SH-CJ-011" and body["author"] == "王五"
    start, end = datetime.fromisoformat(body["start"]), datetime.fromisoformat(body["end"])
    assert end - start == timedelta(hours=2)


def test_no_worker_at_the_configured_url_is_a_failure_that_names_it() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    settings = Settings(alerts_url=url)
    result = CliRunner().invoke(main, ["alerts", "silences"], obj=SettingsInfo(settings))
    assert result.exit_code == 1
    assert f"no worker answers at {url}/alerts/silences/" in result.output


def test_without_an_alerts_url_the_worker_of_the_settings_is_asked(api: HttpReceiver) -> None:
    settings = Settings(worker_web_host=api.host, worker_web_port=api.port)
    result = CliRunner().invoke(main, ["alerts", "silences"], obj=SettingsInfo(settings))
    assert result.exit_code == 0, result.output
    assert len(api.requests) == 1


def test_the_settings_are_built_once_per_invocation(api: HttpReceiver) -> None:
    built: list[Settings] = []

    def create() -> Settings:
        built.append(Settings(alerts_url=api.url("/")))
        return built[-1]

    result = CliRunner().invoke(
        main, ["alerts", "silence", "--list"], obj=SettingsInfo(create=create)
    )
    assert result.exit_code == 0, result.output
    assert len(built) == 1 and len(api.requests) == 1
    help_only = SettingsInfo(create=create)
    assert CliRunner().invoke(main, ["alerts", "silences", "--help"], obj=help_only).exit_code == 0
    assert len(built) == 1  # --help needs no settings
