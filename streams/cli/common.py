"""Helpers shared by the CLI commands."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import click
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from stations.errors import RegistryError
from stations.registry import Registry, load_registry
from streams.settings import Settings


def load_settings() -> Settings:
    """Build the settings or stop with a message that names the bad variable."""
    try:
        return Settings()
    except ValidationError as exc:
        raise click.ClickException(f"invalid settings: {exc}") from exc


def print_table(title: str, columns: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    """A rich table on a terminal; tab-separated lines with a header when piped (for scripts)."""
    console = Console()
    if not console.is_terminal:
        click.echo("\t".join(columns))
        for row in rows:
            click.echo("\t".join(row))
        return
    table = Table(*columns, title=title)
    for row in rows:
        table.add_row(*row)
    console.print(table)


#: ``--registry PATH`` for every command that needs the station registry.
registry_option = click.option(
    "--registry",
    "registry_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Station registry YAML (default: BASIN_REGISTRY_PATH, else the shipped registry).",
)


def open_registry(path: Path | None, settings: Settings | None = None) -> Registry:
    """The registry at ``path`` (else the configured or shipped one), or exit 1 listing problems."""
    try:
        return load_registry(path or (settings.registry_path if settings else None))
    except RegistryError as exc:
        raise click.ClickException(f"invalid station registry:\n{exc}") from exc
