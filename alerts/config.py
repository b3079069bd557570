"""The alerts configuration: receivers, their channels and the on-call rotas of each jurisdiction.

The shipped file is ``alerts/data/alerts.yaml``; its header comment documents the schema.
:func:`load_alerts_config` validates the whole file at start-up and raises an
:class:`AlertsConfigError` (a :class:`~stations.errors.ConfigError`) listing every problem with
file and line. Secrets (a DingTalk robot's signing secret, the SMTP password) are never in the
YAML: it names the environment variable that holds each, and a variable that is not set is a
problem like any other.

Pure: no network code here; :mod:`alerts.routing` says who is on duty.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from urllib.parse import urlsplit

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from alerts.channels import (
    Channel,
    DingTalkChannel,
    EmailChannel,
    Receiver,
    SmtpServer,
    WebhookChannel,
    WeComChannel,
)
from stations.errors import ConfigError
from stations.jurisdictions import Jurisdiction
from stations.yamlsource import YamlSource, line_of

#: The alerts configuration shipped in the package (local receivers, on duty all the time).
DEFAULT_ALERTS = Path(__file__).parent / "data" / "alerts.yaml"

#: Day names of ``days:``, Monday first (``datetime.weekday()`` order).
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_GROUPS: Mapping[str, frozenset[int]] = MappingProxyType(
    {
        "all": frozenset(range(7)),
        "weekdays": frozenset(range(5)),
        "weekend": frozenset({5, 6}),
    }
)

_RECEIVER_NAME = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}"
_ENV_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_EMAIL = r"[^@\s]+@[^@\s]+"
_HOURS = re.compile(r"(\d\d):(\d\d)-(\d\d):(\d\d)")
_MAX_TIER = 9
_MAX_MINUTES = 7 * 24 * 60  # a week

# The keys of each channel type: required, optional.
_CHANNEL_KEYS: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = MappingProxyType(
    {
        "webhook": (("type", "url"), ()),
        "wecom": (("type", "url"), ("mentioned_mobiles",)),
        "dingtalk": (("type", "url"), ("secret_env", "at_mobiles")),
        "email": (("type", "to"), ()),
    }
)


class AlertsConfigError(ConfigError):
    """The alerts configuration (alerts.yaml) is invalid."""


class Scope(StrEnum):
    """Which alerts a jurisdiction's rota receives."""

    ALL = "all"
    CROSS_BOUNDARY = "cross_boundary"  # only alerts of cross-boundary sections


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
    source = YamlSource(path or DEFAULT_ALERTS, text)
    config = _Reader(source, environ).read()
    source.raise_if_problems(AlertsConfigError)
    assert config is not None
    return config


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _key_node(parent: Node, key: str) -> Node:
    """The key node of ``key`` in a mapping node (for its line), else the mapping itself."""
    if isinstance(parent, MappingNode):
        for key_node, _ in parent.value:
            if isinstance(key_node, ScalarNode) and str(key_node.value) == key:
                return key_node
    return parent


