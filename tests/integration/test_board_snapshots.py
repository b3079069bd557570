"""`basin boards snapshot` against the real local InfluxDB holding the published April 2021
results: the basin board's panels as PNGs that decode, are not blank and carry their titles."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from click.testing import CliRunner
from influxdb_client import WritePrecision
from influxdb_client.client.write_api import SYNCHRONOUS
from PIL import Image

from boards import charts
from boards.bundle import bundle
from boards.snapshot import Window, figure, influx_runner, panels, queries
from stations.formats.assessed import AssessedReport
from stations.registry import load_registry
from stations.sharing.config import load_sharing
from stations.station import StationKind
from streams.cli import main
from streams.cli.common import SettingsInfo
from streams.settings import Settings
from streams.store.points import assessed_points, line_protocol
from streams.testing.pipeline import expected_outcome, published_reports
from tests.integration.conftest import Influx

APRIL = ["--from", "2021-04-01", "--to", "2021-05-01"]


def _load_april(influx: Influx) -> None:
    docs = [
        d for d in expected_outcome(published_reports())["docs"] if isinstance(d, AssessedReport)
    ]
    lines = [line for doc in docs for line in line_protocol(assessed_points(doc))]
    with influx.client() as client:
        client.write_api(write_options=SYNCHRONOUS).write(
            bucket=influx.bucket, record=lines, write_precision=WritePrecision.S
        )


def _settings(influx: Influx) -> Settings:
    return Settings(
        influx_url=influx.url,
        influx_org=influx.org,
        influx_bucket=influx.bucket,
        influx_token=influx.token,
    )


def _overview(settings: Settings) -> dict[str, Any]:
    registry = load_registry(None)
    listed = load_sharing(None, registry=registry)
    boards = bundle(settings, registry, listed).boards
    return next(b.dashboard for b in boards if b.dashboard["uid"] == "bw-overview")


def test_the_basin_board_snapshot_is_one_readable_png_per_panel(
    influx: Influx, tmp_path: Path
) -> None:
    _load_april(influx)
    settings = _settings(influx)
    overview = _overview(settings)

    result = CliRunner().invoke(
        main,
        ["boards", "snapshot", "--board", "basin", "--out", str(tmp_path), *APRIL],
        obj=SettingsInfo(settings),
    )

    assert result.exit_code == 0, result.output
    drawn = panels(overview)
    written = sorted((tmp_path / "bw-overview").glob("*.png"))
    assert len(written) == len(drawn) > 0
    assert result.output.strip() == (
        f"{len(drawn)} panels of {overview['title']} (bw-overview) in {tmp_path / 'bw-overview'}"
    )
    for path, panel in zip(written, drawn, strict=True):
        with Image.open(path) as image:
            assert image.format == "PNG"
            assert image.info["Title"] == f"{overview['title']} · {panel['title']}"
            pixels = np.asarray(image.convert("L"), dtype=float)
        assert pixels.std() > 10, f"{path.name} is blank"


def test_the_class_panels_show_the_april_data(influx: Influx) -> None:
    _load_april(influx)
    overview = _overview(_settings(influx))
    window = Window(
        datetime(2021, 3, 31, 16, tzinfo=UTC),
        datetime(2021, 4, 30, 16, tzinfo=UTC),
        influx.bucket,
        influx.org,
        {},
    )
    charts.use_cjk_font()
    drawn = {}
    with influx.client() as client:
        run = influx_runner(client.query_api(), influx.org)
        for panel in panels(overview):
            tables = [t for q in queries(panel, window) for t in run(q)]
            chart = figure(overview, panel, tables, window)
            texts = [t.get_text() for t in chart.findobj(lambda a: hasattr(a, "get_text"))]
            drawn[panel["type"], panel["title"]] = texts
    # The class distribution (a pie: bars with shares) and the basin status come from the
    # April classes: drawn, never "no data"; the bars count every classed section once.
    pie = next(texts for (kind, _), texts in drawn.items() if kind == "piechart")
    assert charts.NO_DATA not in pie
    counts = [int(t.split(" ")[0]) for t in pie if t.endswith("%)")]
    assert sum(counts) == len(_classed_sections())
    status = next(texts for (kind, title), texts in drawn.items() if "状况" in title)
    assert charts.NO_DATA not in status


def _classed_sections() -> set[str]:
    return {
        d.station
        for d in expected_outcome(published_reports())["docs"]
        if isinstance(d, AssessedReport)
        and d.water_class is not None
        and d.kind is StationKind.WATER_QUALITY
    }
