"""The messages of the alert topics as typed records (msgspec Structs: frozen, validated when
decoded, about a microsecond each).

``wq.alerts`` carries two kinds of document, told apart by ``kind``::

    AlertsDocument = AlertChanges      "changes": the alert agent's state changes of one input
                   | ReceiverDelivery  "delivery": the notify agent's outcome for one receiver

``wq.alerts.commands`` carries the commands, also told apart by ``kind``::

    Command = AckCommand | SilenceCommand | TickCommand     "ack", "silence", "tick"

States, sides, severities and jurisdictions are enums; a change's ``what`` is a :class:`What`
value (a :class:`Transition`, and the tier of an escalation or the number of a repeat), written
as one string on the wire ("firing", "escalated-2", "repeat-1"). The wire format is the JSON the
agents wrote before these records existed (tests/data/messages/alerts/); times are ISO 8601 with
their offset (UTC written as ``Z``), command times are seconds since the epoch.

Decode with :func:`decode_alerts` / :func:`decode_command` (a :class:`~alerts.errors.RecordError`
names the bad field) and write with :func:`encode`. Pure: no Kafka or Faust.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any, Final, TypeVar, final

import msgspec

from alerts.errors import RecordError
from stations.formats.records import AwareDatetime as Time
from stations.jurisdictions import Jurisdiction
from stations.rules.events import Severity, Side

Tier = Annotated[int, msgspec.Meta(ge=1)]
Count = Annotated[int, msgspec.Meta(ge=0)]


class AlertState(StrEnum):
    """Where an alert is in its lifecycle (see :mod:`alerts.lifecycle`)."""

    PENDING = "pending"
    FIRING = "firing"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"

    @property
    def name_zh(self) -> str:
        """The Chinese name, as shown to users."""
        return _STATE_NAMES[self]

    @property
    def active(self) -> bool:
        """Firing or acknowledged: the breach is on."""
        return self in (AlertState.FIRING, AlertState.ACKNOWLEDGED)


_STATE_NAMES: Final = {
    AlertState.PENDING: "待定",
    AlertState.FIRING: "告警中",
    AlertState.ACKNOWLEDGED: "已确认",
    AlertState.RESOLVED: "已恢复",
}


class Transition(StrEnum):
    """What happened to an alert. Escalations carry the tier reached, repeats their number
    (see :class:`What`)."""

    PENDING = "pending"
    PENDING_CLEARED = "pending-cleared"  # a pending alert cleared without paging anyone
    FIRING = "firing"
    FIRING_UNSUPPRESSED = "firing-unsuppressed"  # sent late: its silence or inhibition ended
    ESCALATED = "escalated"
    REPEAT = "repeat"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"

    @property
    def family(self) -> Transition:
        """The transition this one is a case of (pending-cleared: pending; firing-unsuppressed:
        firing); the store tags changes with it."""
        return _FAMILIES.get(self, self)


_FAMILIES: Final = {
    Transition.PENDING_CLEARED: Transition.PENDING,
    Transition.FIRING_UNSUPPRESSED: Transition.FIRING,
}


@final
class What:
    """A change's transition as a value: ``What(Transition.ESCALATED, tier=2)`` is written
    ``"escalated-2"``, ``What(Transition.REPEAT, repeat=1)`` ``"repeat-1"``, the others by their
    name. Immutable and hashable."""

    __slots__ = ("_repeat", "_tier", "_transition")

    _transition: Transition
    _tier: int | None
    _repeat: int | None

    def __init__(
        self, transition: Transition, *, tier: int | None = None, repeat: int | None = None
    ) -> None:
        if (tier is not None) != (transition is Transition.ESCALATED):
            raise ValueError(f"{transition}: a tier goes with an escalation, and only there")
        if (repeat is not None) != (transition is Transition.REPEAT):
            raise ValueError(f"{transition}: a number goes with a repeat, and only there")
        if (tier is not None and tier < 2) or (repeat is not None and repeat < 1):
            raise ValueError(f"{transition}: escalations reach tier 2 up, repeats count from 1")
        object.__setattr__(self, "_transition", transition)
        object.__setattr__(self, "_tier", tier)
        object.__setattr__(self, "_repeat", repeat)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"What is immutable (setting {name})")

    @property
    def transition(self) -> Transition:
        return self._transition

    @property
    def tier(self) -> int | None:
        """The tier an escalation reached (None for the other transitions)."""
        return self._tier

    @property
    def repeat(self) -> int | None:
        """A repeat's number, 1 for the first (None for the other transitions)."""
        return self._repeat

    @classmethod
    def parse(cls, text: str) -> What:
        """The value of a wire string; ValueError for anything else."""
        try:
            return cls(Transition(text))
        except ValueError:
            pass
        head, _, number = text.rpartition("-")
        if number.isdigit() and head == Transition.ESCALATED:
            return cls(Transition.ESCALATED, tier=int(number))
        if number.isdigit() and head == Transition.REPEAT:
            return cls(Transition.REPEAT, repeat=int(number))
        raise ValueError(f"{text!r} is not a transition (firing, escalated-2, repeat-1 ...)")

    def __str__(self) -> str:
        number = self._tier if self._tier is not None else self._repeat
        return self._transition.value if number is None else f"{self._transition}-{number}"

    def __repr__(self) -> str:
        return f"What({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, What):
            return NotImplemented
        return (self._transition, self._tier, self._repeat) == (
            other._transition,
            other._tier,
            other._repeat,
        )

    def __hash__(self) -> int:
        return hash((self._transition, self._tier, self._repeat))


