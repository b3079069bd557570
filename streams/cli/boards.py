"""`basin boards`: the Grafana dashboards as code (boards/); `build` writes them for file
provisioning.

``push`` and ``snapshot`` are registered on this group by their own modules.
"""

from __future__ import annotations

from pathlib import Path

import click

from stations.errors import SharingError
from stations.sharing.config import load_sharing
from streams.cli.common import open_registry, pass_settings, registry_option
from streams.settings import Settings


@click.group()
def boards() -> None:
    """The Grafana boards (看板): build the dashboards and Grafana's provisioning files."""


@boards.command("build")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory for dashboards/ and provisioning/.",
)
@registry_option
@pass_settings
def build(settings: Settings, out: Path, registry_path: Path | None) -> None:
    """Write the dashboards' JSON and Grafana's file-provisioning YAML.

    One InfluxDB Flux datasource per party view (token from $BASIN_VIEW_TOKEN_<P>), one folder
    per party with its copies of the boards, and the shared folder.

    \b
    Example:
      basin boards build --out build/grafana
    """
    from boards.bundle import bundle
    from boards.provisioning import write

    registry = open_registry(registry_path, settings)
    try:
        listed = load_sharing(settings.sharing_path, registry=registry)
    except SharingError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        raise SystemExit(1) from exc
    made = bundle(settings, registry, listed)
    files = write(made, out)
    click.echo(
        f"{len(made.boards)} dashboards in {len(made.folders)} folders, "
        f"{len(made.datasources)} datasources: {len(files)} files under {out}"
    )
