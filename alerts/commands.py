"""Commands from people: an acknowledgement or a silence request body becomes command records.

The HTTP API (``POST /alerts/ack/``, ``POST /alerts/silences/``) checks a body here and sends the
commands to ``wq.alerts.commands``; the alert agent applies them to the station's state. A body
that is not well formed is a :class:`~alerts.errors.CommandError` (HTTP 400) naming the field.
Pure: no Kafka, Faust or network code.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from alerts.errors import CommandError
from alerts.lifecycle import Silence
from alerts.records import AckCommand, SilenceCommand
from stations.errors import UnknownStationError
from stations.registry import Registry


def _text(body: Mapping[str, Any], name: str, required: bool = True, limit: int = 500) -> str:
    value = body.get(name, "")
    if not isinstance(value, str):
        raise CommandError(f"'{name}' must be text")
    value = value.strip()
    if required and not value:
        raise CommandError(f"'{name}' is required")
    if len(value) > limit:
        raise CommandError(f"'{name}' is longer than {limit} characters")
    return value


def _time(body: Mapping[str, Any], name: str) -> float:
    value = body.get(name)
    if not isinstance(value, str):
        raise CommandError(f"'{name}' must be an ISO 8601 time with its offset")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"'{name}': {value!r} is not an ISO 8601 time") from exc
    if moment.tzinfo is None:
        raise CommandError(f"'{name}': {value!r} has no UTC offset (e.g. +08:00)")
    return moment.timestamp()


def ack_command(body: Mapping[str, Any], now: float) -> AckCommand:
    """An acknowledgement command from a request body ``{"id", "by", "note"}``."""
    alert_id = _text(body, "id")
    station = alert_id.split(":", 1)[0]
    if alert_id.count(":") < 2:
        raise CommandError(f"'id': {alert_id!r} is not an alert id (station:rule:parameter)")
    return AckCommand(
        station=station,
        alert=alert_id,
        by=_text(body, "by", limit=100),
        note=_text(body, "note", required=False),
        at=now,
    )


def silence_commands(
    body: Mapping[str, Any], registry: Registry, now: float
) -> list[SilenceCommand]:
    """Silence commands (one per station) from ``{"station" | "jurisdiction", "start", "end",
    "author", "reason"}``; a jurisdiction silences each of its own stations."""
    start, end = _time(body, "start"), _time(body, "end")
    if end <= start:
        raise CommandError("'end' must be after 'start'")
    author, reason = _text(body, "author", limit=100), _text(body, "reason")
    station_id, jurisdiction = body.get("station"), body.get("jurisdiction")
    if bool(station_id) == bool(jurisdiction):
        raise CommandError("give exactly one of 'station' and 'jurisdiction'")
    if station_id:
        try:
            stations = [registry.get(str(station_id))]
        except UnknownStationError as exc:
            raise CommandError(f"'station': unknown station {station_id!r}") from exc
    else:
        stations = [s for s in registry if str(s.jurisdiction) == jurisdiction]
        if not stations:
            raise CommandError(f"'jurisdiction': no stations of {jurisdiction!r}")
    batch = uuid.uuid4().hex[:12]
    return [
        SilenceCommand(
            station=s.id,
            id=f"{batch}-{s.id}",
            start=start,
            end=end,
            author=author,
            reason=reason,
            at=now,
        )
        for s in stations
    ]


def silence_of(command: SilenceCommand) -> Silence:
    """The maintenance window a silence command sets."""
    return Silence(
        id=command.id,
        station=command.station,
        start=command.start,
        end=command.end,
        author=command.author,
        reason=command.reason,
        created_at=command.at,
    )
