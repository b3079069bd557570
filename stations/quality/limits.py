"""QC limits as data: ``stations/data/qc.yaml`` loaded into frozen dataclasses.

Limits are given per parameter, overridden per jurisdiction, then per station; each layer gives,
per check, either keyword arguments of the check function (only the keys it changes) or ``false``
to switch the check off. Keys and values are validated against the check functions' signatures at
load time (unknown check, unknown key, wrong type, missing required argument, or arguments the
check refuses): every problem is reported with file and line in one
:class:`~stations.errors.QCConfigError`.

``gross_range_test`` needs no limits in the file: ``fail_span`` defaults to the station's sensor
range, ``suspect_span`` to the parameter's plausible range.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, get_type_hints

import numpy as np
import numpy.typing as npt
from yaml.nodes import Node

from stations import DATA_DIR, parameters
from stations.errors import QCConfigError
from stations.jurisdictions import Jurisdiction
from stations.quality.checks import (
    FlagArray,
    flat_line_test,
    gross_range_test,
    rate_of_change_test,
    spike_test,
)
from stations.quality.newest import NEWEST, Newest
from stations.registry import Registry, Station
from stations.yamlsource import YamlSource, is_false

#: The QC limits shipped in the package.
DEFAULT_QC_LIMITS = DATA_DIR / "qc.yaml"

CheckValue = float | tuple[float, float]

#: The checks a limits file may configure, by name.
CHECKS: Mapping[str, Callable[..., FlagArray]] = MappingProxyType(
    {
        "gross_range_test": gross_range_test,
        "spike_test": spike_test,
        "rate_of_change_test": rate_of_change_test,
        "flat_line_test": flat_line_test,
    }
)

_DATA_ARGUMENTS = ("inp", "tinp")
# Arguments filled in from the registry and the parameter catalogue when the file does not say.
_FILLED_IN = {"gross_range_test": ("fail_span",)}


@dataclass(frozen=True)
class Argument:
    """One keyword argument of a check: its name, expected kind and whether it is required."""

    name: str
    span: bool
    required: bool


def check_arguments(name: str) -> Mapping[str, Argument]:
    """The configurable keyword arguments of a check, read from its signature."""
    function = CHECKS[name]
    hints = get_type_hints(function)
    result: dict[str, Argument] = {}
    for parameter in inspect.signature(function).parameters.values():
        if parameter.name in _DATA_ARGUMENTS:
            continue
        annotation = str(hints[parameter.name])
        result[parameter.name] = Argument(
            name=parameter.name,
            span="tuple" in annotation,
            required=parameter.default is inspect.Parameter.empty,
        )
    return result


#: Whether each check is time-aware (takes the timestamps array), read once from its signature.
_TAKES_TIMES: Mapping[str, bool] = {
    name: "tinp" in inspect.signature(function).parameters for name, function in CHECKS.items()
}


@dataclass(frozen=True)
class CheckConfig:
    """A check with its complete keyword arguments, ready to run."""

    name: str
    kwargs: Mapping[str, CheckValue]

    def run(self, values: npt.ArrayLike, times: npt.ArrayLike) -> FlagArray:
        """Run the check over one series (timestamps ignored by checks that take none)."""
        function = CHECKS[self.name]
        if _TAKES_TIMES[self.name]:
            return function(values, times, **self.kwargs)
        return function(values, **self.kwargs)

    def run_newest(self, values: Sequence[float], seconds: Sequence[float]) -> Newest:
        """The flag of the newest value (and for the spike test the one before), equal to
        :meth:`run`'s last positions, without arrays (see :mod:`stations.quality.newest`)."""
        return NEWEST[self.name](values, seconds, **self.kwargs)

    def describe(self) -> str:
        """``spike_test(suspect_threshold=2, fail_threshold=4)``."""
        args = ", ".join(f"{key}={_format(value)}" for key, value in self.kwargs.items())
        return f"{self.name}({args})"


# parameter -> check -> arguments given (None = switched off)
Layer = Mapping[str, Mapping[str, Mapping[str, CheckValue] | None]]


@dataclass(frozen=True)
class QCLimits:
    """The QC limits of the whole network: defaults per parameter, then overrides."""

    path: str
    defaults: Layer
    jurisdictions: Mapping[str, Layer] = field(default_factory=dict)
    stations: Mapping[str, Layer] = field(default_factory=dict)

    def checks_for(self, station: Station, parameter: str) -> tuple[CheckConfig, ...]:
        """The checks to run on ``parameter`` at ``station``, with merged arguments."""
        merged: dict[str, dict[str, CheckValue] | None] = {"gross_range_test": {}}
        for layer in (
            self.defaults,
            self.jurisdictions.get(station.jurisdiction, {}),
            self.stations.get(station.id, {}),
        ):
            for check, arguments in layer.get(parameter, {}).items():
                if arguments is None:
                    merged[check] = None
                else:
                    merged[check] = {**(merged.get(check) or {}), **arguments}
        result: list[CheckConfig] = []
        for check, arguments in merged.items():
            if arguments is None:
                continue
            if check == "gross_range_test":
                arguments = _gross_range_defaults(station, parameter, arguments)
            result.append(CheckConfig(check, MappingProxyType(arguments)))
        return tuple(result)


