"""Grafana's variable and macro substitution, done here as Grafana does it (contract 3).

A Flux panel query goes through two substitutions before InfluxDB sees it:

1. In the browser, Grafana's template service replaces dashboard variables: ``$var``,
   ``${var}``, ``${var:format}``, ``[[var]]`` and ``[[var:format]]``. The InfluxDB datasource in
   Flux mode passes no format of its own, so a variable without one takes Grafana's default,
   ``glob`` (a multi-value ``{a,b}``, a single value as it is). Unknown variables stay as written.
2. In the backend, the Flux datasource prepends nothing but replaces its macros:
   ``v.timeRangeStart`` and ``v.timeRangeStop`` by RFC 3339 times, ``v.windowPeriod`` by a Go
   duration, ``v.defaultBucket`` and ``v.organization`` by quoted strings.

:func:`interpolate` does both, so the query tests and the snapshots run exactly the text a Grafana
would send.

>>> from datetime import UTC, datetime, timedelta
>>> interpolate(
...     'r.station =~ /^${station:regex}$/ and r._time >= v.timeRangeStart',
...     {"station": ["JS-TH-001", "JS-TH-002"]},
...     datetime(2021, 4, 1, tzinfo=UTC), datetime(2021, 5, 1, tzinfo=UTC),
...     timedelta(hours=4), "basinwatch-js", "basinwatch",
... )
'r.station =~ /^(JS-TH-001|JS-TH-002)$/ and r._time >= 2021-04-01T00:00:00Z'
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

__all__ = ["FORMATS", "VariableFormatError", "go_duration", "interpolate", "rfc3339"]

Value = str | Sequence[str]


class VariableFormatError(ValueError):
    """A ``${var:format}`` whose format Grafana does not have."""


# Grafana's variableRegex (public/app/features/variables/utils.ts).
_VARIABLE = re.compile(
    r"\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.([^:^}]+))?(?::([^}]+))?\}"
)
_REGEX_SPECIAL = re.compile(r"[\\^$*+?.()|\[\]{}/]")


def _values(value: Value) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _escape_regex(text: str) -> str:
    return _REGEX_SPECIAL.sub(lambda m: "\\" + m.group(0), text)


def _regex(value: Value) -> str:
    escaped = [_escape_regex(v) for v in _values(value)]
    return escaped[0] if len(escaped) == 1 else "(" + "|".join(escaped) + ")"


def _glob(value: Value) -> str:
    values = _values(value)
    return values[0] if len(values) == 1 else "{" + ",".join(values) + "}"


def _quoted(quote_char: str) -> Callable[[Value], str]:
    def format_(value: Value) -> str:
        escaped = [v.replace(quote_char, "\\" + quote_char) for v in _values(value)]
        return ",".join(f"{quote_char}{v}{quote_char}" for v in escaped)

    return format_


def _json(value: Value) -> str:
    return json.dumps(value if isinstance(value, str) else list(value), ensure_ascii=False)


def _sqlstring(value: Value) -> str:
    return ",".join("'" + v.replace("'", "''") + "'" for v in _values(value))


#: Grafana's variable formats (``${var:format}``) that a Flux query may use.
FORMATS: Mapping[str, Callable[[Value], str]] = {
    "glob": _glob,
    "regex": _regex,
    "csv": lambda v: ",".join(_values(v)),
    "pipe": lambda v: "|".join(_values(v)),
    "raw": lambda v: ",".join(_values(v)),
    "text": lambda v: " + ".join(_values(v)),
    "json": _json,
    "doublequote": _quoted('"'),
    "singlequote": _quoted("'"),
    "sqlstring": _sqlstring,
    "percentencode": lambda v: quote(_glob(v), safe="-_.!~*'()"),
    "distributed": lambda v: ",".join(_values(v)),
}


def rfc3339(at: datetime) -> str:
    """A time as Grafana's backend writes ``v.timeRangeStart``: UTC, ``Z``, no fraction if none."""
    if at.tzinfo is None:
        raise ValueError(f"{at!r}: a time range needs an aware datetime")
    text = at.astimezone(UTC).isoformat()
    return text.replace("+00:00", "Z")


def go_duration(span: timedelta) -> str:
    """A positive span as Go's ``time.Duration.String()`` writes it (``4h0m0s``, ``1m30s``)."""
    micros = round(span / timedelta(microseconds=1))
    if micros <= 0:
        raise ValueError(f"{span}: a window period must be positive")
    if micros < 1_000_000:
        return f"{micros / 1000:g}ms" if micros >= 1000 else f"{micros}µs"
    hours, rest = divmod(micros, 3_600_000_000)
    minutes, rest = divmod(rest, 60_000_000)
    seconds = f"{rest / 1_000_000:.6f}".rstrip("0").rstrip(".")
    if hours:
        return f"{hours}h{minutes}m{seconds}s"
    if minutes:
        return f"{minutes}m{seconds}s"
    return f"{seconds}s"


def _flux_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _browser(query: str, variables: Mapping[str, Value], builtins: Mapping[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2) or match.group(4)
        fmt = match.group(3) or match.group(6)
        if name in builtins:
            return builtins[name]
        if name not in variables:
            return match.group(0)  # Grafana leaves an unknown variable as written
        if fmt is None:
            fmt = "glob"
        try:
            formatter = FORMATS[fmt]
        except KeyError:
            raise VariableFormatError(
                f"{match.group(0)}: unknown variable format {fmt!r}; known: {', '.join(FORMATS)}"
            ) from None
        return formatter(variables[name])

    return _VARIABLE.sub(replace, query)


def interpolate(
    query: str,
    variables: Mapping[str, Value],
    start: datetime,
    stop: datetime,
    window: timedelta,
    bucket: str,
    org: str,
) -> str:
    """The query text InfluxDB receives from a Grafana Flux datasource (see the module doc)."""
    builtins = {
        "__from": str(int(start.timestamp() * 1000)),
        "__to": str(int(stop.timestamp() * 1000)),
    }
    text = _browser(query, variables, builtins)
    macros = {
        "v.timeRangeStart": rfc3339(start),
        "v.timeRangeStop": rfc3339(stop),
        "v.windowPeriod": go_duration(window),
        "v.defaultBucket": _flux_string(bucket),
        "v.organization": _flux_string(org),
    }
    pattern = re.compile(r"\b(" + "|".join(re.escape(m) for m in macros) + r")\b")
    return pattern.sub(lambda m: macros[m.group(1)], text)