class AlertSnapshot(msgspec.Struct, frozen=True):
    """An alert as it is after a change (the lifecycle's alert; times as ISO times)."""

    id: str  # station:rule:parameter
    station: str
    station_name: str
    jurisdiction: Jurisdiction  # the station's owner
    parties: tuple[Jurisdiction, ...]  # everyone told: owner, other parties of a section, TBA
    rule: str
    parameter: str
    severity: Severity
    state: AlertState
    observed: float | None
    limit: float | None
    observed_at: Time  # the newest result judged
    since: Time  # when the breach (or the silence) began
    message: str
    started: Time  # when the episode began: part of the change ids
    fired_at: Time | None
    notified_at: Time | None  # last sent; None: firing but held back
    paged_at: Time | None  # first sent: escalation counts from here
    repeats: Count
    tier: Tier
    side: Side
    clearing: bool
    acked_by: str | None
    ack_note: str | None
    acked_at: Time | None
    resolved_at: Time | None
    state_name: str  # the state in Chinese


class Change(msgspec.Struct, frozen=True):
    """One state transition of one alert. ``tiers`` are the rota tiers to notify (none: record
    only); ``suppressed`` says why a notification was held back (a silence, an inhibition)."""

    id: str  # alert id : episode start : what (stable across restarts and replays)
    what: What
    at: Time
    tiers: tuple[Tier, ...]
    suppressed: str | None
    alert: AlertSnapshot


class AlertChanges(msgspec.Struct, frozen=True, tag="changes", tag_field="kind"):
    """The changes one input (a report, a tick, an acknowledgement) made at one station;
    ``group`` names that input, ``at`` is the time of the last change."""

    station: str
    station_name: str
    group: str
    at: Time
    changes: tuple[Change, ...]


class ChannelDelivery(msgspec.Struct, frozen=True):
    """What happened to one message sent to one receiver over one channel.

    ``channel`` is :func:`~alerts.channels.describe` of the channel; ``attempts`` counts the
    sends tried (0 when none could be, e.g. e-mail without an SMTP server); ``error`` is the
    last failure's message when ``ok`` is false.
    """

    receiver: str
    channel: str
    key: str
    ok: bool
    attempts: Count
    error: str | None = None


class ReceiverDelivery(msgspec.Struct, frozen=True, tag="delivery", tag_field="kind"):
    """The notification of some changes of one ``changes`` document to one receiver: ``ok`` when
    some channel took it, each channel's outcome in ``deliveries``."""

    station: str
    group: str
    receiver: str
    receiver_name: str
    changes: tuple[str, ...]  # change ids
    title: str
    ok: bool
    at: Time
    deliveries: tuple[ChannelDelivery, ...]


AlertsDocument = AlertChanges | ReceiverDelivery


class AckCommand(msgspec.Struct, frozen=True, tag="ack", tag_field="kind"):
    """Someone on call acknowledges a firing alert (``at``: seconds since the epoch)."""

    station: str
    alert: str  # the alert id
    by: str
    note: str
    at: float


class SilenceCommand(msgspec.Struct, frozen=True, tag="silence", tag_field="kind"):
    """A maintenance window for one station: no notification from ``start`` to ``end``."""

    station: str
    id: str
    start: float
    end: float
    author: str
    reason: str
    at: float


class TickCommand(msgspec.Struct, frozen=True, tag="tick", tag_field="kind"):
    """The alert clock: time passed (sent to every partition, keyless)."""

    at: float


Command = AckCommand | SilenceCommand | TickCommand

_R = TypeVar("_R")


def _enc_hook(value: Any) -> Any:
    if isinstance(value, What):
        return str(value)
    raise NotImplementedError(f"cannot encode {type(value).__name__}")


def _dec_hook(kind: type, value: Any) -> Any:
    if kind is What:
        if not isinstance(value, str):
            raise ValueError(f"expected a transition string, got {type(value).__name__}")
        return What.parse(value)
    raise NotImplementedError(f"cannot decode {kind}")


_ENCODER: Final = msgspec.json.Encoder(enc_hook=_enc_hook)
_ALERTS: Final = msgspec.json.Decoder(AlertsDocument, dec_hook=_dec_hook)
_COMMANDS: Final = msgspec.json.Decoder(Command, dec_hook=_dec_hook)


def encode(record: msgspec.Struct) -> bytes:
    """A record as the agents write it: compact UTF-8 JSON, Chinese kept as is."""
    return _ENCODER.encode(record)


def _decode(decoder: msgspec.json.Decoder[_R], raw: bytes | None, what: str) -> _R:
    try:
        return decoder.decode(raw or b"")
    except msgspec.DecodeError as exc:
        raise RecordError(f"{what}: {exc}") from exc


def decode_alerts(raw: bytes | None) -> AlertsDocument:
    """A ``wq.alerts`` document; :class:`~alerts.errors.RecordError` names what is wrong."""
    return _decode(_ALERTS, raw, "alert document")


def decode_command(raw: bytes | None) -> Command:
    """A ``wq.alerts.commands`` document; :class:`~alerts.errors.RecordError` when invalid."""
    return _decode(_COMMANDS, raw, "alert command")


def alerts_document(doc: Mapping[str, Any]) -> AlertsDocument:
    """A ``wq.alerts`` document already parsed from JSON (validated the same way)."""
    try:
        return msgspec.convert(doc, AlertsDocument, dec_hook=_dec_hook)
    except msgspec.ValidationError as exc:
        raise RecordError(f"alert document: {exc}") from exc


def to_builtins(record: Any) -> Any:
    """A record (or a list of them) as JSON-ready dicts and lists, for the HTTP API and the
    webhook payload."""
    return msgspec.to_builtins(record, enc_hook=_enc_hook)
