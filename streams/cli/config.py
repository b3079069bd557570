"""`basin config`: the effective settings."""

from __future__ import annotations

import click

from streams.cli.common import load_settings, print_table


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
    print_table("basinwatch settings", ("variable", "value", "description"), settings.described())
