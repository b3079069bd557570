"""Historical published results turned into station reports (``basin import``). Pure."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from stations import parameters
from stations.formats.cnemc import CnemcRow
from stations.formats.report import Reading, Report
from stations.registry import Registry

#: 站点情况 values of the published exports that mean the values are maintenance values.
MAINTENANCE_STATUS = frozenset({"维护"})


@dataclass
class Conversion:
    """Reports made from published rows, and the rows that could not become a report."""

    reports: list[Report] = field(default_factory=list)
    skipped: list[tuple[CnemcRow, str]] = field(default_factory=list)


def reports_from_cnemc(
    rows: Iterable[CnemcRow], registry: Registry, received_at: datetime
) -> Conversion:
    """One report per published row with a time; maintenance rows keep their values, flagged M.

    A row without an observation time cannot be a report (the exports print ``*``): it is listed
    in ``skipped`` with the reason. UnknownStationError names a section not in the registry.
    """
    out = Conversion()
    for row in rows:
        station = registry.by_name(row.section)
        if row.observed_at is None:
            out.skipped.append((row, f"{row.path}:{row.line}: no observation time"))
            continue
        flag = "M" if row.status in MAINTENANCE_STATUS else "N"
        readings = {
            key: Reading(value, parameters.get(key).unit, flag) for key, value in row.values.items()
        }
        out.reports.append(
            Report(
                station=station.id,
                observed_at=row.observed_at,
                received_at=received_at,
                source="import:cnemc",
                readings=readings,
            )
        )
    return out
