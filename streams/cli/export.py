"""`basin export`: the month for the joint meeting as XLSX, CSV and PDF (docs/exports.md)."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import click

from boards.charts import FontMissing
from stations.errors import SharingError
from stations.jurisdictions import Jurisdiction
from streams.cli.common import open_registry, pass_settings, registry_option
from streams.settings import Settings

FORMATS = ("xlsx", "csv", "pdf")


def parse_month(text: str) -> date:
    """``2021-04`` -> date(2021, 4, 1); BadParameter otherwise."""
    try:
        year, month = (int(part) for part in text.split("-"))
        return date(year, month, 1)
    except ValueError as exc:
        raise click.BadParameter(
            f"{text!r}: give a month like 2021-04", param_hint="--month"
        ) from exc


def parse_formats(text: str) -> list[str]:
    formats = [f.strip().lower() for f in text.split(",") if f.strip()]
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise click.BadParameter(
            f"{text!r}: a comma-separated list of {', '.join(FORMATS)}", param_hint="--format"
        )
    return list(dict.fromkeys(formats))


@click.command("export")
@click.option(
    "--month", "month_text", required=True, help="Calendar month in Beijing time: 2021-04."
)
@click.option(
    "--party",
    type=click.Choice([j.value for j in Jurisdiction]),
    help="Export only what this party may see (its view); default: the basin-wide export.",
)
@click.option(
    "--format",
    "format_text",
    default=",".join(FORMATS),
    show_default=True,
    help="Comma-separated formats.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory written to (default: var/exports/MONTH).",
)
@click.option("--bucket", help="Main bucket (default: BASIN_INFLUX_BUCKET).")
@registry_option
@pass_settings
def export_command(
    settings: Settings,
    month_text: str,
    party: str | None,
    format_text: str,
    out: Path | None,
    bucket: str | None,
    registry_path: Path | None,
) -> None:
    """Assess a month by the national method (环办〔2011〕22号) from the data in InfluxDB and
    write the joint meeting's tables: sections, jurisdictions and basin, lake, cross-boundary
    sections, exceedances and alerts, data sharing.

    \b
    Example:
      basin export --month 2021-04
      basin export --month 2021-04 --party ZJ --format xlsx,csv --out var/exports/zj
    """
    from influxdb_client.rest import ApiException
    from urllib3.exceptions import HTTPError

    from exports.figures import figures
    from exports.files import write_export
    from exports.reading import read_month
    from exports.tables import build

    month = parse_month(month_text)
    formats = parse_formats(format_text)
    directory = out or Path("var/exports") / f"{month:%Y-%m}"
    registry = open_registry(registry_path, settings)
    started = time.monotonic()

    def progress(step: str) -> None:
        click.echo(f"[{time.monotonic() - started:5.1f} s] {step}", err=True)

    who = f"party {party}'s view" if party else "all data (basin-wide)"
    progress(f"reading {month:%Y-%m} from InfluxDB: {who}")
    try:
        data = read_month(settings, month, party, bucket=bucket, registry=registry)
    except (ValueError, LookupError, OSError, SharingError, HTTPError, ApiException) as exc:
        raise click.ClickException(f"reading {month:%Y-%m} failed: {exc}") from exc
    progress(f"assessing {len(data.stations)} stations with data")
    export, assessed = build(data, registry)
    try:
        written = write_export(
            export, directory, formats, figures=lambda: figures(assessed), progress=progress
        )
    except FontMissing as exc:
        raise click.ClickException(str(exc)) from exc
    progress("done")
    click.echo(export.summary)
    click.echo(f"bucket {export.bucket}; tables: " + ", ".join(
        f"{t.key} ({len(t.rows)} rows)" for t in export.tables
    ))  # fmt: skip
    click.echo(f"wrote {len(written)} files to {directory}:")
    for path in written:
        click.echo(f"  {path}  ({path.stat().st_size:,} bytes)")
