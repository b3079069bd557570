"""`basin sharing`: check the data-sharing list, show what a party receives from whom, and apply
it to the party views in InfluxDB."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from stations.errors import SharingError
from stations.jurisdictions import Jurisdiction
from stations.registry import Registry
from stations.sharing.config import load_sharing, load_sharing_years
from stations.sharing.grants import Basis, Grant, SharingList, station_data
from streams.cli.common import open_registry, pass_settings, print_table, registry_option
from streams.settings import Settings

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)
_PARTY = click.Choice([j.value for j in Jurisdiction])


@click.group()
def sharing() -> None:
    """The data-sharing list (数据共享清单): check it, show what a party receives, apply it."""


@sharing.command("check")
@click.argument("path", required=False, type=_FILE)
@registry_option
@pass_settings
def check(settings: Settings, path: Path | None, registry_path: Path | None) -> None:
    """Validate a sharing list against the registry; every problem as path:line: message.

    PATH defaults to BASIN_SHARING_PATH, else the shipped list. Exit 1 if there is any problem,
    else print one line per year: items per owner, what is still an example, and how many
    stations each party receives from the others.

    \b
    Example:
      basin sharing check stations/data/sharing.yaml
    """
    registry = open_registry(registry_path, settings)
    try:
        lists = load_sharing_years(path or settings.sharing_path, registry=registry)
    except SharingError as exc:
        for problem in exc.problems:
            click.echo(str(problem))
        raise SystemExit(1) from exc
    for _, listed in sorted(lists.items()):
        click.echo(_summary(listed))


def _summary(listed: SharingList) -> str:
    owners = [item.owner for item in listed.items]
    items = ", ".join(f"{j.value} {owners.count(j)}" for j in Jurisdiction if j in owners)
    status = ""
    if listed.example:
        status = f"; EXAMPLE list, {len(listed.to_confirm)} items with fields to confirm"
    received = ", ".join(
        f"{party.value} {len({g.station for g in listed.grants_for(party) if g.owner != party})}"
        for party in Jurisdiction
    )
    return (
        f"{listed.path}: {listed.year}: {len(listed.items)} items OK ({items}){status}; "
        f"stations received from others: {received}"
    )


@sharing.command("show")
@click.argument("path", required=False, type=_FILE)
@click.option("--party", required=True, type=_PARTY, help="The receiving party.")
@click.option("--year", type=click.IntRange(2000, 2100), help="The year (default: the newest).")
@click.option("--json", "as_json", is_flag=True, help="One JSON document instead of tables.")
@registry_option
@pass_settings
def show(
    settings: Settings,
    path: Path | None,
    party: str,
    year: int | None,
    as_json: bool,
    registry_path: Path | None,
) -> None:
    """Print what a party receives, and from whom: its own stations in full, then by owner the
    stations, data, granularity and delay the list (or a cross-boundary section) gives it.

    \b
    Example:
      basin sharing show --party ZJ
      basin sharing show --party TBA --year 2021 --json
    """
    registry = open_registry(registry_path, settings)
    try:
        listed = load_sharing(path or settings.sharing_path, registry=registry, year=year)
    except SharingError as exc:
        raise click.ClickException(f"invalid sharing list:\n{exc}") from exc
    receiver = Jurisdiction(party)
    received = listed.received(receiver)
    if as_json:
        document = {
            "party": receiver.value,
            "party_name": receiver.name_zh,
            "year": listed.year,
            "example": listed.example,
            "path": listed.path,
            "from": [
                {
                    "owner": owner.value,
                    "owner_name": owner.name_zh,
                    "rows": [_row(registry, rows) for rows in _rows(grants)],
                }
                for owner, grants in received.items()
            ],
        }
        click.echo(json.dumps(document, ensure_ascii=False, indent=2))
        return
    example = " (an EXAMPLE list, to be agreed at the joint meeting)" if listed.example else ""
    heading = f"What {receiver.value} {receiver.name_zh} receives under the {listed.year} list"
    click.echo(f"{heading}{example}")
    for owner, grants in received.items():
        stations = _count(len({g.station for g in grants}))
        if owner is receiver:
            click.echo(f"own: {stations}, all their data in real time")
            continue
        click.echo(f"from {owner.value} {owner.name_zh}: {stations}")
        print_table(
            "",
            ("station", "name", "data", "as", "by"),
            (_cells(registry, rows) for rows in _rows(grants)),
        )


def _count(stations: int) -> str:
    return f"{stations} station{'s' if stations != 1 else ''}"


def _rows(grants: tuple[Grant, ...]) -> list[list[Grant]]:
    """Grants of one station on the same terms and basis together, in the grants' order."""
    rows: dict[tuple[Any, ...], list[Grant]] = {}
    for grant in grants:
        key = (grant.station, grant.granularity, grant.delay_hours, grant.basis)
        rows.setdefault(key, []).append(grant)
    return list(rows.values())


