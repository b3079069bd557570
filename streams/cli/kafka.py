"""`basin topics` and `basin worker`: the Kafka side of the CLI."""

from __future__ import annotations

import click

from streams.cli.common import pass_settings, print_table
from streams.errors import StreamsError
from streams.settings import Settings
from streams.topics import admin_client, ensure_topics, project_topics


@click.group()
def topics() -> None:
    """Manage the project's Kafka topics."""


@topics.command("ensure")
@pass_settings
def ensure(settings: Settings) -> None:
    """Create the project's topics with the configured partitions (idempotent) and list them.

    \b
    Example:
      BASIN_TOPIC_PARTITIONS=12 basin topics ensure
    """
    try:
        admin = admin_client(settings)
        try:
            states = ensure_topics(admin, project_topics(settings))
        finally:
            admin.close()
    except StreamsError as exc:
        raise click.ClickException(str(exc)) from exc
    print_table(
        f"topics on {settings.kafka_bootstrap_servers}",
        ("topic", "partitions", "action"),
        ((s.name, str(s.partitions), s.action) for s in states),
    )


@click.command()
@pass_settings
def worker(settings: Settings) -> None:
    """Run the Faust worker (agents of streams/) against the configured brokers.

    Stops cleanly on SIGTERM or Ctrl-C. Several workers with the same BASIN_APP_ID share the
    partitions between them.

    \b
    Example:
      BASIN_WORKER_WEB_PORT=6067 basin worker
    """
    import faust

    from streams.app import create_app

    settings.worker_data_dir.mkdir(parents=True, exist_ok=True)
    app, _ = create_app(settings)
    faust.Worker(app, loglevel=settings.worker_log_level).execute_from_commandline()


@click.command()
@pass_settings
def store(settings: Settings) -> None:
    """Run the store worker: assessed reports and rule events into InfluxDB (at least once).

    Its own consumer group (BASIN_STORE_APP_ID), so checks and alerts go on while InfluxDB is
    down; it waits and retries, and commits only what InfluxDB has stored. The token comes from
    BASIN_INFLUX_TOKEN or the file deploy/local/influxdb.sh writes.

    \b
    Example:
      BASIN_INFLUX_URL=http://127.0.0.1:8086 basin store
    """
    import faust

    from streams.app import create_store_app

    try:
        app, _ = create_store_app(settings)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    faust.Worker(app, loglevel=settings.worker_log_level).execute_from_commandline()
