"""`basin query`: what the boards and exports read from InfluxDB, on the command line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import click

from streams.cli.common import pass_settings, print_table
from streams.settings import Settings
from streams.store.queries import Queries


def _queries(settings: Settings) -> Queries:
    from influxdb_client import InfluxDBClient

    try:
        token = settings.influx_token_value()
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    client = InfluxDBClient(url=settings.influx_url, token=token, org=settings.influx_org)
    return Queries(client.query_api(), settings.influx_bucket, settings.influx_org)


def _fmt(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


@click.group()
def query() -> None:
    """Read the time series in InfluxDB (latest values, series, monthly aggregates)."""


@query.command("latest")
@click.option("--station", default="", help="One station id (default: all).")
@click.option("--days", default=30, show_default=True, help="How far back to look.")
@pass_settings
def latest(settings: Settings, station: str, days: int) -> None:
    """The newest value of every station and parameter, with its QC flag.

    \b
    Example:
      basin query latest --station JS-TH-028
    """
    since = datetime.now(UTC) - timedelta(days=days)
    rows = _queries(settings).latest(since, station=station)
    print_table(
        "latest values",
        ("station", "name", "parameter", "time", "value", "qc"),
        (
            (r.station, r.station_name, r.parameter, r.time.isoformat(), _fmt(r.value), str(r.qc))
            for r in rows
        ),
    )


@query.command("monthly")
@click.option("--month", required=True, help="Calendar month in Beijing time, e.g. 2021-04.")
@pass_settings
def monthly(settings: Settings, month: str) -> None:
    """Count, mean, minimum and maximum of QC-good values per station and parameter.

    \b
    Example:
      basin query monthly --month 2021-04
    """
    try:
        rows = _queries(settings).monthly(month)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    print_table(
        f"QC-good values in {month} (Beijing time)",
        ("station", "name", "jurisdiction", "parameter", "n", "mean", "min", "max"),
        (
            (
                r.station,
                r.station_name,
                r.jurisdiction,
                r.parameter,
                str(r.count),
                f"{r.mean:.4g}",
                _fmt(r.minimum),
                _fmt(r.maximum),
            )
            for r in rows
        ),
    )
