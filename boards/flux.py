"""A small Flux query builder: every board query is built here, not pasted as text.

A :class:`Flux` is an immutable pipeline: ``from(bucket: v.defaultBucket)``, a ``range`` on the
dashboard's time, then stages. :meth:`Flux.select` filters one or more measurements to named
fields and checks every name against the store's schema (:mod:`boards.schema`), so a query cannot
name a field the store does not write. Tag filters take a plain value, a list of values or a
Grafana variable (:class:`Var`), which becomes a regex match so that a multi-value variable works.

>>> q = Flux().select("water_quality", ["value"], station=Var("station"), parameter="tp")
>>> print(q.stage("last()").render())
from(bucket: v.defaultBucket)
  |> range(start: v.timeRangeStart, stop: v.timeRangeStop)
  |> filter(fn: (r) => r._measurement == "water_quality" and (r._field == "value"))
  |> filter(fn: (r) => r.station =~ /^${station:regex}$/)
  |> filter(fn: (r) => r.parameter == "tp")
  |> last()
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from boards.schema import Measurement, SchemaError, measurement

__all__ = ["Flux", "Raw", "Var", "array_rows", "combine", "dictionary", "literal", "string_set"]

Scalar = str | int | float | bool


@dataclass(frozen=True)
class Var:
    """A Grafana dashboard variable, matched with ``${name:regex}``."""

    name: str


class Raw(str):
    """Flux text written as it is (a time, an expression), not quoted as a string."""


def literal(value: Scalar) -> str:
    """A Python value as a Flux literal (a :class:`Raw` as it is)."""
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value}: Flux has no literal for it")
        return repr(value) if "." in repr(value) or "e" in repr(value) else f"{value}.0"
    return json.dumps(value, ensure_ascii=False)


def dictionary(name: str, pairs: Mapping[str, Scalar], default: Scalar) -> str:
    """A Flux dictionary binding ``name = [key: value, ...]`` (``[:]`` when empty).

    ``default`` only sets the value type of an empty dictionary, which Flux needs to know.
    """
    if not pairs:
        return f'{name} = dict.remove(dict: [{literal("")}: {literal(default)}], key: "")'
    body = ", ".join(f"{literal(k)}: {literal(v)}" for k, v in sorted(pairs.items()))
    return f"{name} = [{body}]"


def array_rows(rows: Sequence[Mapping[str, Scalar]]) -> str:
    """``array.from(rows: [...])`` of records with the same keys."""
    body = ", ".join(
        "{" + ", ".join(f"{k}: {literal(v)}" for k, v in row.items()) + "}" for row in rows
    )
    return f"array.from(rows: [{body}])"


def string_set(values: Iterable[str]) -> str:
    """A Flux array of strings, for ``contains(value: ..., set: ...)``."""
    return "[" + ", ".join(literal(v) for v in sorted(values)) + "]"


def _match(column: str, value: str | Sequence[str] | Var) -> str:
    if isinstance(value, Var):
        return f"r.{column} =~ /^${{{value.name}:regex}}$/"
    if isinstance(value, str):
        return f"r.{column} == {literal(value)}"
    if not value:
        raise ValueError(f"{column}: an empty set of values matches nothing")
    return f"contains(value: r.{column}, set: {string_set(value)})"


@dataclass(frozen=True)
class Flux:
    """One Flux query: imports, bindings before the pipeline, the pipeline's stages."""

    stages: tuple[str, ...] = ()
    imports: frozenset[str] = frozenset()
    bindings: tuple[str, ...] = ()
    selected: tuple[Measurement, ...] = ()
    start: str = "v.timeRangeStart"
    stop: str = "v.timeRangeStop"
    _columns: frozenset[str] = field(default=frozenset())

    def _with(self, **changes: object) -> Flux:
        values: dict[str, Any] = {
            "stages": self.stages,
            "imports": self.imports,
            "bindings": self.bindings,
            "selected": self.selected,
            "start": self.start,
            "stop": self.stop,
            "_columns": self._columns,
        }
        values.update(changes)
        return Flux(**values)

    def shifted(self, shift: str) -> Flux:
        """The same range ``shift`` earlier (e.g. ``1y``: the same period last year)."""
        return self._with(
            start=f"date.sub(d: {shift}, from: v.timeRangeStart)",
            stop=f"date.sub(d: {shift}, from: v.timeRangeStop)",
            imports=self.imports | {"date"},
        )

    def lookback(self, span: str) -> Flux:
        """Start ``span`` before the range's stop (what is still open, whatever the range)."""
        return self._with(
            start=f"date.sub(d: {span}, from: v.timeRangeStop)", imports=self.imports | {"date"}
        )

    def uses(self, *packages: str) -> Flux:
        """Import Flux packages (``dict``, ``array``, ``date``, ``timezone`` ...)."""
        return self._with(imports=self.imports | set(packages))

    def bind(self, *lines: str) -> Flux:
        """Bindings written before the pipeline (dictionaries, constants)."""
        return self._with(bindings=self.bindings + lines)

    def select(
        self,
        measurements: str | Sequence[str],
        fields: Sequence[str],
        **tags: str | Sequence[str] | Var,
    ) -> Flux:
        """Filter to ``fields`` of ``measurements`` (each must write every field and tag named),
        and to tag values: a string, a list of strings, or a Grafana variable."""
        names = [measurements] if isinstance(measurements, str) else list(measurements)
        chosen = tuple(measurement(name) for name in names)
        if not fields:
            raise SchemaError(f"{', '.join(names)}: select at least one field")
        for m in chosen:
            for name in fields:
                m.check_field(name)
            for tag in tags:
                m.check_tag(tag)
        ms = " or ".join(f"r._measurement == {literal(m.name)}" for m in chosen)
        fs = " or ".join(f"r._field == {literal(f)}" for f in fields)
        ms = f"({ms})" if len(chosen) > 1 else ms
        stages = [f"filter(fn: (r) => {ms} and ({fs}))"]
        stages += [f"filter(fn: (r) => {_match(tag, value)})" for tag, value in tags.items()]
        columns = frozenset(fields).union(*(m.tags for m in chosen))
        return self._with(
            stages=self.stages + tuple(stages),
            selected=self.selected + chosen,
            _columns=self._columns | columns,
        )

    def where(self, tag: str, value: str | Sequence[str] | Var) -> Flux:
        """Filter on a tag of the selected measurements."""
        for m in self.selected:
            m.check_tag(tag)
        return self.stage(f"filter(fn: (r) => {_match(tag, value)})")

    def where_value(self, predicate: str, *columns: str) -> Flux:
        """Filter rows by a predicate over ``r``; the columns it names must be fields or tags
        of the selected measurements (or ``_value``/``_time``)."""
        for column in columns:
            if column not in self._columns and not column.startswith("_"):
                raise SchemaError(f"{column}: not a field or tag of the selected measurements")
        return self.stage(f"filter(fn: (r) => {predicate})")

    def pivot_fields(self) -> Flux:
        """One row per time with the selected fields as columns."""
        return self.stage('pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")')

    def pivot(self, rows: Sequence[str], column: str) -> Flux:
        """One row per ``rows`` key with a column per value of ``column``."""
        keys = ", ".join(literal(c) for c in rows)
        return self.stage(
            f'pivot(rowKey: [{keys}], columnKey: [{literal(column)}], valueColumn: "_value")'
        )

    def group(self, *columns: str) -> Flux:
        listed = ", ".join(literal(c) for c in columns)
        return self.stage(f"group(columns: [{listed}])" if columns else "group()")

    def keep(self, *columns: str) -> Flux:
        return self.stage(f"keep(columns: [{', '.join(literal(c) for c in columns)}])")

    def sort(self, *columns: str, desc: bool = False) -> Flux:
        listed = ", ".join(literal(c) for c in columns)
        return self.stage(f"sort(columns: [{listed}], desc: {literal(desc)})")

    def stage(self, text: str) -> Flux:
        """Any further stage (``last()``, ``map(...)``, ``aggregateWindow(...)`` ...)."""
        return self._with(stages=(*self.stages, text))

    def render(self) -> str:
        """The query text, with Grafana's macros (``v.timeRangeStart`` ...) left for Grafana."""
        head = [f'import "{p}"' for p in sorted(self.imports)]
        if head:
            head.append("")
        head += list(self.bindings)
        if self.bindings:
            head.append("")
        pipeline = [
            "from(bucket: v.defaultBucket)",
            f"  |> range(start: {self.start}, stop: {self.stop})",
        ]
        pipeline += [f"  |> {s}" for s in self.stages]
        return "\n".join(head + pipeline)


def combine(parts: Mapping[str, Flux], result: str) -> str:
    """Several pipelines bound to names, then ``result`` (e.g. ``union(tables: [a, b])``)."""
    imports = sorted(set().union(*(p.imports for p in parts.values())))
    bindings: list[str] = []
    for p in parts.values():
        bindings += [b for b in p.bindings if b not in bindings]
    lines = [f'import "{name}"' for name in imports]
    if lines:
        lines.append("")
    lines += bindings
    for name, p in parts.items():
        pipeline = p._with(imports=frozenset(), bindings=()).render().split("\n")
        lines += [f"{name} =", *(f"  {line}" for line in pipeline)]
    lines.append(result)
    return "\n".join(lines)
