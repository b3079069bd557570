"""Helpers of the alert handler and agent unit tests: assessed reports made by the real check
path, an alerts configuration, and recording transports (what would go to Kafka, what the
notifiers would deliver)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from alerts.channels import Channel, Message, describe
from alerts.config import AlertsConfig, load_alerts_config
from alerts.records import ChannelDelivery
from stations.assessment import Assessor, History
from stations.formats.records import encode
from stations.formats.report import Reading, Report
from stations.quality.limits import load_qc_limits
from stations.registry import Registry, load_registry
from stations.rules.config import load_rules

TPQ = "SH-CJ-009"  # 太浦河桥: cross-boundary JS > SH, station limit tpq-tp (TP > 0.15, 2 in a row)
TP_ALERT = f"{TPQ}:tpq-tp:tp"
PARTIES = ("SH", "JS", "TBA")  # the parties of 太浦河桥
START = datetime(2026, 11, 20, 0, 0, tzinfo=UTC)

REGISTRY: Registry = load_registry()
ASSESSOR = Assessor(REGISTRY, load_qc_limits(registry=REGISTRY), load_rules(registry=REGISTRY))


def config() -> AlertsConfig:
    """Tiers 1 and 2 of every party on duty all the time, each one webhook."""
    lines = ["version: 1", "timing: {repeat_minutes: 240, escalate_minutes: [30, 120]}"]
    lines.append("receivers:")
    for party in ("JS", "ZJ", "SH", "AH", "TBA"):
        for tier in (1, 2):
            url = f"http://127.0.0.1:9/{party.lower()}/tier{tier}"
            lines += [
                f"  {party.lower()}-t{tier}:",
                f"    channels: [{{type: webhook, url: {url}}}]",
            ]
    lines.append("rotas:")
    for party in ("JS", "ZJ", "SH", "AH", "TBA"):
        lines += [f"  {party}:", "    tiers:"]
        for tier in (1, 2):
            shift = f"{{days: all, hours: '00:00-24:00', receivers: [{party.lower()}-t{tier}]}}"
            lines += [f"      - tier: {tier}", f"        shifts: [{shift}]"]
    return load_alerts_config(text="\n".join(lines) + "\n")


def assessed(station: str, tps: list[float], start: datetime = START) -> list[bytes]:
    """The assessed reports (with their rule events) the check path makes of hourly reports
    of ``station`` with TP ``tps``."""
    history = History()
    out = []
    for index, tp in enumerate(tps):
        at = start + timedelta(hours=index)
        report = Report(station, at, at + timedelta(minutes=5), "test", {"tp": Reading(tp, "mg/L")})
        checked = ASSESSOR.check(report.to_json(), at)
        outcome = ASSESSOR.assess(checked, history, f"raw[0]@{index}")
        history = outcome.history
        out.append(encode(outcome.assessed))  # as the check agent writes it
    return out


@dataclass
class Sent:
    """A recording :class:`~streams.agents.alert_handlers.Send`."""

    messages: list[tuple[bytes | None, bytes]] = field(default_factory=list)

    async def __call__(self, key: bytes | None, value: bytes) -> None:
        self.messages.append((key, value))


@dataclass
class Delivered:
    """A recording notifier transport: every channel fails for the receivers in ``failing``."""

    failing: set[str] = field(default_factory=set)
    calls: list[tuple[str, Channel, Message]] = field(default_factory=list)

    async def __call__(self, receiver: str, channel: Channel, message: Message) -> ChannelDelivery:
        self.calls.append((receiver, channel, message))
        if receiver in self.failing:
            error = f"{describe(channel)}: HTTP 503: busy"
            return ChannelDelivery(receiver, describe(channel), message.key, False, 4, error)
        return ChannelDelivery(receiver, describe(channel), message.key, True, 1)

    @property
    def receivers(self) -> list[str]:
        return [receiver for receiver, _, _ in self.calls]


@dataclass
class Flushes:
    """A recording producer flush."""

    count: int = 0

    async def __call__(self) -> None:
        self.count += 1


@dataclass(frozen=True)
class Input:
    """A message as the alert agent reads it."""

    topic: str
    value: bytes | None
    timestamp: float = 0.0
    partition: int = 0
    offset: int = 0
    key: bytes | None = None
