"""Who is on duty: the receivers an alert goes to, from the jurisdictions' rotas.

Every time is judged in Beijing time (Asia/Shanghai), whatever zone the datetime comes in; naive
datetimes are refused. An alert involves parties (jurisdictions): the owner of the station, the
other parties of a cross-boundary section, and the basin authority (TBA). Each party with a rota
pages the receivers on duty in the asked tier; a rota whose scope is ``cross_boundary`` only takes
alerts that involve a party other than the owner and TBA.

:func:`plan` applies it to the changes of one evaluation: each receiver gets one message with
every change it is to hear of. Pure: no network code here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from alerts.channels import Receiver
from alerts.config import AlertsConfig, Rota, Scope
from alerts.records import AlertChanges, Change
from stations.jurisdictions import BASIN_AUTHORITY, Jurisdiction

#: The zone every shift is written in.
SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class Route:
    """One receiver to notify, and the jurisdiction whose rota named it."""

    jurisdiction: Jurisdiction
    receiver: Receiver


def beijing_time(at: datetime) -> datetime:
    """``at`` in Asia/Shanghai; a naive datetime is a ValueError."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"a timezone-aware datetime is needed, got naive {at.isoformat()}")
    return at.astimezone(SHANGHAI)


def is_cross_boundary(parties: Sequence[str], owner: str) -> bool:
    """Whether some party other than the owner and the basin authority is involved."""
    owner_j = Jurisdiction(owner)
    return any(Jurisdiction(p) not in (owner_j, BASIN_AUTHORITY) for p in parties)


def applicable_rotas(config: AlertsConfig, parties: Sequence[str], owner: str) -> list[Rota]:
    """The rotas an alert of these parties goes to: owner first, then the parties in order.

    A party without a rota is left out, and so is a ``cross_boundary`` rota when the alert is not
    cross-boundary. Unknown jurisdiction codes raise ValueError.
    """
    ordered: list[Jurisdiction] = [Jurisdiction(owner)]
    for party in parties:
        jurisdiction = Jurisdiction(party)
        if jurisdiction not in ordered:
            ordered.append(jurisdiction)
    cross = is_cross_boundary(parties, owner)
    result: list[Rota] = []
    for jurisdiction in ordered:
        rota = config.rotas.get(jurisdiction)
        if rota is None or (rota.scope is Scope.CROSS_BOUNDARY and not cross):
            continue
        result.append(rota)
    return result


def on_duty(config: AlertsConfig, jurisdiction: str, tier: int, at: datetime) -> list[Receiver]:
    """The receivers of one jurisdiction's tier on duty at ``at`` (each once, in shift order).

    Scope is not considered here. No rota, no such tier or no shift on: an empty list.
    """
    local = beijing_time(at)
    _check_tier(tier)
    rota = config.rotas.get(Jurisdiction(jurisdiction))
    level = rota.tier(tier) if rota is not None else None
    if level is None:
        return []
    names: list[str] = []
    for shift in level.shifts:
        if shift.covers(local):
            names.extend(name for name in shift.receivers if name not in names)
    return [config.receivers[name] for name in names]


def route(
    config: AlertsConfig, parties: Sequence[str], owner: str, tier: int, at: datetime
) -> list[Route]:
    """Who to notify of an alert at ``tier`` at ``at``.

    For each applicable party (owner first, see :func:`applicable_rotas`), the receivers of that
    tier on duty at ``at``. A receiver reached through several jurisdictions is listed once, under
    the first.
    """
    beijing_time(at)
    _check_tier(tier)
    routes: list[Route] = []
    seen: set[str] = set()
    for rota in applicable_rotas(config, parties, owner):
        for receiver in on_duty(config, rota.jurisdiction, tier, at):
            if receiver.name not in seen:
                seen.add(receiver.name)
                routes.append(Route(jurisdiction=rota.jurisdiction, receiver=receiver))
    return routes


Plan = list[tuple[Receiver, list[Change]]]


def plan(doc: AlertChanges, config: AlertsConfig) -> Plan:
    """The receivers to notify of a ``changes`` document and, for each, its changes (grouped:
    one message per receiver per evaluation). Routing is judged at the changes' time."""
    plans: dict[str, tuple[Receiver, list[Change]]] = {}
    for change in doc.changes:
        alert = change.alert
        for tier in change.tiers:
            for hop in route(config, alert.parties, alert.jurisdiction, tier, change.at):
                _, changes = plans.setdefault(hop.receiver.name, (hop.receiver, []))
                if change not in changes:
                    changes.append(change)
    return list(plans.values())


def max_tier(config: AlertsConfig, parties: Sequence[str], owner: str) -> int:
    """The highest tier any applicable party's rota has (0 when none applies)."""
    return max((rota.max_tier for rota in applicable_rotas(config, parties, owner)), default=0)


def _check_tier(tier: int) -> None:
    if tier < 1:
        raise ValueError(f"tiers start at 1, got {tier}")
