"""`basin gateway`: the HJ 212 TCP server for station data loggers."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import click

from streams.cli.common import open_registry, pass_settings, registry_option
from streams.gateway.run import run_gateway
from streams.gateway.secrets import SecretsError
from streams.settings import Settings


@click.command()
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    help="TCP port to listen on (default BASIN_GATEWAY_PORT; 0: any free port).",
)
@registry_option
@pass_settings
def gateway(settings: Settings, port: int | None, registry_path: Path | None) -> None:
    """Listen for HJ 212 data loggers and publish their reports on the raw topic.

    \b
    Example:
      BASIN_GATEWAY_SECRETS_PATH=~/.config/basin/hj212 basin gateway --port 9212
    """
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    registry = open_registry(registry_path, settings)
    try:
        asyncio.run(run_gateway(settings, registry, port))
    except SecretsError as exc:
        raise click.ClickException(str(exc)) from exc
