"""The alert lifecycle of one station: a pure state machine.

Its inputs are records: an :class:`~stations.formats.assessed.AssessedReport` with the
:class:`~stations.rules.events.RuleEvent` s of its evaluation, a tick, an acknowledgement, a
silence. Its outputs are :class:`~alerts.records.Change` records (the transition a
:class:`~alerts.records.What` value). The state itself is kept as JSON in the agent's table.

An alert is one (station, rule, parameter). Its states::

    (none) --pending event--> pending --breach--> firing --ack--> acknowledged
       |                         |                  |                 |
       +--------breach-----------+-----> firing     +----resolve------+--> resolved

- **pending**: the newest result is beyond the limit but the rule's persistence is not met yet
  (the check agent's ``pending`` event). Nobody is paged; a QC-good result within the limit
  clears it silently.
- **firing**: the rule is breached (``breach`` event). Tier 1 of every party's rota is paged.
- **hysteresis**: a ``recovery`` event resolves the alert only when the value is beyond the clear
  threshold (the limit moved by ``hysteresis`` x |limit| to the safe side); otherwise the alert
  keeps firing, marked *clearing*, and resolves at the first QC-good result past the threshold.
  A value hovering at the limit therefore makes one alert, not one per crossing.
- **repeat**: an unacknowledged firing alert is sent again every ``repeat``.
- **escalation**: unacknowledged ``escalate[i]`` after firing, tier i + 2 is paged.
- **station silent**: no report for ``silent_intervals`` reporting intervals raises a
  ``station-silent`` alert; while a station is silent or in maintenance (HJ 212 flag M) its
  parameter alerts are inhibited: none fires, repeats or escalates.
- **silences** (maintenance windows) suppress notifications, not state: a firing alert whose
  notification was suppressed is sent when the silence ends, if it still fires.

Time is data: every input carries its time (the Kafka timestamp of the report, the time of a
tick or of an acknowledgement), and the station's clock only moves forward, so a restart or a
replay of the same input reaches the same state and the same :class:`Change` ids. Notifiers
deduplicate by change id, so nobody is paged twice for the same thing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from alerts.errors import CommandRefusedError
from alerts.records import AlertSnapshot, AlertState, Change, Transition, What
from stations.formats.assessed import AssessedReport
from stations.rules.engine import CLASS_PARAMETER
from stations.rules.events import EventKind, RuleEvent, Side
from stations.station import Station

PENDING, FIRING = AlertState.PENDING, AlertState.FIRING
ACKNOWLEDGED, RESOLVED = AlertState.ACKNOWLEDGED, AlertState.RESOLVED

SILENT_RULE = "station-silent"
SILENT_PARAMETER = "report"
MAINTENANCE_FLAG = "M"  # HJ 212 value flag (stations.quality.screening.INSTRUMENT_FLAGS)

#: Resolved alerts and ended silences are kept this long (for the console and replays).
KEEP = timedelta(days=7).total_seconds()


@dataclass(frozen=True)
class Policy:
    """Timing of the lifecycle (from the alerts YAML) and how many tiers a rota has."""

    repeat: timedelta = timedelta(hours=4)
    escalate: tuple[timedelta, ...] = (timedelta(minutes=30), timedelta(hours=2))
    silent_intervals: float = 2.0
    hysteresis: float = 0.1
    stale: timedelta = timedelta(hours=24)  # older results (a history import) page nobody
    max_tier: Callable[[Sequence[str], str], int] = lambda parties, owner: 1


@dataclass
class Alert:
    id: str
    station: str
    station_name: str
    jurisdiction: str  # the station's owner
    parties: list[str]  # everyone to notify: owner, other parties of the section, TBA
    rule: str
    parameter: str
    severity: str
    state: AlertState
    observed: float | None
    limit: float | None
    observed_at: str  # ISO time of the newest result judged
    since: str  # ISO time the breach (or the silence) began
    message: str
    started: float  # clock time the episode began (pending or firing): part of change ids
    fired_at: float | None = None
    notified_at: float | None = None  # last time it was sent; None: firing but not sent yet
    paged_at: float | None = None  # first time it was sent: escalation counts from here
    repeats: int = 0
    tier: int = 1
    side: Side = Side.MAX  # breached above the limit, or below it
    clearing: bool = False
    acked_by: str | None = None
    ack_note: str | None = None
    acked_at: float | None = None
    resolved_at: float | None = None

    @property
    def episode(self) -> str:
        return iso(self.started)

    def snapshot(self) -> AlertSnapshot:
        """The alert as a change carries it (validated: a bug here fails loudly)."""
        doc = asdict(self)
        for name in ("started", "fired_at", "notified_at", "paged_at", "acked_at", "resolved_at"):
            doc[name] = None if doc[name] is None else utc(doc[name])
        doc["state_name"] = self.state.name_zh
        return msgspec.convert(doc, AlertSnapshot)

    @classmethod
    def from_doc(cls, doc: Mapping[str, Any]) -> Alert:
        """An alert as :meth:`StationAlerts.to_json` stored it."""
        return cls(**{**doc, "state": AlertState(doc["state"]), "side": Side(doc["side"])})


@dataclass
class Silence:
    """A maintenance window: no notification for the station from start to end."""

    id: str
    station: str
    start: float
    end: float
    author: str
    reason: str
    created_at: float

    def covers(self, moment: float) -> bool:
        return self.start <= moment < self.end

    def describe(self) -> str:
        return f"silenced by {self.author} until {iso(self.end)}: {self.reason}"

    def to_doc(self) -> dict[str, Any]:
        doc = asdict(self)
        for name in ("start", "end", "created_at"):
            doc[name] = iso(doc[name])
        return doc


@dataclass
class StationAlerts:
    """Everything the alert agent keeps about one station (one table entry)."""

    station: str
    name: str  # the station's Chinese name
    owner: str  # its jurisdiction
    parties: list[str]  # who is told of its alerts (owner, other parties of a section, TBA)
    interval: float  # reporting interval, seconds
    clock: float = 0.0
    last_received: float | None = None
    maintenance: bool = False
    alerts: dict[str, Alert] = field(default_factory=dict)
    silences: list[Silence] = field(default_factory=list)

    @classmethod
    def of(cls, station: Station) -> StationAlerts:
        """The state of a station nothing happened at yet."""
        return cls(
            station.id,
            station.name,
            str(station.jurisdiction),
            [str(j) for j in station.jurisdictions],
            interval=station.interval_minutes * 60.0,
        )

    # ------------------------------------------------------------------ persistence
    def to_json(self) -> bytes:
        doc = {
            "station": self.station,
            "name": self.name,
            "owner": self.owner,
            "parties": self.parties,
            "interval": self.interval,
            "clock": self.clock,
            "last_received": self.last_received,
            "maintenance": self.maintenance,
            "alerts": [asdict(alert) for alert in self.alerts.values()],
            "silences": [asdict(silence) for silence in self.silences],
        }
        return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    @classmethod
    def from_json(cls, raw: bytes) -> StationAlerts:
        doc = json.loads(raw)
        state = cls(
            doc["station"],
            doc["name"],
            doc["owner"],
            doc["parties"],
            doc["interval"],
            doc["clock"],
            doc["last_received"],
            doc["maintenance"],
        )
        state.alerts = {a["id"]: Alert.from_doc(a) for a in doc["alerts"]}
        state.silences = [Silence(**s) for s in doc["silences"]]
        return state

    # ------------------------------------------------------------------ queries
    def silence_at(self, moment: float) -> Silence | None:
        return next((s for s in self.silences if s.covers(moment)), None)

    def silent(self) -> bool:
        alert = self.alerts.get(_alert_id(self.station, SILENT_RULE, SILENT_PARAMETER))
        return alert is not None and alert.state.active

    def inhibition(self) -> str | None:
        """Why parameter alerts are inhibited now, if they are."""
        if self.silent():
            return "inhibited: station silent"
        if self.maintenance:
            return "inhibited: station in maintenance"
        return None

    # ------------------------------------------------------------------ inputs
    def evaluation(self, report: AssessedReport, received: float, policy: Policy) -> list[Change]:
        """An assessed report of this station (with its rule ``events``) arrived at ``received``.
        A result observed more than ``policy.stale`` before it arrived (history being imported)
        changes nothing: old breaches page nobody and do not count as the station reporting."""
        if received - report.observed_at.timestamp() > policy.stale.total_seconds():
            return []
        self._advance(received)
        changes: list[Change] = []
        if self.last_received is None or received >= self.last_received:
            self.last_received = received
        self.maintenance = any(v.flag == MAINTENANCE_FLAG for v in report.values.values())
        observed_at = report.observed_at.isoformat()
        silent = self.alerts.get(_alert_id(self.station, SILENT_RULE, SILENT_PARAMETER))
        if silent is not None and silent.state.active:
            silent.observed_at = observed_at
            changes += self._resolve(silent, policy)
        mentioned = set()
        for event in report.events:
            alert_id = _alert_id(self.station, event.rule, event.parameter)
            mentioned.add(alert_id)
            changes += self._event(alert_id, event, policy)
        for alert in list(self.alerts.values()):
            if alert.id in mentioned or alert.rule == SILENT_RULE:
                continue
            judged = _judged(report, alert.parameter)
            if judged is None:
                continue  # the rule was not judged by this result: nothing changed
            alert.observed = judged
            alert.observed_at = observed_at
            if alert.state == PENDING:
                alert.state = RESOLVED  # never paged: cleared without a message
                alert.resolved_at = self.clock
                changes.append(self._change(alert, What(Transition.PENDING_CLEARED), ()))
            elif alert.state.active and alert.clearing:
                clear = self._past_clear(alert, judged, policy)
                changes += self._resolve(alert, policy) if clear else []
        self._forget_old()
        return changes

    def tick(self, now: float, policy: Policy) -> list[Change]:
        """Time passed: station silence, late notifications, escalation and repeats."""
        self._advance(now)
        changes: list[Change] = []
        changes += self._check_silent(policy)
        inhibited = self.inhibition()
        silence = self.silence_at(self.clock)
        for alert in self.alerts.values():
            if alert.state != FIRING or silence is not None:
                continue
            if inhibited and alert.rule != SILENT_RULE:
                continue
            if alert.notified_at is None:  # held back by a silence or inhibition that ended
                alert.notified_at = alert.paged_at = self.clock
                changes.append(self._change(alert, What(Transition.FIRING_UNSUPPRESSED), (1,)))
            assert alert.paged_at is not None
            paged = self.clock - alert.paged_at
            parties_max = max(1, policy.max_tier(alert.parties, alert.jurisdiction))
            passed = sum(1 for wait in policy.escalate if paged >= wait.total_seconds())
            target = min(1 + passed, parties_max)
            while alert.tier < target:
                alert.tier += 1
                alert.notified_at = self.clock
                escalated = What(Transition.ESCALATED, tier=alert.tier)
                changes.append(self._change(alert, escalated, (alert.tier,)))
            if self.clock - alert.notified_at >= policy.repeat.total_seconds():
                alert.repeats += 1
                alert.notified_at = self.clock
                tiers = tuple(range(1, alert.tier + 1))
                repeat = What(Transition.REPEAT, repeat=alert.repeats)
                changes.append(self._change(alert, repeat, tiers))
        self._forget_old()
        return changes

    def acknowledge(self, alert_id: str, by: str, note: str, at: float) -> list[Change]:
        """Someone on call took the alert. Acknowledging twice changes nothing."""
        self._advance(at)
        alert = self.alerts.get(alert_id)
        if alert is None:
            raise CommandRefusedError(f"no alert {alert_id} at station {self.station}")
        if alert.state == ACKNOWLEDGED:
            return []
        if alert.state != FIRING:
            raise CommandRefusedError(
                f"alert {alert_id} is {alert.state}, only a firing alert is acked"
            )
        alert.state = ACKNOWLEDGED
        alert.acked_by, alert.ack_note, alert.acked_at = by, note, self.clock
        silence = self.silence_at(self.clock)
        tiers = () if alert.notified_at is None else tuple(range(1, alert.tier + 1))
        held = silence.describe() if silence else None
        return [self._change(alert, What(Transition.ACKNOWLEDGED), tiers, held)]

    def add_silence(self, silence: Silence) -> bool:
        """Add a maintenance window; False when a silence with this id exists already."""
        if silence.end <= silence.start:
            raise CommandRefusedError(f"silence {silence.id}: the end must be after the start")
        if any(s.id == silence.id for s in self.silences):
            return False
        self.silences.append(silence)
        return True

    # ------------------------------------------------------------------ transitions
    def _event(self, alert_id: str, event: RuleEvent, policy: Policy) -> list[Change]:
        alert = self.alerts.get(alert_id)
        live = alert is not None and alert.state != RESOLVED
        if alert is not None and live:
            alert.observed = event.observed
            alert.observed_at = event.observed_at.isoformat()
            alert.message = event.message
        if event.kind is EventKind.RECOVERY:
            if alert is None or not alert.state.active:
                return []
            if self._past_clear(alert, event.observed, policy):
                return self._resolve(alert, policy)
            alert.clearing = True  # within the limit but not past the clear threshold yet
            return []
        if alert is not None and alert.state.active:
            alert.clearing = False  # beyond the limit again: still the same alert
            return []
        created = alert is None or alert.state == RESOLVED
        if alert is None or alert.state == RESOLVED:
            alert = self._new_alert(alert_id, event)
            self.alerts[alert_id] = alert
        if event.kind is EventKind.PENDING:
            return [self._change(alert, What(Transition.PENDING), ())] if created else []
        # a breach: the alert fires, unless the station is silent or in maintenance
        inhibited = self.inhibition()
        if inhibited:
            pending = What(Transition.PENDING)
            return [self._change(alert, pending, (), inhibited)] if created else []
        alert.state = FIRING
        if event.since is not None:
            alert.since = event.since.isoformat()
        alert.fired_at = self.clock
        alert.started = self.clock
        silence = self.silence_at(self.clock)
        if silence is not None:
            return [self._change(alert, What(Transition.FIRING), (), silence.describe())]
        alert.notified_at = alert.paged_at = self.clock
        return [self._change(alert, What(Transition.FIRING), (1,))]

    def _new_alert(self, alert_id: str, event: RuleEvent) -> Alert:
        side = event.side
        if side is None:  # an event written before rule events said their side
            side = Side.MIN if event.observed < event.limit else Side.MAX
        return Alert(
            id=alert_id,
            station=self.station,
            station_name=self.name,
            jurisdiction=self.owner,
            parties=[str(j) for j in event.jurisdictions],
            rule=event.rule,
            parameter=event.parameter,
            severity=str(event.severity),
            state=PENDING,
            observed=event.observed,
            limit=event.limit,
            observed_at=event.observed_at.isoformat(),
            since=(event.since or event.observed_at).isoformat(),
            message=event.message,
            started=self.clock,
            side=side,
        )

    def _resolve(self, alert: Alert, policy: Policy) -> list[Change]:
        was_sent = alert.notified_at is not None
        alert.state = RESOLVED
        alert.clearing = False
        alert.resolved_at = self.clock
        if not was_sent:
            return [self._change(alert, What(Transition.RESOLVED), ())]
        silence = self.silence_at(self.clock)
        tiers = tuple(range(1, alert.tier + 1))
        held = silence.describe() if silence else None
        return [self._change(alert, What(Transition.RESOLVED), tiers, held)]

    def _check_silent(self, policy: Policy) -> list[Change]:
        if self.last_received is None or self.silent():
            return []
        quiet = self.clock - self.last_received
        if quiet <= policy.silent_intervals * self.interval:
            return []
        alert_id = _alert_id(self.station, SILENT_RULE, SILENT_PARAMETER)
        name = self.name
        alert = Alert(
            id=alert_id,
            station=self.station,
            station_name=name,
            jurisdiction=self.owner,
            parties=list(self.parties),
            rule=SILENT_RULE,
            parameter=SILENT_PARAMETER,
            severity="warning",
            state=FIRING,
            observed=round(quiet / 60.0, 1),  # minutes without a report
            limit=round(policy.silent_intervals * self.interval / 60.0, 1),
            observed_at=iso(self.clock),
            since=iso(self.last_received),
            message=f"{name} 已 {quiet / 3600:.1f} 小时无数据上报",
            started=self.clock,
            fired_at=self.clock,
        )
        self.alerts[alert_id] = alert
        silence = self.silence_at(self.clock)
        if silence is not None:
            return [self._change(alert, What(Transition.FIRING), (), silence.describe())]
        alert.notified_at = alert.paged_at = self.clock
        return [self._change(alert, What(Transition.FIRING), (1,))]

    # ------------------------------------------------------------------ helpers
    def _advance(self, moment: float) -> None:
        self.clock = max(self.clock, moment)

    def _change(
        self, alert: Alert, what: What, tiers: tuple[int, ...], suppressed: str | None = None
    ) -> Change:
        if suppressed:
            tiers = ()
        return Change(
            id=f"{alert.id}:{alert.episode}:{what}",
            what=what,
            at=utc(self.clock),
            tiers=tiers,
            suppressed=suppressed,
            alert=alert.snapshot(),
        )

    def _past_clear(self, alert: Alert, value: float | None, policy: Policy) -> bool:
        if value is None or alert.limit is None:
            return False
        margin = 0.0 if alert.parameter == CLASS_PARAMETER else policy.hysteresis * abs(alert.limit)
        if alert.side is Side.MAX:
            return value <= alert.limit - margin
        return value >= alert.limit + margin

    def _forget_old(self) -> None:
        horizon = self.clock - KEEP
        for alert_id, alert in list(self.alerts.items()):
            if alert.state == RESOLVED and (alert.resolved_at or 0) < horizon:
                del self.alerts[alert_id]
        self.silences = [s for s in self.silences if s.end >= horizon]


def _alert_id(station: str, rule: str, parameter: str) -> str:
    return f"{station}:{rule}:{parameter}"


def _judged(report: AssessedReport, parameter: str) -> float | None:
    """The QC-good value this result gives for ``parameter`` (the class for the target-class
    rule), or None when the rule could not be judged by it."""
    if parameter == CLASS_PARAMETER:
        return None if report.water_class is None else float(report.water_class)
    return report.good(parameter)


def utc(moment: float) -> datetime:
    """Seconds since the epoch as a time in UTC."""
    return datetime.fromtimestamp(moment, UTC)


def iso(moment: float) -> str:
    """Seconds since the epoch as an ISO 8601 time in UTC (in change ids and group names)."""
    return utc(moment).isoformat()
