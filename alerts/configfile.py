"""What alerts.yaml may hold: the file's model, validated by :mod:`alerts.config`.

The schema, with an example, is the header comment of ``alerts/data/alerts.yaml``. Every value is
checked here (types, ranges, URLs, secrets present in the environment, receivers named by the
rotas, tiers numbered 1..n); :func:`alerts.config.load_alerts_config` turns the validated model
into the configuration objects the alert agent uses.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    ConfigDict,
    Discriminator,
    PlainValidator,
    Tag,
    ValidationInfo,
    model_validator,
)

from alerts.channels import SmtpServer
from stations.registry import JurisdictionKey
from stations.schema import (
    EnvSecret,
    Number,
    Problems,
    Spec,
    Text,
    Url,
    Version,
    bounded,
    choice,
    choose,
    invalid,
    listed,
    matching,
    names,
    non_empty,
    text,
    within,
)
from stations.yamlsource import Loc, dotted, value_at

#: Day names of ``days:``, Monday first (``datetime.weekday()`` order).
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_GROUPS: Mapping[str, frozenset[int]] = MappingProxyType(
    {
        "all": frozenset(range(7)),
        "weekdays": frozenset(range(5)),
        "weekend": frozenset({5, 6}),
    }
)
CHANNEL_TYPES = ("webhook", "wecom", "dingtalk", "email")

_RECEIVER_NAME = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}"
_EMAIL = r"[^@\s]+@[^@\s]+"
_HOURS = re.compile(r"(\d\d):(\d\d)-(\d\d):(\d\d)")
_MAX_TIER = 9
_MAX_MINUTES = 7 * 24 * 60  # a week


class Scope(StrEnum):
    """Which alerts a jurisdiction's rota receives."""

    ALL = "all"
    CROSS_BOUNDARY = "cross_boundary"  # only alerts of cross-boundary sections


def where(path: Loc, data: Any) -> str | None:
    """Names a place for messages: ``receiver js-duty.channels[0]``, ``rota JS tier 1 shift 2``."""
    match path:
        case ("receivers", str(name), "channels", int(), *rest):
            kind = value_at(data, (*path[:4], "type"))
            suffix = f" ({kind})" if not rest and kind in CHANNEL_TYPES else ""
            return dotted(path[2:], f"receiver {name}") + suffix
        case ("receivers", str(name), *rest):
            return dotted(tuple(rest), f"receiver {name}")
        case ("rotas", str(code), "tiers", int(), "shifts", *rest):
            number = value_at(data, (*path[:4], "tier"))
            tier = number if isinstance(number, int) and 1 <= number <= _MAX_TIER else "?"
            head = f"rota {code} tier {tier}"
            if rest and isinstance(rest[0], int):
                return dotted(tuple(rest[1:]), f"{head} shift {rest[0] + 1}")
            return dotted(("shifts", *rest), head)
        case ("rotas", str(code), *rest):
            return dotted(tuple(rest), f"rota {code}")
    return None


def context(data: Any, environ: Mapping[str, str]) -> dict[str, Any]:
    """What validation needs beyond a value: the secrets, the receivers' names, an smtp section."""
    receivers = value_at(data, ("receivers",))
    return {
        "environ": environ,
        "receivers": frozenset(receivers) if isinstance(receivers, dict) else frozenset(),
        "smtp": value_at(data, ("smtp",)) is not None,
    }


_Minutes = Annotated[Number, bounded(0.0, _MAX_MINUTES, positive=True)]


def _increasing(steps: tuple[float, ...]) -> tuple[float, ...]:
    for index in range(1, len(steps)):
        if steps[index] <= steps[index - 1]:
            message = f"must be later than the step before ({steps[index - 1]:g} min)"
            raise invalid(message, loc=(index,))
    return steps


def _fraction(value: float) -> float:
    if value >= 1.0:
        raise invalid(f"{value:g} must be below 1 (a fraction)")
    return value


class TimingSpec(Spec):
    """``timing:``; what is left out keeps its default (:class:`alerts.config.Timing`)."""

    repeat_minutes: _Minutes | None = None
    escalate_minutes: Annotated[tuple[_Minutes, ...], AfterValidator(_increasing)] | None = None
    silent_intervals: Annotated[Number, bounded(1.0, 1000.0)] | None = None
    hysteresis: Annotated[Number, bounded(low=0.0), AfterValidator(_fraction)] | None = None


class SmtpSpec(Spec):
    host: Text
    port: Annotated[int, within(1, 65535)] = 25
    sender: Annotated[str, matching(_EMAIL)] = SmtpServer.sender
    starttls: bool = False
    username: Text | None = None
    password_env: EnvSecret | None = None
    cafile: Text | None = None

    @model_validator(mode="after")
    def _login(self) -> Self:
        if (self.username is None) != (self.password_env is None):
            raise invalid("username and password_env go together")
        return self


_Mobiles = Annotated[tuple[str, ...], names()]


class WebhookSpec(Spec):
    type: Literal["webhook"]
    url: Url


class WeComSpec(Spec):
    type: Literal["wecom"]
    url: Url
    mentioned_mobiles: _Mobiles = ()


