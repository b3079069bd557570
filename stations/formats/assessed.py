"""The assessed report: a station report after QC, GB 3838 classification and the breach rules.

An :class:`AssessedReport` travels on ``wq.reports.assessed`` (schema 1)::

    {"schema": 1, "station": "JS-TH-028", "station_name": "西山", "jurisdiction": "JS",
     "basin": "太湖流域", "water_body": "lake", "kind": "water_quality",
     "observed_at": "2021-04-01T04:00:00+08:00", "received_at": "2021-04-01T04:03:12+08:00",
     "source": "simulate", "late": false,
     "values": {"tp": {"value": 0.048, "unit": "mg/L", "flag": "N", "qc": 1, "reasons": [],
                       "class": 3}, ...},
     "class": 3, "class_name": "Ⅲ类", "limiting": ["tp"], "target_class": 4, "target_met": true,
     "events": [...]}

Values are in the parameter's canonical unit; ``qc`` is the QARTOD flag, ``reasons`` why it is not
good; a value's ``class`` is there only for a QC-good value of a classed parameter. The report's
``class`` (null at hydrology stations and when no assessed value is good) is the worst class of
the values, ``limiting`` the parameters that set it. ``events`` are the rule events of this
result (:class:`~stations.rules.events.RuleEvent`), none for a late report. Pure.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

from stations.formats.records import AwareDatetime, Hj212Flag, Name, Record
from stations.jurisdictions import Jurisdiction
from stations.quality.checks import QCFlag
from stations.rules.events import RuleEvent
from stations.standard.gb3838 import WaterBody
from stations.station import StationKind

#: A GB 3838-2002 class: 1..5 for Ⅰ..Ⅴ, 6 for 劣Ⅴ.
WaterClass = Annotated[int, msgspec.Meta(ge=1, le=6)]


class AssessedValue(Record, frozen=True, omit_defaults=True):
    """One parameter of an assessed report, in its canonical unit."""

    value: float | None
    unit: str
    flag: Hj212Flag
    qc: QCFlag
    reasons: tuple[str, ...]
    water_class: WaterClass | None = msgspec.field(default=None, name="class")

    @property
    def good(self) -> float | None:
        """The value if QC-good (what rules and classes use), else None."""
        return self.value if self.qc is QCFlag.GOOD else None


class AssessedReport(Record, frozen=True, tag_field="schema", tag=1):
    """A station report after QC, classification and rules (``schema`` 1 on the wire)."""

    station: Name
    station_name: str
    jurisdiction: Jurisdiction
    basin: str
    water_body: WaterBody
    kind: StationKind
    observed_at: AwareDatetime
    received_at: AwareDatetime
    source: str
    late: bool
    values: dict[str, AssessedValue]
    water_class: WaterClass | None = msgspec.field(name="class")
    class_name: str | None
    limiting: tuple[str, ...]
    target_class: WaterClass | None
    target_met: bool | None
    events: tuple[RuleEvent, ...] = ()

    def good(self, parameter: str) -> float | None:
        """The QC-good value of ``parameter`` in this report, or None."""
        entry = self.values.get(parameter)
        return None if entry is None else entry.good
