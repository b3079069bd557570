"""What the store writes, as the boards may name it: measurements, their tags and fields.

The names are those of ``streams/store/points.py`` (docs/schema.md). The Flux builder refuses a
measurement, tag or field that is not here, and a unit test writes points with the store's own
code and checks that this table says exactly what they hold; so a board query naming a field the
store does not write fails the unit tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from streams.store.points import (
    ALERTS,
    ASSESSMENT,
    BREACHES,
    DELIVERIES,
    HYDROLOGY,
    QC,
    REJECTED,
    WATER_QUALITY,
)

__all__ = [
    "ALERTS",
    "ASSESSMENT",
    "BREACHES",
    "DELIVERIES",
    "HYDROLOGY",
    "MEASUREMENTS",
    "QC",
    "REJECTED",
    "WATER_QUALITY",
    "Measurement",
    "SchemaError",
]

#: Tags every station measurement carries (points.py ``_STATION_TAGS``).
STATION_TAGS = ("station", "station_name", "jurisdiction", "basin", "water_body")
#: The tag a party view adds to aggregated points (contract 1; absent on real-time points).
AGG_TAG = "agg"


class SchemaError(ValueError):
    """A board query names a measurement, tag or field the store does not write."""


@dataclass(frozen=True)
class Measurement:
    """One measurement: its tag keys and field keys."""

    name: str
    tags: frozenset[str]
    fields: frozenset[str]

    def check_tag(self, tag: str) -> None:
        if tag not in self.tags:
            raise SchemaError(f"{self.name}: no tag {tag!r}; tags: {', '.join(sorted(self.tags))}")

    def check_field(self, field: str) -> None:
        if field not in self.fields:
            raise SchemaError(
                f"{self.name}: no field {field!r}; fields: {', '.join(sorted(self.fields))}"
            )


def _m(name: str, tags: tuple[str, ...], fields: tuple[str, ...]) -> Measurement:
    return Measurement(name, frozenset((*tags, AGG_TAG)), frozenset(fields))


MEASUREMENTS: Mapping[str, Measurement] = MappingProxyType(
    {
        m.name: m
        for m in (
            _m(WATER_QUALITY, (*STATION_TAGS, "parameter"), ("value", "qc", "class")),
            _m(HYDROLOGY, (*STATION_TAGS, "parameter"), ("value", "qc")),
            _m(
                ASSESSMENT,
                STATION_TAGS,
                ("late", "class", "limiting", "target_class", "target_met"),
            ),
            _m(QC, (*STATION_TAGS, "parameter"), ("flag", "reasons")),
            _m(
                BREACHES,
                ("station", "station_name", "rule", "parameter", "kind", "severity"),
                ("id", "jurisdictions", "message", "observed", "limit"),
            ),
            _m(
                ALERTS,
                (
                    "station",
                    "station_name",
                    "jurisdiction",
                    "rule",
                    "parameter",
                    "severity",
                    "change",
                ),
                (
                    "id",
                    "state",
                    "tier",
                    "notified",
                    "suppressed",
                    "parties",
                    "message",
                    "observed",
                    "limit",
                ),
            ),
            _m(
                DELIVERIES,
                ("station", "receiver", "ok"),
                ("changes", "title", "attempts", "errors"),
            ),
            _m(REJECTED, ("reason", "station", "jurisdiction"), ("source", "detail", "count")),
        )
    }
)


def measurement(name: str) -> Measurement:
    """The measurement called ``name``; SchemaError if the store writes none."""
    try:
        return MEASUREMENTS[name]
    except KeyError:
        raise SchemaError(
            f"no measurement {name!r}; the store writes: {', '.join(sorted(MEASUREMENTS))}"
        ) from None