class DingTalkSpec(Spec):
    type: Literal["dingtalk"]
    url: Url
    secret_env: EnvSecret | None = None
    at_mobiles: _Mobiles = ()


def _smtp_given(kind: str, info: ValidationInfo) -> str:
    if not (info.context or {}).get("smtp"):
        raise invalid("an email channel needs the smtp section (none is given)", prefix=False)
    return kind


class EmailSpec(Spec):
    type: Annotated[Literal["email"], AfterValidator(_smtp_given)]
    to: Annotated[
        tuple[str, ...], names(pattern=_EMAIL), non_empty("must list at least one address")
    ]


class UnknownChannelSpec(Spec):
    """A channel without a known type: only its ``type`` is checked (which fails)."""

    model_config = ConfigDict(extra="allow")
    type: Annotated[str, choice(CHANNEL_TYPES)]


def _channel_type(value: Any) -> str:
    kind = value.get("type") if isinstance(value, dict) else None
    return f"<{kind}>" if kind in CHANNEL_TYPES else "<unknown>"


ChannelSpec = Annotated[
    Annotated[WebhookSpec, Tag("<webhook>")]
    | Annotated[WeComSpec, Tag("<wecom>")]
    | Annotated[DingTalkSpec, Tag("<dingtalk>")]
    | Annotated[EmailSpec, Tag("<email>")]
    | Annotated[UnknownChannelSpec, Tag("<unknown>")],
    Discriminator(_channel_type),
]


class ReceiverSpec(Spec):
    name_zh: Text | None = None
    channels: Annotated[tuple[ChannelSpec, ...], non_empty("must list at least one channel")]


def _receiver_name(name: str) -> str:
    if not re.fullmatch(_RECEIVER_NAME, name):
        raise invalid(f"{name!r} is not a valid name ({_RECEIVER_NAME})")
    return name


def _days(value: Any) -> frozenset[int]:
    if not isinstance(value, tuple | dict):
        return DAY_GROUPS[choose(value, DAY_GROUPS)]
    days = listed(value, choices=DAY_NAMES)
    if not days:
        raise invalid("must list at least one day")
    return frozenset(DAY_NAMES.index(day) for day in days)


def _hours(value: Any) -> tuple[int, int]:
    match = _HOURS.fullmatch(text(value).strip())
    if match is not None:
        h1, m1, h2, m2 = (int(group) for group in match.groups())
        if h1 <= 23 and m1 <= 59 and m2 <= 59 and (h2 < 24 or (h2 == 24 and m2 == 0)):
            return h1 * 60 + m1, h2 * 60 + m2
    raise invalid(f'{value!r} is not "HH:MM-HH:MM" (00:00 to 24:00)')


def _on_duty(receivers: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
    known = (info.context or {}).get("receivers", frozenset())
    found = Problems()
    for index, name in enumerate(receivers):
        if name not in known:
            found.add(f"unknown receiver {name!r}", at=(index,))
    found.raise_any()
    return receivers


class ShiftSpec(Spec):
    """``{days, hours, receivers}``; ``hours`` as minutes after midnight (start, end)."""

    days: Annotated[frozenset[int], PlainValidator(_days)]
    hours: Annotated[tuple[int, int], PlainValidator(_hours)]
    receivers: Annotated[
        tuple[str, ...],
        names(),
        non_empty("must name at least one receiver"),
        AfterValidator(_on_duty),
    ]


class TierSpec(Spec):
    tier: Annotated[int, within(1, _MAX_TIER)]
    shifts: Annotated[tuple[ShiftSpec, ...], non_empty("must list at least one shift")]


class RotaSpec(Spec):
    scope: Annotated[Scope, choice(Scope)] = Scope.ALL
    tiers: Annotated[tuple[TierSpec, ...], non_empty("must list at least tier 1")]

    @model_validator(mode="after")
    def _numbered(self) -> Self:
        found, first = Problems(), dict[int, int]()
        for index, tier in enumerate(self.tiers):
            if tier.tier in first:
                at, earlier = ("tiers", index, "tier"), ("tiers", first[tier.tier], "tier")
                found.add(f"duplicate tier {tier.tier}", at=at, first=earlier)
            first.setdefault(tier.tier, index)
        found.raise_any()
        numbers = sorted(first)
        missing = [n for n in range(1, numbers[-1] + 1) if n not in first]
        if 1 in missing:
            given = ", ".join(str(n) for n in numbers)
            raise invalid(f"must start at tier 1 (found {given})", loc=("tiers",), key_line=True)
        if missing:
            holes = ", ".join(str(n) for n in missing)
            raise invalid(f"no holes allowed, tier {holes} missing", loc=("tiers",), key_line=True)
        return self


class AlertsFile(Spec):
    """alerts.yaml."""

    version: Version
    board_url: Url | None = None
    timing: TimingSpec = TimingSpec()
    smtp: SmtpSpec | None = None
    receivers: Annotated[
        dict[Annotated[str, AfterValidator(_receiver_name)], ReceiverSpec],
        non_empty("define at least one receiver"),
    ]
    rotas: Annotated[
        dict[JurisdictionKey, RotaSpec], non_empty("define the rota of at least one jurisdiction")
    ]
