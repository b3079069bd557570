"""`basin config`: the effective settings."""

from __future__ import annotations

import click

from streams.cli.common import pass_settings, print_table
from streams.settings import Settings


@click.group()
def config() -> None:
    """Inspect the settings (environment variables BASIN_*, .env)."""


@config.command("show")
@pass_settings
def show(settings: Settings) -> None:
    """Print the effective settings, secrets hidden.

    \b
    Example:
      BASIN_TOPIC_PARTITIONS=12 basin config show
    """
    print_table("basinwatch settings", ("variable", "value", "description"), settings.described())
