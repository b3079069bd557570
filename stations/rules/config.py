"""Breach rules as data: ``stations/data/rules.yaml`` loaded into a
``stations.rules.engine.RuleSet``.

Unknown keys, bad values, duplicate rule ids, unknown parameters, jurisdictions or stations all
fail loudly: one :class:`~stations.errors.RuleConfigError` lists every problem with file and line.
"""

from __future__ import annotations

from pathlib import Path

from yaml.nodes import Node

from stations import DATA_DIR, parameters
from stations.errors import RuleConfigError
from stations.jurisdictions import Jurisdiction
from stations.registry import Registry
from stations.rules.engine import (
    HYDROLOGY_RULES,
    HydrologySetting,
    LimitRule,
    Persistence,
    RuleSet,
    TargetClassRule,
)
from stations.rules.events import Severity
from stations.standard.gb3838 import WaterBody
from stations.yamlsource import YamlSource, is_false

#: The rules shipped in the package.
DEFAULT_RULES = DATA_DIR / "rules.yaml"

_RULE_ID = r"[a-z0-9][a-z0-9-]{0,62}"
_MAX_WINDOW_HOURS = 24 * 31


def load_rules(
    path: str | Path | None = None, *, registry: Registry | None = None, text: str | None = None
) -> RuleSet:
    """Load and validate the rules (default: the shipped file).

    With a registry, station limits must name stations in it that measure the parameter.
    """
    source = YamlSource(path or DEFAULT_RULES, text)
    rules = _Reader(source, registry).read()
    source.raise_if_problems(RuleConfigError)
    assert rules is not None
    return rules


