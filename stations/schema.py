"""The building blocks of the YAML files' models: the :class:`Spec` base, value types, problems.

Each configuration file (stations.yaml, qc.yaml, rules.yaml, alerts.yaml) is described by pydantic
models derived from :class:`Spec`: strict (a string is never an integer, ``"1"`` is not 1),
frozen, and an unknown key is an error. The value types below say what a value must be and word
the problem the way a user reads it (``'sea' is not one of lake, river``). Validators report a
problem by raising :func:`invalid` (or several at once with :class:`Problems`);
:class:`~stations.yamlsource.YamlSource` turns every problem into ``file:line: message``.

Locations (``loc``, ``at``, ``first``) are paths relative to the value being validated, e.g.
``("tiers", 2, "tier")``.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Annotated, Any, ClassVar, Literal, TypeVar, Union
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    AllowInfNan,
    BaseModel,
    ConfigDict,
    Discriminator,
    PlainValidator,
    SecretStr,
    Tag,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError, PydanticKnownError

Loc = tuple[str | int, ...]

#: The pydantic error type of every problem a validator of this package reports.
PROBLEM = "config_problem"


@dataclass(frozen=True)
class UnknownKey:
    """Stands in for the value of a key a model does not know, so the error can name the keys
    it does know (pydantic's ``extra_forbidden`` error carries the value, not the model)."""

    allowed: tuple[str, ...]


class _Null:
    """Stands in for a null the file gives where no null is allowed (no type accepts it)."""


class Spec(BaseModel):
    """A part of a configuration file: strict types, unknown keys forbidden, frozen.

    An optional key is left out, not given as null, except the keys named in ``nullable``.
    """

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, defer_build=True)
    nullable: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="before")
    @classmethod
    def _mark(cls, data: Any) -> Any:
        if not isinstance(data, dict) or cls.model_config.get("extra") != "forbid":
            return data
        allowed = tuple(sorted(cls.model_fields))

        def marked(key: str, value: Any) -> Any:
            if key not in cls.model_fields:
                return UnknownKey(allowed)
            return _Null() if value is None and key not in cls.nullable else value

        return {key: marked(key, value) for key, value in data.items()}


# --- problems --------------------------------------------------------------------------------


def problem(
    message: str,
    *,
    loc: Loc = (),
    at: Loc | None = None,
    first: Loc | None = None,
    prefix: bool = True,
    key_line: bool = False,
    hides: bool = False,
) -> InitErrorDetails:
    """One problem of the value being validated.

    ``loc`` names what the problem is about (the ``where:`` prefix of the message); ``at`` the
    value whose line is reported (default ``loc``), ``key_line`` the line of its key instead;
    ``first`` an earlier value whose line is added as ``(first at line N)``; ``prefix=False``
    leaves out the ``where:``; ``hides`` (for a mapping key) hides the problems of its value.
    """
    context = {
        "message": message,
        "loc": loc,
        "at": at,
        "first": first,
        "prefix": prefix,
        "key_line": key_line,
        "hides": hides,
    }
    return {"type": PydanticCustomError(PROBLEM, "{message}", context), "loc": loc, "input": None}


class Problems:
    """Problems collected by one validator, raised together (``raise_any``)."""

    def __init__(self) -> None:
        self.found: list[InitErrorDetails] = []

    def add(self, message: str, **where: Any) -> None:
        self.found.append(problem(message, **where))

    def raise_any(self) -> None:
        if self.found:
            raise ValidationError.from_exception_data("problems", self.found)


def invalid(message: str, **where: Any) -> ValidationError:
    """One problem as an exception to raise (``where``: the keywords of :func:`problem`)."""
    return ValidationError.from_exception_data("problem", [problem(message, **where)])


# --- value types -----------------------------------------------------------------------------


def _not_blank(value: str) -> str:
    if not value.strip():
        raise invalid("must not be empty")
    return value


def text(value: Any) -> str:
    """``value`` if it is a string that is not empty (for validators of strings with a form)."""
    if not isinstance(value, str):
        raise PydanticKnownError("string_type")
    return _not_blank(value)


#: A non-empty string.
Text = Annotated[str, AfterValidator(_not_blank)]


def matching(pattern: str) -> AfterValidator:
    """A non-empty string that matches a regular expression."""

    def check(value: str) -> str:
        if not re.fullmatch(pattern, _not_blank(value)):
            raise invalid(f"{value!r} does not match {pattern}")
        return value

    return AfterValidator(check)


def choose(value: Any, choices: Iterable[str]) -> str:
    """``value`` if it is one of ``choices`` (a string given in the file), else a problem."""
    if not isinstance(value, str):
        raise PydanticKnownError("string_type")
    options = [str(choice) for choice in choices]
    if value not in options:
        raise invalid(f"{_not_blank(value)!r} is not one of {', '.join(sorted(options))}")
    return value


