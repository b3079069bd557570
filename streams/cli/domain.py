"""`basin classify` and `basin stations`: thin shells around the pure domain core (stations/)."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from stations.errors import (
    CnemcFormatError,
    ConfigError,
    Problem,
    QCConfigError,
    RegistryError,
    RuleConfigError,
    UnknownStationError,
)
from stations.formats.cnemc import agreement, classify_rows, read_cnemc
from stations.jurisdictions import Jurisdiction
from stations.quality.limits import load_qc_limits
from stations.registry import Registry, load_registry
from stations.rules.config import load_rules
from stations.standard.gb3838 import CLASS_NAMES
from streams.cli.common import open_registry, pass_settings, registry_option
from streams.settings import Settings

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.command()
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["cnemc"]),
    default="cnemc",
    show_default=True,
    help="Input format: cnemc = CSV export of the national real-time publishing system.",
)
@click.option(
    "--year",
    type=click.IntRange(2000, 2100),
    required=True,
    help="Year of the results (the files give 'MM-DD HH:MM' only).",
)
@click.option(
    "--summary",
    is_flag=True,
    help="On stderr: rows with a published class, how many agree, and each disagreeing row.",
)
@registry_option
@click.argument("files", nargs=-1, required=True, type=_FILE)
@pass_settings
def classify(
    settings: Settings,
    fmt: str,
    year: int,
    summary: bool,
    registry_path: Path | None,
    files: tuple[Path, ...],
) -> None:
    """Class published results by GB 3838-2002; one JSON line per row on stdout.

    Each line: section (断面名称), observed_at (ISO 8601, +08:00, or null), status (站点情况),
    class (1..6, 6 = 劣Ⅴ类, null when not all of pH, DO, CODMn, NH3-N, TP are present),
    limiting parameters and the class of each classed parameter.

    \b
    Example:
      basin classify --format cnemc --year 2021 --summary tests/data/cnemc-2021-04/江苏省/*.csv
    """
    registry = open_registry(registry_path, settings)
    classified = []
    for path in files:
        try:
            rows = read_cnemc(path, year=year)
            done = classify_rows(rows, registry)
        except CnemcFormatError as exc:
            raise click.ClickException(str(exc)) from exc
        except UnknownStationError as exc:
            raise click.ClickException(
                f"{path}: section not in the station registry: {exc} "
                "(add it to the registry, or pass --registry)"
            ) from exc
        for item in done:
            click.echo(json.dumps(item.as_json(), ensure_ascii=False))
        classified.extend(done)
    if summary:
        result = agreement(classified)
        for item in result.mismatches:
            click.echo(f"disagree: {item.explain()}", err=True)
        click.echo(
            f"rows: {result.rows}; with a published class (水质类别): {result.published}; "
            f"agree: {result.agree} ({result.percent:.1f}%)",
            err=True,
        )


@click.group()
def stations() -> None:
    """The station registry: check it, list it."""


@stations.command("check")
@click.argument("path", required=False, type=_FILE)
@click.option(
    "--qc", "qc_path", type=_FILE, help="Also check these QC limits against the registry."
)
@click.option(
    "--rules", "rules_path", type=_FILE, help="Also check these rules against the registry."
)
def check(path: Path | None, qc_path: Path | None, rules_path: Path | None) -> None:
    """Validate a station registry (default: the shipped one); every problem as path:line: message.

    Exit 1 if there is any problem, else print one line with the station count per jurisdiction.

    \b
    Example:
      basin stations check
      basin stations check stations/data/stations.yaml --qc stations/data/qc.yaml \\
          --rules stations/data/rules.yaml
    """
    problems: list[Problem] = []
    registry: Registry | None = None
    try:
        registry = load_registry(path)
    except RegistryError as exc:
        problems.extend(exc.problems)
    if registry is not None:
        for extra, loader, error in (
            (qc_path, load_qc_limits, QCConfigError),
            (rules_path, load_rules, RuleConfigError),
        ):
            if extra is None:
                continue
            try:
                loader(extra, registry=registry)
            except error as exc:
                assert isinstance(exc, ConfigError)
                problems.extend(exc.problems)
    for problem in problems:
        click.echo(str(problem))
    if problems:
        raise SystemExit(1)
    assert registry is not None
    counts = ", ".join(f"{j.value} {n}" for j, n in registry.counts().items())
    click.echo(f"{registry.path}: {len(registry)} stations OK ({counts})")


@stations.command("list")
@click.argument("path", required=False, type=_FILE)
@click.option(
    "--jurisdiction",
    type=click.Choice([j.value for j in Jurisdiction]),
    help="Only the stations this jurisdiction owns or shares.",
)
def list_stations(path: Path | None, jurisdiction: str | None) -> None:
    """Print the stations of a registry (default: the shipped one) as a table.

    \b
    Example:
      basin stations list --jurisdiction SH
    """
    registry = open_registry(path)
    table = Table("id", "name", "owner", "water body", "kind", "target", "shared with", "confirm")
    for station in registry:
        if jurisdiction and jurisdiction not in station.jurisdictions:
            continue
        others = [j.value for j in station.jurisdictions if j is not station.jurisdiction]
        target = CLASS_NAMES[station.target_class] if station.target_class else "-"
        table.add_row(
            station.id,
            station.name,
            station.jurisdiction.name_zh,
            station.water_body.value,
            station.kind.value,
            target,
            " ".join(others),
            " ".join(station.confirm),
        )
    Console().print(table)