class _Reader:
    def __init__(self, source: YamlSource, registry: Registry | None) -> None:
        self.src = source
        self.registry = registry
        self.ids: dict[str, int | None] = {}

    def read(self) -> RuleSet | None:
        if self.src.root is None:
            return None
        top = self.src.mapping(
            self.src.root,
            "rules",
            required=("version",),
            optional=("target_class", "jurisdiction_limits", "station_limits", "hydrology"),
        )
        if top is None:
            return None
        if "version" in top:
            self.src.integer(top["version"], "version", low=1, high=1)
        target = self._target(top["target_class"]) if "target_class" in top else None
        limits: list[LimitRule] = []
        for key, scope in (("jurisdiction_limits", "jurisdiction"), ("station_limits", "station")):
            for index, node in enumerate(self._list(top, key)):
                rule = self._limit(node, f"{key}[{index}]", scope)
                if rule is not None:
                    limits.append(rule)
        hydrology = self._hydrology(top["hydrology"]) if "hydrology" in top else {}
        return RuleSet(
            path=self.src.path, target_class=target, limits=tuple(limits), hydrology=hydrology
        )

    def _list(self, top: dict[str, Node], key: str) -> list[Node]:
        return (self.src.sequence(top[key], key) or []) if key in top else []

    def _target(self, node: Node) -> TargetClassRule | None:
        if is_false(node):
            return None
        f = self.src.mapping(node, "target_class", optional=("severity", "persistence"))
        if f is None:
            return None
        severity = self._severity(f, "target_class")
        persistence = self._persistence(f, "target_class", allow_window=False)
        if severity is None or persistence is None:
            return None
        return TargetClassRule(severity=severity, persistence=persistence)

    def _limit(self, node: Node, where: str, scope: str) -> LimitRule | None:
        required = ("id", "parameter", scope)
        optional = ("max", "min", "severity", "persistence", "water_body", "note")
        f = self.src.mapping(node, where, required=required, optional=optional)
        if f is None or any(key not in f for key in required):
            return None
        rule_id = self._rule_id(f["id"], where)
        where = f"rule {rule_id}" if rule_id else where
        parameter = self.src.string(
            f["parameter"], f"{where}.parameter", choices=parameters.PARAMETERS
        )
        jurisdiction = station = None
        if scope == "jurisdiction":
            value = self.src.string(f[scope], f"{where}.jurisdiction", choices=list(Jurisdiction))
            jurisdiction = Jurisdiction(value) if value else None
        else:
            station = self._station(f[scope], where, parameter)
        water_body = None
        if "water_body" in f:
            water_body = self.src.string(
                f["water_body"], f"{where}.water_body", choices=[w.value for w in WaterBody]
            )
        bounds = {
            key: self.src.number(f[key], f"{where}.{key}") for key in ("max", "min") if key in f
        }
        if len(bounds) != 1:
            self.src.problem(node, f"{where}: give exactly one of max and min")
        if "note" in f:
            self.src.string(f["note"], f"{where}.note")
        severity = self._severity(f, where)
        persistence = self._persistence(f, where, allow_window=True)
        if (
            rule_id is None
            or parameter is None
            or (jurisdiction is None and station is None)
            or len(bounds) != 1
            or None in bounds.values()
            or severity is None
            or persistence is None
            or ("water_body" in f and water_body is None)
        ):
            return None
        return LimitRule(
            id=rule_id,
            parameter=parameter,
            severity=severity,
            persistence=persistence,
            max=bounds.get("max"),
            min=bounds.get("min"),
            jurisdiction=jurisdiction,
            water_body=water_body,
            station=station,
        )

    def _rule_id(self, node: Node, where: str) -> str | None:
        rule_id = self.src.string(node, f"{where}.id", pattern=_RULE_ID)
        if rule_id is None:
            return None
        if rule_id in self.ids or rule_id in HYDROLOGY_RULES or rule_id == "target-class":
            first = self.ids.get(rule_id)
            where_first = f" (first at line {first})" if first else " (reserved)"
            self.src.problem(node, f"{where}: duplicate rule id {rule_id!r}{where_first}")
            return None
        self.ids[rule_id] = int(node.start_mark.line) + 1
        return rule_id

    def _station(self, node: Node, where: str, parameter: str | None) -> str | None:
        station_id = self.src.string(node, f"{where}.station")
        if station_id is None or self.registry is None:
            return station_id
        if station_id not in self.registry:
            self.src.problem(node, f"{where}: station {station_id!r} is not in the registry")
            return None
        if parameter is not None and parameter not in self.registry.get(station_id).parameters:
            self.src.problem(node, f"{where}: station {station_id} does not measure {parameter}")
            return None
        return station_id

    def _severity(self, f: dict[str, Node], where: str) -> Severity | None:
        if "severity" not in f:
            return Severity.WARNING
        value = self.src.string(
            f["severity"], f"{where}.severity", choices=[s.value for s in Severity]
        )
        return Severity(value) if value else None

    def _persistence(
        self, f: dict[str, Node], where: str, *, allow_window: bool
    ) -> Persistence | None:
        if "persistence" not in f:
            return Persistence()
        here = f"{where}.persistence"
        optional = (
            ("consecutive", "window_hours", "min_results") if allow_window else ("consecutive",)
        )
        known_problems = len(self.src.problems)
        p = self.src.mapping(f["persistence"], here, optional=optional)
        if p is None or len(self.src.problems) > known_problems:
            return None
        if ("consecutive" in p) == ("window_hours" in p):
            choice = "consecutive or window_hours" if allow_window else "consecutive"
            self.src.problem(f["persistence"], f"{here}: give {choice}")
            return None
        if "consecutive" in p:
            if "min_results" in p:
                self.src.problem(p["min_results"], f"{here}: min_results goes with window_hours")
                return None
            count = self.src.integer(p["consecutive"], f"{here}.consecutive", low=1, high=1000)
            return None if count is None else Persistence(consecutive=count)
        hours = self.src.number(
            p["window_hours"],
            f"{here}.window_hours",
            low=0.0,
            high=_MAX_WINDOW_HOURS,
            positive=True,
        )
        minimum: int | None = 1
        if "min_results" in p:
            minimum = self.src.integer(p["min_results"], f"{here}.min_results", low=1, high=10000)
        if hours is None or minimum is None:
            return None
        return Persistence(consecutive=None, window_seconds=hours * 3600.0, min_results=minimum)

    def _hydrology(self, node: Node) -> dict[str, HydrologySetting]:
        f = self.src.mapping(node, "hydrology", optional=list(HYDROLOGY_RULES))
        result: dict[str, HydrologySetting] = {}
        for rule_id, rule_node in (f or {}).items():
            where = f"hydrology.{rule_id}"
            if is_false(rule_node):
                continue
            g = self.src.mapping(rule_node, where, optional=("severity", "persistence"))
            if g is None:
                continue
            severity = self._severity(g, where)
            persistence = self._persistence(g, where, allow_window=True)
            if severity is not None and persistence is not None:
                result[rule_id] = HydrologySetting(severity=severity, persistence=persistence)
        return result
