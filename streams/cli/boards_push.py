"""`basin boards push`: bring a Grafana to the boards of this checkout (boards/push.py)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from boards.bundle import bundle
from boards.push import Action, PushError, connect, push
from stations.errors import SharingError
from stations.sharing.config import load_sharing
from streams.cli.common import open_registry, pass_settings, registry_option
from streams.settings import Settings


@click.command("push")
@click.option(
    "--grafana-url", help="Grafana base URL (default: BASIN_GRAFANA_URL, http://127.0.0.1:3000)."
)
@click.option(
    "--message",
    default="basin boards push",
    show_default=True,
    help="Version message of every dashboard written (Grafana's version history).",
)
@registry_option
@pass_settings
def push_command(
    settings: Settings, grafana_url: str | None, message: str, registry_path: Path | None
) -> None:
    """Create or update in a Grafana a folder and a team per party, the folder permissions
    (each party's team views its own folder and the shared one), the datasources (one per
    party view, token from BASIN_VIEW_TOKEN_<PARTY>) and the dashboards.

    Reads first and writes only what differs: a second run writes nothing and says so. Every
    refused write is reported, the others are still tried; exit 1 if any was refused. The token
    is BASIN_GRAFANA_TOKEN: a service account token with the Admin role.

    \b
    Example:
      BASIN_GRAFANA_TOKEN=glsa_... basin boards push --grafana-url http://grafana:3000
    """
    url = (grafana_url or settings.grafana_url).rstrip("/")
    token = settings.grafana_token.get_secret_value() if settings.grafana_token else ""
    if not token:
        raise click.ClickException(
            f"no Grafana token for {url}: set BASIN_GRAFANA_TOKEN to a service account token "
            "with the Admin role"
        )
    registry = open_registry(registry_path, settings)
    try:
        listed = load_sharing(settings.sharing_path, registry=registry)
    except SharingError as exc:
        raise click.ClickException(f"invalid sharing list:\n{exc}") from exc
    wanted = bundle(settings, registry, listed)
    tokens = {source.uid: os.environ.get(source.token_env) for source in wanted.datasources}

    def announce(action: Action) -> None:
        click.echo(f"  {action}")

    try:
        report = push(connect(url, token), url, wanted, tokens, message, on_action=announce)
    except PushError as exc:
        raise click.ClickException(str(exc)) from exc
    for source in wanted.datasources:
        if not tokens[source.uid]:
            click.echo(f"note: {source.token_env} is unset: datasource {source.uid} has no token")
    for failure in report.failures:
        click.echo(str(failure), err=True)
    counts = (
        f"{len(wanted.folders)} folders, {len(wanted.teams)} teams, "
        f"{len(wanted.datasources)} datasources, {len(wanted.boards)} dashboards"
    )
    if not report.done and not report.failures:
        click.echo(
            f"Grafana {report.version} at {url} already has the boards ({counts}): no writes"
        )
        return
    click.echo(
        f"Grafana {report.version} at {url}: {len(report.done)} writes done, "
        f"{len(report.failures)} failed ({counts} wanted)"
    )
    if not report.ok:
        raise SystemExit(1)