def choice(choices: type[Enum] | Collection[str]) -> PlainValidator:
    """One of some strings; an Enum's member when ``choices`` is an Enum class."""
    if isinstance(choices, type) and issubclass(choices, Enum):
        enum = choices
        return PlainValidator(lambda value: enum(choose(value, [e.value for e in enum])))
    return PlainValidator(lambda value: choose(value, choices))


def within(low: int, high: int) -> AfterValidator:
    """An integer within [low, high]."""

    def check(value: int) -> int:
        if not low <= value <= high:
            raise invalid(f"{value} is outside {low}..{high}")
        return value

    return AfterValidator(check)


#: A finite number (integer or decimal); bound it with :func:`bounded`.
Number = Annotated[float, AllowInfNan(False)]


def bounded(
    low: float | None = None, high: float | None = None, *, positive: bool = False
) -> AfterValidator:
    """A number greater than 0 (``positive``) and within [low, high]."""

    def check(value: float) -> float:
        if positive and value <= 0:
            raise invalid(f"must be greater than 0, got {value:g}")
        if (low is not None and value < low) or (high is not None and value > high):
            raise invalid(f"{value:g} is outside [{low}, {high}]")
        return value

    return AfterValidator(check)


def _span(value: Any) -> tuple[float, float]:
    if not isinstance(value, tuple):
        raise PydanticKnownError("tuple_type")
    numbers = [v for v in value if isinstance(v, int | float) and not isinstance(v, bool)]
    if len(value) != 2 or len(numbers) != 2 or not all(math.isfinite(v) for v in numbers):
        raise invalid("expected [low, high], two numbers")
    low, high = float(numbers[0]), float(numbers[1])
    if not low < high:
        raise invalid(f"low {low:g} must be below high {high:g}")
    return (low, high)


#: ``[low, high]``: two numbers, low below high.
Span = Annotated[tuple[float, float], PlainValidator(_span)]


@functools.cache
def _strings(choices: tuple[str, ...] | None, pattern: str | None) -> TypeAdapter[tuple[str, ...]]:
    item: AfterValidator | PlainValidator
    if choices is not None:
        item = choice(choices)
    else:
        item = matching(pattern) if pattern is not None else AfterValidator(_not_blank)
    return TypeAdapter(tuple[Annotated[str, item], ...], config=ConfigDict(strict=True))


def listed(
    value: Any, *, choices: Iterable[str] | None = None, pattern: str | None = None
) -> tuple[str, ...]:
    """A list of strings, each one of ``choices`` or matching ``pattern``; none twice."""
    items = _strings(None if choices is None else tuple(choices), pattern).validate_python(value)
    found = Problems()
    for index, item in enumerate(items):
        if item in items[:index]:
            found.add(f"{item!r} is listed twice", at=(index,))
    found.raise_any()
    return items


def names(*, choices: Iterable[str] | None = None, pattern: str | None = None) -> PlainValidator:
    """A list of strings (see :func:`listed`)."""
    return PlainValidator(lambda value: listed(value, choices=choices, pattern=pattern))


def non_empty(message: str) -> AfterValidator:
    """A list or mapping with at least one item; ``message`` says what is missing."""

    def check(value: Collection[Any]) -> Any:
        if not value:
            raise invalid(message)
        return value

    return AfterValidator(check)


def _url(value: Any) -> str:
    url = text(value)
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        parts, host = None, None
    if parts is None or parts.scheme not in ("http", "https"):
        raise invalid(f"{url!r} must be an http or https URL")
    if not host:
        raise invalid(f"{url!r} has no host")
    return url


#: An http or https URL with a host.
Url = Annotated[str, PlainValidator(_url)]

_ENV_NAME = r"[A-Za-z_][A-Za-z0-9_]*"


def _secret(value: Any, info: ValidationInfo) -> SecretStr:
    name = text(value)
    if not re.fullmatch(_ENV_NAME, name):
        raise invalid(f"{name!r} does not match {_ENV_NAME}")
    secret = (info.context or {}).get("environ", {}).get(name)
    if not secret:
        raise invalid(f"environment variable {name} is not set (or empty)")
    return SecretStr(secret)


#: A secret: the file gives the NAME of the environment variable that holds it, the validation
#: context the environment (``{"environ": os.environ}``); the value is never in the file or a log.
EnvSecret = Annotated[SecretStr, PlainValidator(_secret)]

#: The file format's version: 1.
Version = Annotated[int, within(1, 1)]

_S = TypeVar("_S")


def _on_off(value: Any) -> str:
    return "<off>" if value is False else "<on>"


#: ``false`` (switched off) or the settings of something, e.g. ``Switch[TargetClassSpec]``.
Switch = Annotated[
    Union[Annotated[Literal[False], Tag("<off>")], Annotated[_S, Tag("<on>")]],  # noqa: UP007
    Discriminator(_on_off),
]
