"""`basin import`: publish historical results as station reports on the raw topic."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click
from rich.progress import Progress

from stations.errors import StationsError
from stations.formats.cnemc import read_cnemc
from stations.formats.history import reports_from_cnemc
from streams.cli.common import open_registry, pass_settings, registry_option
from streams.settings import Settings


@click.group("import")
def import_() -> None:
    """Publish historical results as station reports on wq.reports.raw."""


@import_.command("cnemc")
@click.option("--year", type=int, required=True, help="Year of the exports (they print MM-DD).")
@registry_option
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@pass_settings
def cnemc(
    settings: Settings, year: int, registry_path: Path | None, files: tuple[Path, ...]
) -> None:
    """Publish CSV exports of the national real-time publishing system as reports.

    Maintenance rows (站点情况 维护) become reports whose values are flagged M; rows without an
    observation time are counted as skipped. Prints a JSON summary at the end.

    \b
    Example:
      basin import cnemc --year 2021 tests/data/cnemc-2021-04/江苏省/*.csv
    """
    from kafka import KafkaProducer

    try:
        registry = open_registry(registry_path, settings)
        rows = [row for path in files for row in read_cnemc(path, year=year)]
        converted = reports_from_cnemc(rows, registry, datetime.now(UTC))
    except StationsError as exc:
        raise click.ClickException(str(exc)) from exc

    producer = KafkaProducer(acks="all", linger_ms=20, **settings.kafka_client_options())
    try:
        with Progress(transient=True) as progress:
            task = progress.add_task("publishing", total=len(converted.reports))
            for report in converted.reports:
                producer.send(
                    settings.topic_raw, key=report.station.encode(), value=report.to_json()
                )
                progress.advance(task)
            producer.flush(timeout=60)
    finally:
        producer.close()
    maintenance = sum(
        1 for r in converted.reports if any(v.flag == "M" for v in r.readings.values())
    )
    summary = {
        "files": len(files),
        "rows": len(rows),
        "published": len(converted.reports),
        "maintenance": maintenance,
        "skipped": len(converted.skipped),
        "skipped_reasons": [reason for _, reason in converted.skipped],
        "topic": settings.topic_raw,
    }
    click.echo(json.dumps(summary, ensure_ascii=False))
