"""Rule events: what the breach rules say about a station's newest result.

A :class:`RuleEvent` travels on ``wq.breaches`` (one message per event) and inside the assessed
report of the evaluation that produced it::

    {"id": "JS-TH-028:target-class:breach:2021-04-01T12:00:00+00:00", "kind": "breach",
     "station": "JS-TH-028", "station_name": "西山", "rule": "target-class", "parameter": "class",
     "observed": 6.0, "limit": 4.0, "severity": "warning", "jurisdictions": ["JS", "TBA"],
     "observed_at": "2021-04-01T12:00:00Z", "message": "西山 水质 劣Ⅴ类, 目标 Ⅳ类",
     "since": "2021-04-01T08:00:00Z", "statistic": "latest", "side": "max"}

``since`` and ``statistic`` come with a breach only. ``side`` says which side of the limit breaches
(``max``: above it); documents written before it was added have none. ``id`` is stable across
replays. For the target-class rule ``observed`` and ``limit`` are classes 1..6. Pure.
"""

from __future__ import annotations

from enum import StrEnum

from stations.formats.records import AwareDatetime, Name, Record
from stations.jurisdictions import Jurisdiction


class EventKind(StrEnum):
    """What a rule says about the newest result."""

    BREACH = "breach"  # breached, persistence met: the alert fires
    PENDING = "pending"  # beyond the limit, persistence not met yet
    RECOVERY = "recovery"  # breached before, not any more


class Severity(StrEnum):
    """How urgent a breach is."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class Side(StrEnum):
    """Which side of its limit breaches a rule."""

    MAX = "max"  # above the limit (the target class: a worse class)
    MIN = "min"  # below it (low dissolved oxygen, low flow)


class RuleEvent(Record, frozen=True, omit_defaults=True):
    """A breach, pending breach or recovery of one rule at one station's newest result."""

    id: Name
    kind: EventKind
    station: Name
    station_name: str
    rule: Name
    parameter: Name
    observed: float
    limit: float
    severity: Severity
    jurisdictions: tuple[Jurisdiction, ...]
    observed_at: AwareDatetime
    message: str
    since: AwareDatetime | None = None
    statistic: str | None = None
    side: Side | None = None

    def __post_init__(self) -> None:
        breach = self.kind is EventKind.BREACH
        if breach != (self.since is not None) or breach != (self.statistic is not None):
            raise ValueError(
                f"rule event {self.id}: 'since' and 'statistic' come with a breach only"
            )


def event_id(station: str, rule: str, kind: EventKind, observed_at: str) -> str:
    """The id of an event (``observed_at`` as ISO text): the same for a replay of the result."""
    return f"{station}:{rule}:{kind}:{observed_at}"
