"""The alerts configuration: receivers, their channels and the on-call rotas of each jurisdiction.

The shipped file is ``alerts/data/alerts.yaml``; its header comment documents the schema, and
:mod:`alerts.configfile` is its model. :func:`load_alerts_config` validates the whole file at
start-up, builds the objects below from it, and raises an
:class:`AlertsConfigError` (a :class:`~stations.errors.ConfigError`) listing every problem with
file and line. Secrets (a DingTalk robot's signing secret, the SMTP password) are never in the
YAML: it names the environment variable that holds each, and a variable that is not set is a
problem like any other.

Pure: no network code here; :mod:`alerts.routing` says who is on duty.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pydantic import SecretStr

from alerts.channels import (
    Channel,
    DingTalkChannel,
    EmailChannel,
    Receiver,
    SmtpServer,
    WebhookChannel,
    WeComChannel,
)
from alerts.configfile import (
    AlertsFile,
    DingTalkSpec,
    EmailSpec,
    RotaSpec,
    Scope,
    TimingSpec,
    WebhookSpec,
    WeComSpec,
    context,
    where,
)
from alerts.errors import AlertsConfigError
from stations.jurisdictions import Jurisdiction
from stations.schema import Spec
from stations.yamlsource import YamlSource

#: The alerts configuration shipped in the package (local receivers, on duty all the time).
DEFAULT_ALERTS = Path(__file__).parent / "data" / "alerts.yaml"


@dataclass(frozen=True)
class Timing:
    """When alerts are repeated and escalated, when a station is silent, how breaches clear.

    ``escalate[i]`` is how long after firing an unacknowledged alert goes to tier ``i + 2``.
    """

    repeat: timedelta = timedelta(minutes=240)
    escalate: tuple[timedelta, ...] = (timedelta(minutes=30), timedelta(minutes=120))
    silent_intervals: float = 2.0
    hysteresis: float = 0.1


@dataclass(frozen=True)
class Shift:
    """Who is on duty on some days between two times of day (Beijing time).

    ``start`` and ``end`` are minutes after midnight (``end`` may be 1440, i.e. 24:00). When
    ``end <= start`` the shift runs over midnight and belongs to the day it starts: Friday
    17:30-08:30 covers Saturday 03:00. ``days`` are ``datetime.weekday()`` numbers (0 = Monday).
    """

    days: frozenset[int]
    start: int
    end: int
    receivers: tuple[str, ...]

    def covers(self, local: datetime) -> bool:
        """Whether the shift is on at this local (Asia/Shanghai) wall-clock time."""
        minute = local.hour * 60 + local.minute
        day = local.weekday()
        if self.start < self.end:
            return day in self.days and self.start <= minute < self.end
        # Over midnight: the evening part on a listed day, the morning part on the day after.
        if day in self.days and minute >= self.start:
            return True
        return (day - 1) % 7 in self.days and minute < self.end

    @property
    def hours(self) -> str:
        """The hours as written in the YAML, e.g. ``17:30-08:30``."""
        return f"{_hhmm(self.start)}-{_hhmm(self.end)}"


@dataclass(frozen=True)
class Tier:
    """One escalation level of a rota: tier 1 is paged first."""

    tier: int
    shifts: tuple[Shift, ...]


@dataclass(frozen=True)
class Rota:
    """The on-call rota of one jurisdiction; ``tiers`` are numbered 1..n in order."""

    jurisdiction: Jurisdiction
    scope: Scope
    tiers: tuple[Tier, ...]

    def tier(self, number: int) -> Tier | None:
        """The tier with this number, or None."""
        return self.tiers[number - 1] if 1 <= number <= len(self.tiers) else None

    @property
    def max_tier(self) -> int:
        return len(self.tiers)


@dataclass(frozen=True)
class AlertsConfig:
    """The validated alerts configuration.

    ``receivers`` maps a receiver's name (its YAML key; also :attr:`Receiver.name`) to the
    receiver; ``names_zh`` holds the optional display names; ``smtp`` is set when the file has an
    ``smtp`` section (it must when a receiver has an e-mail channel).
    """

    path: str
    timing: Timing
    receivers: Mapping[str, Receiver]
    rotas: Mapping[Jurisdiction, Rota]
    names_zh: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    smtp: SmtpServer | None = None
    board_url: str | None = None

    def display_name(self, receiver: str | Receiver) -> str:
        """The receiver's Chinese name when it has one, else its name."""
        name = receiver.name if isinstance(receiver, Receiver) else receiver
        return self.names_zh.get(name, name)


def load_alerts_config(
    path: str | Path | None = None,
    environ: Mapping[str, str] = os.environ,
    *,
    text: str | None = None,
) -> AlertsConfig:
    """Load and validate the alerts configuration (default: the shipped file).

    ``environ`` supplies the secrets the YAML names (default: the process environment);
    ``text`` replaces the file's content (tests). Raises :class:`AlertsConfigError` listing every
    problem with file and line.
    """
    source = YamlSource(path or DEFAULT_ALERTS, text, name="alerts", where=where)
    spec = source.load(AlertsFile, context=context(source.data, environ))
    source.raise_if_problems(AlertsConfigError)
    assert spec is not None
    receivers = {
        name: Receiver(name=name, channels=tuple(_channel(c) for c in receiver.channels))
        for name, receiver in spec.receivers.items()
    }
    names_zh = {name: r.name_zh for name, r in spec.receivers.items() if r.name_zh}
    return AlertsConfig(
        path=source.path,
        timing=_timing(spec.timing),
        receivers=MappingProxyType(receivers),
        rotas=MappingProxyType({code: _rota(code, rota) for code, rota in spec.rotas.items()}),
        names_zh=MappingProxyType(names_zh),
        smtp=SmtpServer(**_plain(spec.smtp)) if spec.smtp else None,
        board_url=spec.board_url,
    )


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _timing(spec: TimingSpec) -> Timing:
    given: dict[str, Any] = {key: value for key, value in spec if value is not None}
    if "repeat_minutes" in given:
        given["repeat"] = timedelta(minutes=given.pop("repeat_minutes"))
    if "escalate_minutes" in given:
        given["escalate"] = tuple(timedelta(minutes=m) for m in given.pop("escalate_minutes"))
    return replace(Timing(), **given)


_CHANNELS: Mapping[type[Spec], type[Channel]] = MappingProxyType(
    {
        WebhookSpec: WebhookChannel,
        WeComSpec: WeComChannel,
        DingTalkSpec: DingTalkChannel,
        EmailSpec: EmailChannel,
    }
)


def _plain(spec: Spec) -> dict[str, Any]:
    """A spec's fields for a channel or server: secrets revealed, ``*_env`` without ``_env``."""
    return {
        name.removesuffix("_env"): value.get_secret_value()
        if isinstance(value, SecretStr)
        else value
        for name, value in spec
        if name != "type"
    }


def _channel(spec: Spec) -> Channel:
    return _CHANNELS[type(spec)](**_plain(spec))


def _rota(jurisdiction: Jurisdiction, spec: RotaSpec) -> Rota:
    tiers = sorted(spec.tiers, key=lambda tier: tier.tier)
    return Rota(
        jurisdiction=jurisdiction,
        scope=spec.scope,
        tiers=tuple(
            Tier(tier.tier, tuple(Shift(s.days, *s.hours, s.receivers) for s in tier.shifts))
            for tier in tiers
        ),
    )
