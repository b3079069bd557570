"""`basin boards snapshot`: each panel of a board as a PNG chart (boards/snapshot.py)."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click
from influxdb_client import InfluxDBClient
from influxdb_client.rest import ApiException
from urllib3.exceptions import HTTPError

from boards.bundle import bundle
from boards.charts import FontMissing
from boards.snapshot import BEIJING, Window, influx_runner, snapshot
from stations.errors import SharingError
from stations.jurisdictions import Jurisdiction
from stations.sharing.config import load_sharing
from streams.cli.common import open_registry, pass_settings, registry_option
from streams.settings import Settings
from streams.store.views import view_bucket

#: Short names a person types for the boards whose uid says otherwise.
ALIASES = {"basin": "overview"}


def _time(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        at = datetime.fromisoformat(text)
    except ValueError as exc:
        raise click.BadParameter(
            f"{text!r}: give a date or time like 2021-04-01 or 2021-04-01T08:00"
        ) from exc
    return at if at.tzinfo else at.replace(tzinfo=BEIJING)


def find_board(boards: list[dict[str, Any]], name: str, party: str | None) -> dict[str, Any]:
    """The dashboard ``name`` names: its uid, or ``bw-<name>`` (``-<party>`` with a party)."""
    short = ALIASES.get(name, name)
    wanted = [name, f"bw-{short}"]
    if party:
        wanted.insert(0, f"bw-{short}-{party.lower()}")
    by_uid = {board["uid"]: board for board in boards}
    for uid in wanted:
        if uid in by_uid:
            return by_uid[uid]
    suffixes = tuple(f"-{p.value.lower()}" for p in Jurisdiction)
    per_party = {
        u.removeprefix("bw-")[: -len(x)] for u in by_uid for x in suffixes if u.endswith(x)
    }
    if not party and short in per_party:
        raise click.BadParameter(f"{name!r} is a party's board: give --party", param_hint="--party")
    basin_wide = {u.removeprefix("bw-") for u in by_uid if not u.endswith(suffixes)}
    listed = (
        ", ".join(sorted(basin_wide | {"basin"}))
        + "; with --party: "
        + ", ".join(sorted(per_party))
    )
    raise click.BadParameter(f"no board {name!r}; boards: {listed}", param_hint="--board")


@click.command("snapshot")
@click.option(
    "--board", required=True, help="Board: basin (the overview), station, quality, … or a uid."
)
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory of the PNGs.",
)
@click.option(
    "--party",
    type=click.Choice([j.value for j in Jurisdiction]),
    help="Read the party's view (its copy of the board).",
)
@click.option("--station", help="The board's station variable (station boards).")
@click.option(
    "--from",
    "start_text",
    help="Start of the range (ISO; Beijing time if no zone; default: 7 days ago).",
)
@click.option("--to", "stop_text", help="End of the range (ISO; default: now).")
@click.option(
    "--var", "extra", multiple=True, metavar="NAME=VALUE", help="Another variable (repeatable)."
)
@registry_option
@pass_settings
def snapshot_command(
    settings: Settings,
    board: str,
    out: Path,
    party: str | None,
    station: str | None,
    start_text: str | None,
    stop_text: str | None,
    extra: tuple[str, ...],
    registry_path: Path | None,
) -> None:
    """Render each panel of a board as a PNG, from the board's own Flux queries with the same
    variables and macros as Grafana, run against InfluxDB: the party's view bucket with
    --party, else the main bucket. Files: OUT/<board uid>/<nn>-<panel id>.png.

    \b
    Example:
      basin boards snapshot --board basin --out var/snapshots --from 2021-04-01 --to 2021-05-01
    """
    registry = open_registry(registry_path, settings)
    try:
        listed = load_sharing(settings.sharing_path, registry=registry)
    except SharingError as exc:
        raise click.ClickException(f"invalid sharing list:\n{exc}") from exc
    dashboards = [b.dashboard for b in bundle(settings, registry, listed).boards]
    dashboard = find_board(dashboards, board, party)
    stop = _time(stop_text) or datetime.now(UTC)
    start = _time(start_text) or stop - timedelta(days=7)
    if start >= stop:
        raise click.BadParameter("--from must be before --to", param_hint="--from")
    chosen: dict[str, str | list[str]] = {}
    for item in extra:
        name, equals, value = item.partition("=")
        if not equals:
            raise click.BadParameter(f"{item!r}: give NAME=VALUE", param_hint="--var")
        chosen[name] = value
    if station:
        chosen["station"] = station
    bucket = view_bucket(settings.influx_bucket, party) if party else settings.influx_bucket
    token = os.environ.get(f"BASIN_VIEW_TOKEN_{party}") if party else None
    with InfluxDBClient(
        url=settings.influx_url,
        token=token or settings.influx_token_value(),
        org=settings.influx_org,
        timeout=60_000,
    ) as client:
        window = Window(start, stop, bucket, settings.influx_org, chosen)
        runner = influx_runner(client.query_api(), settings.influx_org)
        try:
            written = snapshot(dashboard, runner, window, out)
        except FontMissing as exc:
            raise click.ClickException(str(exc)) from exc
        except (ApiException, OSError, HTTPError) as exc:
            raise click.ClickException(
                f"InfluxDB at {settings.influx_url} (bucket {bucket}): {_reason(exc)}"
            ) from exc
    folder = out / dashboard["uid"]
    click.echo(f"{len(written)} panels of {dashboard['title']} ({dashboard['uid']}) in {folder}")


def _reason(exc: Exception) -> str:
    if isinstance(exc, ApiException):
        return f"{exc.status} {exc.reason}: {(exc.body or '')[:300]}"
    return f"{type(exc).__name__}: {exc}"
