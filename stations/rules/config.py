"""Breach rules as data: ``stations/data/rules.yaml`` loaded into a
``stations.rules.engine.RuleSet``.

The file's model is :class:`RulesFile`. Unknown keys, bad values, duplicate rule ids, unknown
parameters, jurisdictions or stations all fail loudly: one
:class:`~stations.errors.RuleConfigError` lists every problem with file and line.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, ClassVar, Self

from pydantic import AfterValidator, Field, ValidationInfo, model_validator

from stations import DATA_DIR, parameters
from stations.errors import RuleConfigError
from stations.jurisdictions import Jurisdiction
from stations.registry import Registry
from stations.rules.engine import (
    HYDROLOGY_RULES,
    TARGET_CLASS_RULE,
    HydrologySetting,
    LimitRule,
    Persistence,
    RuleSet,
    TargetClassRule,
)
from stations.rules.events import Severity
from stations.schema import (
    Number,
    Problems,
    Spec,
    Switch,
    Text,
    Version,
    bounded,
    choice,
    invalid,
    matching,
    within,
)
from stations.standard.gb3838 import WaterBody
from stations.yamlsource import Loc, YamlSource, dotted, value_at

#: The rules shipped in the package.
DEFAULT_RULES = DATA_DIR / "rules.yaml"

_RULE_ID = r"[a-z0-9][a-z0-9-]{0,62}"
_MAX_WINDOW_HOURS = 24 * 31
_LISTS = ("jurisdiction_limits", "station_limits")


def load_rules(
    path: str | Path | None = None, *, registry: Registry | None = None, text: str | None = None
) -> RuleSet:
    """Load and validate the rules (default: the shipped file).

    With a registry, station limits must name stations in it that measure the parameter.
    """
    source = YamlSource(path or DEFAULT_RULES, text, name="rules", where=_where)
    spec = source.load(RulesFile, context={"registry": registry})
    source.raise_if_problems(RuleConfigError)
    assert spec is not None
    return spec.build(source.path)


def _where(path: Loc, data: Any) -> str | None:
    """``rule js-lake-tp.persistence`` once the rule has a good id, else ``station_limits[2]``."""
    if len(path) < 2 or path[0] not in _LISTS:
        return None
    rule_id = value_at(data, (*path[:2], "id"))
    valid = isinstance(rule_id, str) and re.fullmatch(_RULE_ID, rule_id)
    return dotted(path[2:], f"rule {rule_id}" if valid else dotted(path[:2]))


class PersistenceSpec(Spec):
    """``{consecutive: N}``: N results in a row (the target-class rule takes only this)."""

    consecutive: Annotated[int, within(1, 1000)] | None = None
    _choices: ClassVar[str] = "consecutive"

    @model_validator(mode="after")
    def _one_way(self) -> Self:
        window = getattr(self, "window_hours", None)
        if (self.consecutive is None) == (window is None):
            raise invalid(f"give {self._choices}")
        if self.consecutive is not None and getattr(self, "min_results", None) is not None:
            raise invalid("min_results goes with window_hours", at=("min_results",))
        return self

    def build(self) -> Persistence:
        return Persistence(consecutive=self.consecutive)


class WindowPersistenceSpec(PersistenceSpec):
    """Also ``{window_hours: H, min_results: K}``: the mean of the last H hours."""

    window_hours: Annotated[Number, bounded(0.0, _MAX_WINDOW_HOURS, positive=True)] | None = None
    min_results: Annotated[int, within(1, 10000)] | None = None
    _choices: ClassVar[str] = "consecutive or window_hours"

    def build(self) -> Persistence:
        if self.window_hours is None:
            return super().build()
        return Persistence(
            consecutive=None,
            window_seconds=self.window_hours * 3600.0,
            min_results=self.min_results or 1,
        )


_Severity = Annotated[Severity, choice(Severity)]


class TargetClassSpec(Spec):
    severity: _Severity = Severity.WARNING
    persistence: PersistenceSpec | None = None


class HydrologySpec(Spec):
    severity: _Severity = Severity.WARNING
    persistence: WindowPersistenceSpec | None = None

    def build(self) -> HydrologySetting:
        persistence = self.persistence.build() if self.persistence else Persistence()
        return HydrologySetting(severity=self.severity, persistence=persistence)


class LimitSpec(Spec):
    """A limit rule: the parts common to jurisdiction and station limits."""

    id: Annotated[str, matching(_RULE_ID)]
    parameter: Annotated[str, choice(parameters.PARAMETERS)]
    max: Number | None = None
    min: Number | None = None
    severity: _Severity = Severity.WARNING
    persistence: WindowPersistenceSpec | None = None
    water_body: Annotated[WaterBody, choice(WaterBody)] | None = None
    note: Text | None = None

    @model_validator(mode="after")
    def _one_bound(self) -> Self:
        if (self.max is None) == (self.min is None):
            raise invalid("give exactly one of max and min")
        return self

    def build(self, **scope: Any) -> LimitRule:
        return LimitRule(
            id=self.id,
            parameter=self.parameter,
            severity=self.severity,
            persistence=self.persistence.build() if self.persistence else Persistence(),
            max=self.max,
            min=self.min,
            water_body=self.water_body.value if self.water_body else None,
            **scope,
        )


class JurisdictionLimitSpec(LimitSpec):
    jurisdiction: Annotated[Jurisdiction, choice(Jurisdiction)]


class StationLimitSpec(LimitSpec):
    station: Text

    @model_validator(mode="after")
    def _in_registry(self, info: ValidationInfo) -> Self:
        registry: Registry | None = (info.context or {}).get("registry")
        if registry is None:
            return self
        if self.station not in registry:
            raise invalid(f"station {self.station!r} is not in the registry", at=("station",))
        if self.parameter not in registry.get(self.station).parameters:
            message = f"station {self.station} does not measure {self.parameter}"
            raise invalid(message, at=("station",))
        return self


def _hydrology_rule(key: str) -> str:
    if key not in HYDROLOGY_RULES:
        allowed = ", ".join(sorted(HYDROLOGY_RULES))
        raise invalid(f"unknown key {key!r} (allowed: {allowed})", hides=True)
    return key


_HydrologyRule = Annotated[str, AfterValidator(_hydrology_rule)]


class RulesFile(Spec):
    """rules.yaml (the schema is in its header)."""

    version: Version
    target_class: Switch[TargetClassSpec] = False
    jurisdiction_limits: tuple[JurisdictionLimitSpec, ...] = ()
    station_limits: tuple[StationLimitSpec, ...] = ()
    hydrology: dict[_HydrologyRule, Switch[HydrologySpec]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _unique_ids(self) -> Self:
        found = Problems()
        first: dict[str, Loc] = {}
        for key in _LISTS:
            for index, rule in enumerate(getattr(self, key)):
                where: dict[str, Any] = {"at": (key, index, "id"), "prefix": False}
                message = f"{key}[{index}]: duplicate rule id {rule.id!r}"
                if rule.id in HYDROLOGY_RULES or rule.id == TARGET_CLASS_RULE:
                    found.add(f"{message} (reserved)", **where)
                elif rule.id in first:
                    found.add(message, first=first[rule.id], **where)
                else:
                    first[rule.id] = (key, index, "id")
        found.raise_any()
        return self

    def build(self, path: str) -> RuleSet:
        target = None
        if self.target_class:
            persistence = self.target_class.persistence
            target = TargetClassRule(
                severity=self.target_class.severity,
                persistence=persistence.build() if persistence else Persistence(),
            )
        limits = [rule.build(jurisdiction=rule.jurisdiction) for rule in self.jurisdiction_limits]
        limits += [rule.build(station=rule.station) for rule in self.station_limits]
        hydrology = {key: spec.build() for key, spec in self.hydrology.items() if spec}
        return RuleSet(path=path, target_class=target, limits=tuple(limits), hydrology=hydrology)