def _lines(rows: list[Grant]) -> list[int]:
    """The lines of the items a row comes from."""
    return sorted({grant.line for grant in rows if grant.line is not None})


def _row(registry: Registry, rows: list[Grant]) -> dict[str, Any]:
    first = rows[0]
    return {
        "station": first.station,
        "name": registry.get(first.station).name,
        "data": [grant.data for grant in rows],
        "granularity": first.granularity.value,
        "delay_hours": first.delay_hours,
        "basis": first.basis.value,
        "lines": _lines(rows),
    }


def _cells(registry: Registry, rows: list[Grant]) -> tuple[str, ...]:
    first = rows[0]
    station = registry.get(first.station)
    data = [grant.data for grant in rows]
    shown = "all" if tuple(data) == station_data(station) else ", ".join(data)
    lines = _lines(rows)
    by = {
        Basis.OWN: "own station",
        Basis.CROSS_BOUNDARY: "cross-boundary section",
        Basis.LIST: f"list, line{'s' if len(lines) > 1 else ''} {', '.join(map(str, lines))}",
    }[first.basis]
    return (station.id, station.name, shown, first.terms, by)


@sharing.command("apply")
@click.argument("path", required=False, type=_FILE)
@click.option("--year", type=click.IntRange(2000, 2100), help="The year (default: the newest).")
@click.option(
    "--rederive", is_flag=True, help="Re-derive every view from the main bucket, not only changes."
)
@click.option(
    "--since",
    type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S%z"]),
    help="With --rederive: from this time (default: all history).",
)
@click.option("--show-tokens", is_flag=True, help="Also print the read tokens (once, to stdout).")
@registry_option
@pass_settings
def apply(
    settings: Settings,
    path: Path | None,
    year: int | None,
    rederive: bool,
    since: datetime | None,
    show_tokens: bool,
    registry_path: Path | None,
) -> None:
    """Make the party views in InfluxDB match the sharing list, idempotently.

    One bucket per party (BASIN_INFLUX_BUCKET-js, ...-zj, ...) holding its own data and what the
    list shares with it, and one read token per party scoped to that bucket alone, written to
    BASIN_STATE_DIR/views/<bucket>.tokens.env (mode 600) as BASIN_VIEW_TOKEN_<PARTY>=... for
    Grafana's provisioning. Series no longer shared are deleted from the views, and what changed
    is re-derived from the main bucket. Stop the store workers first and start them after: they
    route with the list they loaded (docs/sharing.md). A second run changes nothing and says so.

    \b
    Example:
      basin sharing apply
      basin sharing apply --rederive --since 2021-04-01
    """
    from datetime import UTC

    from influxdb_client import InfluxDBClient

    from streams.store.apply import Applier
    from streams.store.influx import classify
    from streams.store.views import selections

    registry = open_registry(registry_path, settings)
    listed = _load_or_exit(path or settings.sharing_path, registry, year)
    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    try:
        token = settings.influx_token_value()
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    client = InfluxDBClient(
        url=settings.influx_url, token=token, org=settings.influx_org, timeout=600_000
    )
    applier = Applier(client, settings.influx_bucket, settings.influx_org, settings.state_dir)
    try:
        report = applier.apply(selections(listed), rederive=rederive, since=since)
    except LookupError as exc:
        raise click.ClickException(str(exc)) from exc
    except Exception as exc:
        error = classify(exc)
        if error is None:
            raise
        raise click.ClickException(f"{settings.influx_url}: {error}") from exc
    finally:
        client.close()
    where = f"{listed.path} ({listed.year})"
    for line in report.done:
        click.echo(line)
    if not report.changed:
        click.echo(f"nothing to change: the views of {settings.influx_bucket} match {where}")
    else:
        click.echo(f"applied {where} to the views of {settings.influx_bucket}")
    if show_tokens:
        for party, value in report.tokens.items():
            click.echo(f"BASIN_VIEW_TOKEN_{party.value}={value}")


def _load_or_exit(path: Path | None, registry: Registry, year: int | None) -> SharingList:
    """The list, or exit 1 with every problem as path:line: message."""
    try:
        return load_sharing(path, registry=registry, year=year)
    except SharingError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        raise SystemExit(1) from exc
