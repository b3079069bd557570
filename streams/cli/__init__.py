"""The `basin` command: one entry point, one subcommand module per area.

Exit codes: 0 success, 1 failure, 2 usage error (click's own).
"""

from __future__ import annotations

import click

from streams.cli.alerts import alerts
from streams.cli.boards import boards
from streams.cli.boards_push import push_command
from streams.cli.boards_snapshot import snapshot_command
from streams.cli.common import SettingsInfo
from streams.cli.config import config
from streams.cli.domain import classify, stations
from streams.cli.export import export_command
from streams.cli.gateway import gateway
from streams.cli.history import import_
from streams.cli.kafka import store, topics, worker
from streams.cli.query import query
from streams.cli.sharing import sharing
from streams.cli.simulate import simulate
from streams.cli.watch import watch


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="basinwatch")
@click.pass_context
def main(ctx: click.Context) -> None:
    """basinwatch: water-quality monitoring of a lake basin (Taihu shape).

    \b
    Example:
      basin config show
    """
    ctx.ensure_object(SettingsInfo)  # the settings, built once when a command first needs them


main.add_command(config)
main.add_command(topics)
main.add_command(worker)
main.add_command(store)
main.add_command(query)
main.add_command(classify)
main.add_command(stations)
main.add_command(sharing)
main.add_command(import_)
main.add_command(watch)
main.add_command(simulate)
main.add_command(alerts)
main.add_command(boards)
main.add_command(export_command)
main.add_command(gateway)
boards.add_command(push_command)
boards.add_command(snapshot_command)
