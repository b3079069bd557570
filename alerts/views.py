"""What the HTTP API and the console show: alerts and silences of the stations' states as JSON.

Pure: builds the documents from :class:`~alerts.lifecycle.StationAlerts`; the web views in
``streams.agents.alert_views`` serve them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from alerts.lifecycle import StationAlerts
from alerts.messages import jurisdiction_name, parameter_label
from alerts.records import AlertSnapshot, AlertState, to_builtins
from stations.registry import Registry


def alert_view(alert: AlertSnapshot, silenced: bool) -> dict[str, Any]:
    """An alert as the HTTP API and the console show it (Chinese names added)."""
    name, unit = parameter_label(alert.parameter)
    view: dict[str, Any] = to_builtins(alert)
    view.update(
        jurisdiction_name=jurisdiction_name(alert.jurisdiction),
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


def everything(
    states: Iterable[StationAlerts],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(alerts, silences) of every station."""
    alerts: list[dict[str, Any]] = []
    silences: list[dict[str, Any]] = []
    for state in states:
        station_alerts, station_silences = station_views(state)
        alerts += station_alerts
        silences += station_silences
    return alerts, silences


def listing(
    states: Iterable[StationAlerts],
    registry: Registry,
    jurisdiction: str | None = None,
    wanted: str | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """``GET /alerts/``: the alerts (firing first, then by start) and silences, only those a
    ``jurisdiction`` is a party of, only the ``wanted`` states (comma-separated)."""
    alerts, silences = everything(states)
    if jurisdiction:
        alerts = [a for a in alerts if jurisdiction in a["parties"]]
        owned = {s.id for s in registry if jurisdiction in map(str, s.jurisdictions)}
        silences = [s for s in silences if s["station"] in owned]
    if wanted:
        alerts = [a for a in alerts if a["state"] in wanted.split(",")]
    alerts.sort(key=lambda a: (a["state"] != AlertState.FIRING, a["since"]))
    return {"alerts": alerts, "silences": silences}
