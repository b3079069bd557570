"""The statistics the simulator draws values from, derived from real published results.

``data/simulation_profile.json`` is built from the national system's 4-hourly results of 37
Jiangsu sections in April 2021 (``tests/data/cnemc-2021-04``) and committed, so the package does
not need the test data. Rebuild it with::

    python -m stations.simulation.profile tests/data/cnemc-2021-04/江苏省

Per water body (lake, river) and parameter, in *model space* (the natural log for parameters that
are positive concentrations or counts, the value itself for pH and water temperature):

- ``median``: median of the published values (canonical unit);
- ``between_section_std``: spread of the sections' own medians;
- ``day_std``: spread of a section's daily means around its median (day-to-day variation);
- ``noise_std``: spread of single results around their day's mean, once the cycle is removed;
- ``cycle``: mean offset of each 4-hour slot (00, 04, ... 20 h) from the section's median, and its
  first harmonic: ``amplitude`` and ``peak_hour``;
- ``min``, ``max``, ``n``: the published range and number of results used.

``sections`` holds each section's own median per parameter; ``decimals`` the number of decimals
the results are published with (canonical unit). Only rows of status 正常 with a time are used,
repeated rows once. Pure except :func:`main`, which reads and writes files.
"""

from __future__ import annotations

import json
import math
import sys
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

from stations import DATA_DIR
from stations.formats.cnemc import CnemcRow, read_cnemc
from stations.registry import Registry, load_registry

#: The committed profile shipped in the package.
DEFAULT_PROFILE = DATA_DIR / "simulation_profile.json"

#: Parameters simulated with their value itself; every other one through its logarithm. (The
#: water level is not in the published data; the hydrology simulation uses the same functions.)
LINEAR = frozenset({"ph", "temp", "level"})

SLOT_HOURS = (0, 4, 8, 12, 16, 20)
_NORMAL_STATUS = "正常"
_SIGNIFICANT = 6


def to_model(key: str, value: float) -> float:
    """A canonical value in model space (log for concentrations, as is for pH and temperature)."""
    return value if key in LINEAR else math.log(value)


def from_model(key: str, x: float) -> float:
    """The inverse of :func:`to_model`."""
    return x if key in LINEAR else math.exp(x)


def load_profile(path: str | Path | None = None) -> dict[str, Any]:
    """The profile JSON (default: the shipped one)."""
    with open(path or DEFAULT_PROFILE, encoding="utf-8") as handle:
        profile: dict[str, Any] = json.load(handle)
    return profile


def build_profile(rows: Iterable[CnemcRow], registry: Registry, source: str) -> dict[str, Any]:
    """The profile of published rows; each row's section must be in the registry."""
    # (water body, parameter, section) -> {(date, slot): value}
    series: dict[tuple[str, str, str], dict[tuple[date, int], float]] = defaultdict(dict)
    decimals: dict[str, int] = defaultdict(int)
    for row in rows:
        if row.observed_at is None or row.status != _NORMAL_STATUS:
            continue
        if row.observed_at.hour not in SLOT_HOURS or row.observed_at.minute:
            continue
        body = registry.by_name(row.section).water_body.value
        moment = (row.observed_at.date(), SLOT_HOURS.index(row.observed_at.hour))
        for key, value in row.values.items():
            if key not in LINEAR and value <= 0:
                continue
            series[(body, key, row.section)][moment] = value
            decimals[key] = max(decimals[key], _decimals(value))
    bodies: dict[str, dict[str, Any]] = defaultdict(dict)
    sections: dict[str, dict[str, float]] = defaultdict(dict)
    for body, key in sorted({(b, k) for b, k, _ in series}):
        per_section = {s: v for (b, k, s), v in series.items() if (b, k) == (body, key)}
        bodies[body][key] = _statistics(key, per_section)
        for section, values in per_section.items():
            sections[section][key] = _tidy(float(np.median(list(values.values()))))
    return {
        "source": source,
        "slot_hours": list(SLOT_HOURS),
        "linear": sorted(LINEAR),
        "decimals": dict(sorted(decimals.items())),
        "water_bodies": {
            body: dict(sorted(stats.items())) for body, stats in sorted(bodies.items())
        },
        "sections": {name: dict(sorted(v.items())) for name, v in sorted(sections.items())},
    }


def _statistics(
    key: str, per_section: Mapping[str, Mapping[tuple[date, int], float]]
) -> dict[str, Any]:
    values = [v for section in per_section.values() for v in section.values()]
    deviations: list[tuple[str, date, int, float]] = []
    levels = []
    for section, points in per_section.items():
        level = to_model(key, float(np.median(list(points.values()))))
        levels.append(level)
        deviations += [(section, d, s, to_model(key, v) - level) for (d, s), v in points.items()]
    by_slot = [[x for _, _, s, x in deviations if s == slot] for slot in range(len(SLOT_HOURS))]
    cycle = np.array([np.mean(xs) if xs else 0.0 for xs in by_slot])
    cycle -= cycle.mean()
    days: dict[tuple[str, date], list[float]] = defaultdict(list)
    for section, day, slot, x in deviations:
        days[(section, day)].append(x - cycle[slot])
    day_means: dict[str, list[float]] = defaultdict(list)
    noise: list[float] = []
    for (section, _), xs in days.items():
        if len(xs) >= 3:
            day_means[section].append(float(np.mean(xs)))
            noise += [x - float(np.mean(xs)) for x in xs]
    day_vars = [np.var(m, ddof=1) for m in day_means.values() if len(m) >= 2]
    angles = 2 * np.pi * np.array(SLOT_HOURS) / 24
    a = 2 / len(SLOT_HOURS) * float(np.sum(cycle * np.cos(angles)))
    b = 2 / len(SLOT_HOURS) * float(np.sum(cycle * np.sin(angles)))
    return {
        "median": _tidy(float(np.median(values))),
        "between_section_std": _tidy(float(np.std(levels, ddof=1)) if len(levels) > 1 else 0.0),
        "day_std": _tidy(math.sqrt(float(np.mean(day_vars))) if day_vars else 0.0),
        "noise_std": _tidy(float(np.std(noise)) if noise else 0.0),
        "cycle": [_tidy(float(c)) for c in cycle],
        "amplitude": _tidy(math.hypot(a, b)),
        "peak_hour": _tidy(math.degrees(math.atan2(b, a)) / 15 % 24),
        "min": min(values),
        "max": max(values),
        "n": len(values),
    }


def _decimals(value: float) -> int:
    exponent = Decimal(repr(value)).normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _tidy(x: float) -> float:
    return float(f"{x:.{_SIGNIFICANT}g}")


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m stations.simulation.profile DATA_DIR [OUT]``: rebuild the profile JSON."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or len(args) > 2:
        print("usage: python -m stations.simulation.profile DATA_DIR [OUT]", file=sys.stderr)
        return 2
    data_dir = Path(args[0])
    out = Path(args[1]) if len(args) > 1 else DEFAULT_PROFILE
    files = sorted(data_dir.glob("*.csv"))
    rows = [row for path in files for row in read_cnemc(path, year=2021)]
    source = f"CNEMC 4-hourly results, {len(files)} sections, {data_dir.as_posix()}"
    profile = build_profile(rows, load_registry(), source)
    text = json.dumps(profile, ensure_ascii=False, indent=1, sort_keys=False)
    out.write_text(text + "\n", encoding="utf-8")
    print(f"wrote {out} ({len(profile['sections'])} sections)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