def _gross_range_defaults(
    station: Station, parameter: str, given: Mapping[str, CheckValue]
) -> dict[str, CheckValue]:
    plausible = parameters.get(parameter).plausible
    sensor = station.sensor(parameter)
    fail = given.get("fail_span") or (sensor.canonical_range if sensor else plausible)
    assert isinstance(fail, tuple)
    suspect = given.get("suspect_span", plausible)
    assert isinstance(suspect, tuple)
    low, high = max(suspect[0], fail[0]), min(suspect[1], fail[1])
    result: dict[str, CheckValue] = {"fail_span": fail}
    if low < high:
        result["suspect_span"] = (low, high)
    return result


def load_qc_limits(
    path: str | Path | None = None, *, registry: Registry | None = None, text: str | None = None
) -> QCLimits:
    """Load and validate QC limits (default: the shipped file).

    With a registry, station ids must exist in it and station overrides are checked merged with
    their jurisdiction's.
    """
    source = YamlSource(path or DEFAULT_QC_LIMITS, text)
    limits = _Reader(source, registry).read()
    source.raise_if_problems(QCConfigError)
    assert limits is not None
    return limits


class _Reader:
    def __init__(self, source: YamlSource, registry: Registry | None) -> None:
        self.src = source
        self.registry = registry

    def read(self) -> QCLimits | None:
        if self.src.root is None:
            return None
        top = self.src.mapping(
            self.src.root,
            "qc limits",
            required=("version", "parameters"),
            optional=("jurisdictions", "stations"),
        )
        if top is None:
            return None
        if "version" in top:
            self.src.integer(top["version"], "version", low=1, high=1)
        defaults = self._layer(top["parameters"], "parameters", {}) if "parameters" in top else {}
        jurisdictions: dict[str, Layer] = {}
        for name, node in self._named(top, "jurisdictions").items():
            if name not in list(Jurisdiction):
                self.src.problem(node, f"jurisdictions: unknown jurisdiction {name!r}")
                continue
            jurisdictions[name] = self._layer(node, f"jurisdictions.{name}", defaults)
        stations: dict[str, Layer] = {}
        for sid, node in self._named(top, "stations").items():
            below: Layer = defaults
            if self.registry is not None:
                if sid not in self.registry:
                    self.src.problem(node, f"stations: {sid!r} is not in the registry")
                    continue
                below = _stack(defaults, jurisdictions.get(self.registry.get(sid).jurisdiction, {}))
            stations[sid] = self._layer(node, f"stations.{sid}", below)
        return QCLimits(
            path=self.src.path,
            defaults=defaults,
            jurisdictions=MappingProxyType(jurisdictions),
            stations=MappingProxyType(stations),
        )

    def _named(self, top: dict[str, Node], key: str) -> dict[str, Node]:
        if key not in top:
            return {}
        return self.src.mapping(top[key], key, optional=None) or {}

    def _layer(self, node: Node, where: str, below: Layer) -> Layer:
        entries = self.src.mapping(node, where, optional=None) or {}
        layer: dict[str, dict[str, dict[str, CheckValue] | None]] = {}
        for parameter, checks_node in entries.items():
            here = f"{where}.{parameter}"
            if parameter not in parameters.PARAMETERS:
                self.src.problem(checks_node, f"{here}: unknown parameter {parameter!r}")
                continue
            checks = self.src.mapping(checks_node, here, optional=list(CHECKS))
            layer[parameter] = {}
            for check, args_node in (checks or {}).items():
                inherited = below.get(parameter, {}).get(check)
                layer[parameter][check] = self._arguments(
                    check, args_node, f"{here}.{check}", inherited
                )
        return layer

    def _arguments(
        self, check: str, node: Node, where: str, inherited: Mapping[str, CheckValue] | None
    ) -> dict[str, CheckValue] | None:
        if is_false(node):
            return None
        allowed = check_arguments(check)
        known_problems = len(self.src.problems)
        given = self.src.mapping(node, where, optional=list(allowed))
        if given is None:
            return None
        arguments: dict[str, CheckValue] = {}
        for key, value_node in given.items():
            value: CheckValue | None
            if allowed[key].span:
                value = self.src.span(value_node, f"{where}.{key}")
            else:
                value = self.src.number(value_node, f"{where}.{key}", low=0.0)
            if value is not None:
                arguments[key] = value
        if len(self.src.problems) == known_problems:
            self._try(check, {**(inherited or {}), **arguments}, node, where)
        return arguments

    def _try(self, check: str, arguments: Mapping[str, Any], node: Node, where: str) -> None:
        """Missing required arguments, and values the check itself refuses, are problems."""
        missing = [
            name
            for name, argument in check_arguments(check).items()
            if argument.required and name not in arguments and name not in _FILLED_IN.get(check, ())
        ]
        if missing:
            self.src.problem(node, f"{where}: missing {', '.join(missing)}")
            return
        trial = dict(arguments)
        if check == "gross_range_test":
            trial.setdefault("fail_span", (-np.inf, np.inf))
        try:
            CheckConfig(check, trial).run(np.zeros(3), np.arange(3.0))
        except ValueError as exc:
            self.src.problem(node, f"{where}: {exc}")


def _stack(lower: Layer, upper: Layer) -> Layer:
    result: dict[str, dict[str, Mapping[str, CheckValue] | None]] = {
        parameter: dict(checks) for parameter, checks in lower.items()
    }
    for parameter, checks in upper.items():
        for check, arguments in checks.items():
            base = result.setdefault(parameter, {}).get(check)
            result[parameter][check] = None if arguments is None else {**(base or {}), **arguments}
    return result


def _format(value: CheckValue) -> str:
    if isinstance(value, tuple):
        return f"[{value[0]:g}, {value[1]:g}]"
    return f"{value:g}"
