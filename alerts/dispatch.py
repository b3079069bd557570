"""Between the lifecycle and the outside: who gets which changes, commands in, views out.

Pure: no Kafka, Faust or network code. The alert agents in ``streams.agents.alert`` call these.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from alerts.channels import Receiver
from alerts.config import AlertsConfig
from alerts.lifecycle import Policy, Silence, StationAlerts
from alerts.messages import jurisdiction_name, parameter_label
from alerts.routing import max_tier, route
from stations.errors import UnknownStationError
from stations.registry import Registry
from stations.station import Station

#: Changes delivered per station that are remembered, to never deliver one twice.
DELIVERED_KEEP = 2000


class CommandError(ValueError):
    """A command (acknowledgement, silence) that is not well formed; says what and where."""


def policy_of(config: AlertsConfig) -> Policy:
    timing = config.timing
    return Policy(
        repeat=timing.repeat,
        escalate=timing.escalate,
        silent_intervals=timing.silent_intervals,
        hysteresis=timing.hysteresis,
        max_tier=functools.partial(max_tier, config),
    )


def new_state(station: Station) -> StationAlerts:
    return StationAlerts(
        station.id,
        station.name,
        str(station.jurisdiction),
        [str(j) for j in station.jurisdictions],
        interval=station.interval_minutes * 60.0,
    )


Plan = list[tuple[Receiver, list[dict[str, Any]]]]


def plan(doc: Mapping[str, Any], config: AlertsConfig) -> Plan:
    """The receivers to notify of a ``changes`` document and, for each, its changes (grouped:
    one message per receiver per evaluation). Routing is judged at the changes' time."""
    plans: dict[str, tuple[Receiver, list[dict[str, Any]]]] = {}
    for change in doc["changes"]:
        alert = change["alert"]
        at = datetime.fromisoformat(change["at"])
        for tier in change["tiers"]:
            for hop in route(config, alert["parties"], alert["jurisdiction"], tier, at):
                _, changes = plans.setdefault(hop.receiver.name, (hop.receiver, []))
                if change not in changes:
                    changes.append(change)
    return list(plans.values())


def delivery_key(change_id: str, receiver: str) -> str:
    return f"{change_id}>{receiver}"


def remember(delivered: list[str], keys: Iterable[str]) -> list[str]:
    """The delivered keys with ``keys`` added, the oldest forgotten beyond DELIVERED_KEEP."""
    known = set(delivered)
    merged = delivered + [k for k in keys if k not in known]
    return merged[-DELIVERED_KEEP:]


def alert_view(alert: Mapping[str, Any], silenced: bool) -> dict[str, Any]:
    """An alert as the HTTP API and the console show it (Chinese names added)."""
    name, unit = parameter_label(alert["parameter"])
    view = dict(alert)
    view.update(
        jurisdiction_name=jurisdiction_name(alert["jurisdiction"]),
        parameter_name=name,
        unit=unit,
        silenced=silenced,
    )
    return view


def station_views(state: StationAlerts) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(alerts, silences) of one station for the API."""
    silenced = state.silence_at(state.clock) is not None
    alerts = [alert_view(a.snapshot(), silenced) for a in state.alerts.values()]
    silences = []
    for silence in state.silences:
        doc = silence.to_doc()
        doc["station_name"] = state.name
        silences.append(doc)
    return alerts, silences


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


def ack_command(body: Mapping[str, Any], now: float) -> dict[str, Any]:
    """An acknowledgement command from a request body ``{"id", "by", "note"}``."""
    alert_id = _text(body, "id")
    station = alert_id.split(":", 1)[0]
    if alert_id.count(":") < 2:
        raise CommandError(f"'id': {alert_id!r} is not an alert id (station:rule:parameter)")
    return {
        "kind": "ack",
        "station": station,
        "alert": alert_id,
        "by": _text(body, "by", limit=100),
        "note": _text(body, "note", required=False),
        "at": now,
    }


def silence_commands(
    body: Mapping[str, Any], registry: Registry, now: float
) -> list[dict[str, Any]]:
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
        {
            "kind": "silence",
            "station": s.id,
            "id": f"{batch}-{s.id}",
            "start": start,
            "end": end,
            "author": author,
            "reason": reason,
            "at": now,
        }
        for s in stations
    ]


def silence_of(command: Mapping[str, Any]) -> Silence:
    return Silence(
        id=str(command["id"]),
        station=str(command["station"]),
        start=float(command["start"]),
        end=float(command["end"]),
        author=str(command["author"]),
        reason=str(command["reason"]),
        created_at=float(command["at"]),
    )
