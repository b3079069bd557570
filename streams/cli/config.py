"""`basin config`: the effective settings."""

from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table

from streams.cli.common import load_settings


@click.group()
def config() -> None:
    """Inspect the settings (environment variables BASIN_*, .env)."""


@config.command("show")
def show() -> None:
    """Print the effective settings, secrets hidden.

    \b
    Example:
      BASIN_TOPIC_PARTITIONS=12 basin config show
    """
    settings = load_settings()
    table = Table("variable", "value", "description", title="basinwatch settings")
    for name, value, doc in settings.described():
        table.add_row(name, value, doc)
    Console().print(table)