class _Reader:
    def __init__(self, source: YamlSource, environ: Mapping[str, str]) -> None:
        self.src = source
        self.environ = environ
        self.receiver_names: set[str] = set()
        self.email_channels: list[Node] = []

    def read(self) -> AlertsConfig | None:
        root = self.src.root
        if root is None:
            return None
        top = self.src.mapping(
            root,
            "alerts",
            required=("version", "receivers", "rotas"),
            optional=("board_url", "timing", "smtp"),
        )
        if top is None:
            return None
        if "version" in top:
            self.src.integer(top["version"], "version", low=1, high=1)
        board_url = self._url(top["board_url"], "board_url") if "board_url" in top else None
        timing = self._timing(top["timing"]) if "timing" in top else Timing()
        smtp = self._smtp(top["smtp"]) if "smtp" in top else None
        receivers, names_zh = self._receivers(top["receivers"]) if "receivers" in top else ({}, {})
        rotas = self._rotas(top["rotas"]) if "rotas" in top else {}
        if "smtp" not in top:
            for node in self.email_channels:
                self.src.problem(node, "an email channel needs the smtp section (none is given)")
        if timing is None:
            return None
        return AlertsConfig(
            path=self.src.path,
            timing=timing,
            receivers=MappingProxyType(receivers),
            rotas=MappingProxyType(rotas),
            names_zh=MappingProxyType(names_zh),
            smtp=smtp,
            board_url=board_url,
        )

    # --- helpers ---------------------------------------------------------------------------

    def _url(self, node: Node, where: str) -> str | None:
        url = self.src.string(node, where)
        if url is None:
            return None
        try:
            parts = urlsplit(url)
            host = parts.hostname
        except ValueError:
            parts, host = None, None
        if parts is None or parts.scheme not in ("http", "https"):
            self.src.problem(node, f"{where}: {url!r} must be an http or https URL")
            return None
        if not host:
            self.src.problem(node, f"{where}: {url!r} has no host")
            return None
        return url

    def _secret(self, node: Node, where: str) -> str | None:
        """The value of the environment variable a ``*_env`` key names."""
        name = self.src.string(node, where, pattern=_ENV_NAME)
        if name is None:
            return None
        value = self.environ.get(name)
        if not value:
            self.src.problem(node, f"{where}: environment variable {name} is not set (or empty)")
            return None
        return value

    def _strings(
        self, f: dict[str, Node], key: str, where: str, *, pattern: str | None = None
    ) -> tuple[str, ...] | None:
        if key not in f:
            return ()
        here = f"{where}.{key}"
        items = self.src.sequence(f[key], here)
        if items is None:
            return None
        result: list[str] = []
        ok = True
        for index, item in enumerate(items):
            value = self.src.string(item, f"{here}[{index}]", pattern=pattern)
            if value is None:
                ok = False
            elif value in result:
                self.src.problem(item, f"{here}: {value!r} is listed twice")
                ok = False
            else:
                result.append(value)
        return tuple(result) if ok else None

    def _minutes(self, node: Node, where: str) -> timedelta | None:
        value = self.src.number(node, where, low=0.0, high=_MAX_MINUTES, positive=True)
        return None if value is None else timedelta(minutes=value)

    # --- timing ----------------------------------------------------------------------------

    def _timing(self, node: Node) -> Timing | None:
        f = self.src.mapping(
            node,
            "timing",
            optional=("repeat_minutes", "escalate_minutes", "silent_intervals", "hysteresis"),
        )
        if f is None:
            return None
        default = Timing()
        ok = True
        repeat = default.repeat
        if "repeat_minutes" in f:
            value = self._minutes(f["repeat_minutes"], "timing.repeat_minutes")
            ok = ok and value is not None
            repeat = value or repeat
        escalate = default.escalate
        if "escalate_minutes" in f:
            steps = self._escalate(f["escalate_minutes"])
            ok = ok and steps is not None
            escalate = steps if steps is not None else escalate
        silent = default.silent_intervals
        if "silent_intervals" in f:
            number = self.src.number(
                f["silent_intervals"], "timing.silent_intervals", low=1.0, high=1000.0
            )
            ok = ok and number is not None
            silent = number if number is not None else silent
        hysteresis = default.hysteresis
        if "hysteresis" in f:
            number = self.src.number(f["hysteresis"], "timing.hysteresis", low=0.0)
            if number is not None and number >= 1.0:
                self.src.problem(
                    f["hysteresis"], f"timing.hysteresis: {number:g} must be below 1 (a fraction)"
                )
                number = None
            ok = ok and number is not None
            hysteresis = number if number is not None else hysteresis
        if not ok:
            return None
        return Timing(
            repeat=repeat, escalate=escalate, silent_intervals=silent, hysteresis=hysteresis
        )

    def _escalate(self, node: Node) -> tuple[timedelta, ...] | None:
        items = self.src.sequence(node, "timing.escalate_minutes")
        if items is None:
            return None
        steps: list[timedelta] = []
        for index, item in enumerate(items):
            step = self._minutes(item, f"timing.escalate_minutes[{index}]")
            if step is None:
                return None
            if steps and step <= steps[-1]:
                self.src.problem(
                    item,
                    f"timing.escalate_minutes[{index}]: must be later than the step before "
                    f"({steps[-1].total_seconds() / 60:g} min)",
                )
                return None
            steps.append(step)
        return tuple(steps)

    # --- smtp ------------------------------------------------------------------------------

    def _smtp(self, node: Node) -> SmtpServer | None:
        f = self.src.mapping(
            node,
            "smtp",
            required=("host",),
            optional=("port", "sender", "starttls", "username", "password_env", "cafile"),
        )
        if f is None or "host" not in f:
            return None
        host = self.src.string(f["host"], "smtp.host")
        port: int | None = 25
        if "port" in f:
            port = self.src.integer(f["port"], "smtp.port", low=1, high=65535)
        sender: str | None = SmtpServer.sender
        if "sender" in f:
            sender = self.src.string(f["sender"], "smtp.sender", pattern=_EMAIL)
        starttls: bool | None = False
        if "starttls" in f:
            starttls = self.src.boolean(f["starttls"], "smtp.starttls")
        username = password = cafile = None
        if "username" in f:
            username = self.src.string(f["username"], "smtp.username")
        if "password_env" in f:
            password = self._secret(f["password_env"], "smtp.password_env")
        if ("username" in f) != ("password_env" in f):
            self.src.problem(node, "smtp: username and password_env go together")
            return None
        if "cafile" in f:
            cafile = self.src.string(f["cafile"], "smtp.cafile")
        if (
            host is None
            or port is None
            or sender is None
            or starttls is None
            or ("username" in f and (username is None or password is None))
            or ("cafile" in f and cafile is None)
        ):
            return None
        return SmtpServer(
            host=host,
            port=port,
            sender=sender,
            starttls=starttls,
            username=username,
            password=password,
            cafile=cafile,
        )

    # --- receivers -------------------------------------------------------------------------

    def _receivers(self, node: Node) -> tuple[dict[str, Receiver], dict[str, str]]:
        receivers: dict[str, Receiver] = {}
        names_zh: dict[str, str] = {}
        f = self.src.mapping(node, "receivers", optional=None)
        if f is None:
            return receivers, names_zh
        if not f:
            self.src.problem(node, "receivers: define at least one receiver")
        for name, value in f.items():
            valid_name = re.fullmatch(_RECEIVER_NAME, name) is not None
            if not valid_name:
                self.src.problem(
                    _key_node(node, name),
                    f"receivers: {name!r} is not a valid name ({_RECEIVER_NAME})",
                )
            self.receiver_names.add(name)  # known even when wrong, so rotas are not blamed too
            where = f"receiver {name}"
            g = self.src.mapping(value, where, required=("channels",), optional=("name_zh",))
            if g is None or "channels" not in g:
                continue
            name_zh = self.src.string(g["name_zh"], f"{where}.name_zh") if "name_zh" in g else None
            channels = self._channels(g["channels"], where)
            if not valid_name or channels is None or ("name_zh" in g and name_zh is None):
                continue
            receivers[name] = Receiver(name=name, channels=channels)
            if name_zh is not None:
                names_zh[name] = name_zh
        return receivers, names_zh

    def _channels(self, node: Node, where: str) -> tuple[Channel, ...] | None:
        items = self.src.sequence(node, f"{where}.channels")
        if items is None:
            return None
        if not items:
            self.src.problem(node, f"{where}.channels: must list at least one channel")
            return None
        channels = [
            self._channel(item, f"{where}.channels[{index}]") for index, item in enumerate(items)
        ]
        result = tuple(channel for channel in channels if channel is not None)
        return result if len(result) == len(channels) else None

    def _channel(self, node: Node, where: str) -> Channel | None:
        kind = _peek(node, "type")
        if kind is None or kind not in _CHANNEL_KEYS:
            f = self.src.mapping(node, where, required=("type",), optional=None)
            if f is not None and "type" in f:
                self.src.string(f["type"], f"{where}.type", choices=_CHANNEL_KEYS)
            return None
        required, optional = _CHANNEL_KEYS[kind]
        before = len(self.src.problems)
        f = self.src.mapping(node, f"{where} ({kind})", required=required, optional=optional)
        if f is None or any(key not in f for key in required):
            return None
        channel = self._typed_channel(kind, f, node, where)
        return channel if len(self.src.problems) == before else None  # e.g. an unknown key

    def _typed_channel(
        self, kind: str, f: dict[str, Node], node: Node, where: str
    ) -> Channel | None:
        if kind == "email":
            to = self._strings(f, "to", where, pattern=_EMAIL)
            if to is not None and not to:
                self.src.problem(f["to"], f"{where}.to: must list at least one address")
            self.email_channels.append(node)
            return EmailChannel(to=to) if to else None
        url = self._url(f["url"], f"{where}.url")
        if kind == "webhook":
            return None if url is None else WebhookChannel(url=url)
        if kind == "wecom":
            mobiles = self._strings(f, "mentioned_mobiles", where)
            if url is None or mobiles is None:
                return None
            return WeComChannel(url=url, mentioned_mobiles=mobiles)
        at_mobiles = self._strings(f, "at_mobiles", where)
        secret = None
        if "secret_env" in f:
            secret = self._secret(f["secret_env"], f"{where}.secret_env")
        if url is None or at_mobiles is None or ("secret_env" in f and secret is None):
            return None
        return DingTalkChannel(url=url, secret=secret, at_mobiles=at_mobiles)

    # --- rotas -----------------------------------------------------------------------------

    def _rotas(self, node: Node) -> dict[Jurisdiction, Rota]:
        rotas: dict[Jurisdiction, Rota] = {}
        f = self.src.mapping(node, "rotas", optional=None)
        if f is None:
            return rotas
        if not f:
            self.src.problem(node, "rotas: define the rota of at least one jurisdiction")
        known = [j.value for j in Jurisdiction]
        for code, value in f.items():
            if code not in known:
                self.src.problem(
                    _key_node(node, code),
                    f"rotas: unknown jurisdiction {code!r} (one of {', '.join(known)})",
                )
                continue
            rota = self._rota(Jurisdiction(code), value)
            if rota is not None:
                rotas[rota.jurisdiction] = rota
        return rotas

    def _rota(self, jurisdiction: Jurisdiction, node: Node) -> Rota | None:
        where = f"rota {jurisdiction}"
        f = self.src.mapping(node, where, required=("tiers",), optional=("scope",))
        if f is None or "tiers" not in f:
            return None
        scope: Scope | None = Scope.ALL
        if "scope" in f:
            value = self.src.string(f["scope"], f"{where}.scope", choices=[s.value for s in Scope])
            scope = Scope(value) if value else None
        tiers = self._tiers(f["tiers"], _key_node(node, "tiers"), where)
        if scope is None or tiers is None:
            return None
        return Rota(jurisdiction=jurisdiction, scope=scope, tiers=tiers)

    def _tiers(self, node: Node, key: Node, where: str) -> tuple[Tier, ...] | None:
        items = self.src.sequence(node, f"{where}.tiers")
        if items is None:
            return None
        if not items:
            self.src.problem(node, f"{where}.tiers: must list at least tier 1")
            return None
        tiers: dict[int, Tier] = {}
        lines: dict[int, int] = {}
        ok = True
        for index, item in enumerate(items):
            here = f"{where}.tiers[{index}]"
            g = self.src.mapping(item, here, required=("tier", "shifts"))
            if g is None or "tier" not in g or "shifts" not in g:
                ok = False
                continue
            number = self.src.integer(g["tier"], f"{here}.tier", low=1, high=_MAX_TIER)
            shifts = self._shifts(g["shifts"], f"{where} tier {number or '?'}")
            if number is None:
                ok = False
                continue
            if number in lines:
                self.src.problem(
                    g["tier"], f"{where}: duplicate tier {number} (first at line {lines[number]})"
                )
                ok = False
                continue
            lines[number] = line_of(g["tier"])
            if shifts is None:
                ok = False
                continue
            tiers[number] = Tier(tier=number, shifts=shifts)
        if not ok:
            return None
        numbers = sorted(tiers)
        missing = [n for n in range(1, numbers[-1] + 1) if n not in tiers]
        if 1 in missing:
            found = ", ".join(str(n) for n in numbers)
            self.src.problem(key, f"{where}.tiers: must start at tier 1 (found {found})")
            return None
        if missing:
            holes = ", ".join(str(n) for n in missing)
            self.src.problem(key, f"{where}.tiers: no holes allowed, tier {holes} missing")
            return None
        return tuple(tiers[n] for n in numbers)

    def _shifts(self, node: Node, where: str) -> tuple[Shift, ...] | None:
        items = self.src.sequence(node, f"{where}.shifts")
        if items is None:
            return None
        if not items:
            self.src.problem(node, f"{where}.shifts: must list at least one shift")
            return None
        shifts = [
            self._shift(item, f"{where} shift {index + 1}") for index, item in enumerate(items)
        ]
        result = tuple(shift for shift in shifts if shift is not None)
        return result if len(result) == len(shifts) else None

    def _shift(self, node: Node, where: str) -> Shift | None:
        f = self.src.mapping(node, where, required=("days", "hours", "receivers"))
        if f is None or any(key not in f for key in ("days", "hours", "receivers")):
            return None
        days = self._days(f["days"], f"{where}.days")
        hours = self._hours(f["hours"], f"{where}.hours")
        receivers = self._shift_receivers(f["receivers"], f"{where}.receivers")
        if days is None or hours is None or receivers is None:
            return None
        return Shift(days=days, start=hours[0], end=hours[1], receivers=receivers)

    def _days(self, node: Node, where: str) -> frozenset[int] | None:
        if isinstance(node, ScalarNode):
            group = self.src.string(node, where, choices=DAY_GROUPS)
            return None if group is None else DAY_GROUPS[group]
        names = self.src.strings(node, where, choices=DAY_NAMES)
        if names is None:
            return None
        if not names:
            self.src.problem(node, f"{where}: must list at least one day")
            return None
        if len(names) != len(_items(node)):
            return None  # a bad or repeated day, already reported
        return frozenset(DAY_NAMES.index(name) for name in names)

    def _hours(self, node: Node, where: str) -> tuple[int, int] | None:
        text = self.src.string(node, where)
        if text is None:
            return None
        match = _HOURS.fullmatch(text.strip())
        bad = f'{where}: {text!r} is not "HH:MM-HH:MM" (00:00 to 24:00)'
        if match is None:
            self.src.problem(node, bad)
            return None
        h1, m1, h2, m2 = (int(group) for group in match.groups())
        if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2 != 0):
            self.src.problem(node, bad)
            return None
        return h1 * 60 + m1, h2 * 60 + m2

    def _shift_receivers(self, node: Node, where: str) -> tuple[str, ...] | None:
        names = self.src.strings(node, where)
        if names is None:
            return None
        if not names:
            self.src.problem(node, f"{where}: must name at least one receiver")
            return None
        ok = len(names) == len(_items(node))
        unknown = [name for name in names if name not in self.receiver_names]
        for item in _items(node):
            if isinstance(item, ScalarNode) and item.value in unknown:
                self.src.problem(item, f"{where}: unknown receiver {item.value!r}")
                unknown.remove(item.value)
                ok = False
        return names if ok else None


def _items(node: Node) -> list[Node]:
    return list(node.value) if isinstance(node, SequenceNode) else []


def _peek(node: Node, key: str) -> str | None:
    """The plain string value of ``key`` in a mapping node, without recording problems."""
    if not isinstance(node, MappingNode):
        return None
    for key_node, value_node in node.value:
        if isinstance(key_node, ScalarNode) and str(key_node.value) == key:
            if isinstance(value_node, ScalarNode) and value_node.tag == "tag:yaml.org,2002:str":
                return str(value_node.value)
            return None
    return None
