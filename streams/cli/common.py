"""Helpers shared by the CLI commands."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import click
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

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
