"""The domain core imports nothing from Kafka, Faust or InfluxDB, directly or not."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

FORBIDDEN = ("faust", "aiokafka", "kafka", "influxdb_client")
ROOT = Path(__file__).resolve().parents[3]

PROBE = """
import importlib, pkgutil, sys
import stations
names = sorted(m.name for m in pkgutil.walk_packages(stations.__path__, "stations."))
for name in names:
    importlib.import_module(name)
forbidden = {FORBIDDEN!r}
loaded = sorted(m for m in sys.modules if m.split(".")[0] in forbidden)
print(",".join(names))
print(",".join(loaded))
"""


def test_stations_modules_import_no_stream_or_storage_library() -> None:
    code = PROBE.replace("{FORBIDDEN!r}", repr(FORBIDDEN))
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    names, loaded = done.stdout.splitlines()
    imported = set(names.split(","))
    rooms = {p.name for p in (ROOT / "stations").iterdir() if (p / "__init__.py").exists()}
    modules = {
        "stations." + ".".join(path.relative_to(ROOT / "stations").with_suffix("").parts)
        for path in (ROOT / "stations").rglob("*.py")
        if path.name != "__init__.py"
    }
    assert {"formats", "quality", "standard", "rules", "simulation"} <= rooms
    assert {f"stations.{room}" for room in rooms} <= imported  # every subpackage was walked
    assert modules <= imported  # and every module in it imported
    assert loaded == ""
