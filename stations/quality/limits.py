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
from typing import TYPE_CHECKING, Annotated, Any, cast, get_type_hints

import numpy as np
import numpy.typing as npt
from pydantic import AfterValidator, Field, ValidationInfo, create_model, field_validator

from stations import DATA_DIR, parameters
from stations.errors import QCConfigError
from stations.quality.checks import (
    FlagArray,
    flat_line_test,
    gross_range_test,
    rate_of_change_test,
    spike_test,
)
from stations.quality.newest import NEWEST, Newest
from stations.registry import JurisdictionKey, ParameterKey, Registry, Station
from stations.schema import (
    Number,
    Problems,
    Span,
    Spec,
    Switch,
    Version,
    bounded,
    invalid,
)
from stations.yamlsource import Loc, YamlSource

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
    source = YamlSource(path or DEFAULT_QC_LIMITS, text, name="qc limits")
    spec = source.load(QCFile, context={"registry": registry})
    source.raise_if_problems(QCConfigError)
    assert spec is not None
    return QCLimits(
        path=source.path,
        defaults=_layer(spec.parameters),
        jurisdictions=MappingProxyType({k: _layer(v) for k, v in spec.jurisdictions.items()}),
        stations=MappingProxyType({k: _layer(v) for k, v in spec.stations.items()}),
    )


# --- the file's model: the arguments of each check come from its signature ----------------


_Threshold = Annotated[Number, bounded(low=0.0)]


def _checks_spec() -> type[Spec]:
    """Per parameter: each check's arguments (only those changed), or ``false`` (switched off).

    The arguments a check takes, and whether each is a span or a number, come from its signature.
    """
    checks: dict[str, Any] = {}
    for check in CHECKS:
        arguments: dict[str, Any] = {
            name: ((Span if argument.span else _Threshold) | None, None)
            for name, argument in check_arguments(check).items()
        }
        spec = create_model(f"{check}_arguments", __base__=Spec, **arguments)
        checks[check] = (cast(Any, Switch)[spec] | None, None)
    return create_model("ChecksSpec", __base__=Spec, **checks)


ChecksSpec = _checks_spec()


def _known_station(key: str, info: ValidationInfo) -> str:
    registry: Registry | None = (info.context or {}).get("registry")
    if registry is not None and key not in registry:
        raise invalid(f"{key!r} is not in the registry", hides=True)
    return key


if TYPE_CHECKING:  # a model made by create_model is no type to mypy
    LayerSpec = dict[str, Spec]
else:
    LayerSpec = dict[ParameterKey, ChecksSpec]


class QCFile(Spec):
    """qc.yaml (the schema is in its header). Each layer is tried merged with those below it."""

    version: Version
    parameters: LayerSpec
    jurisdictions: dict[JurisdictionKey, LayerSpec] = Field(default_factory=dict)
    stations: dict[Annotated[str, AfterValidator(_known_station)], LayerSpec] = Field(
        default_factory=dict
    )

    @field_validator("parameters")
    @classmethod
    def _defaults_run(cls, layer: LayerSpec) -> LayerSpec:
        found = Problems()
        _try_checks(found, (), _layer(layer), {})
        found.raise_any()
        return layer

    @field_validator("jurisdictions")
    @classmethod
    def _jurisdictions_run(
        cls, layers: dict[str, LayerSpec], info: ValidationInfo
    ) -> dict[str, LayerSpec]:
        if "parameters" in info.data:
            defaults = _layer(info.data["parameters"])
            found = Problems()
            for code, layer in layers.items():
                _try_checks(found, (code,), _layer(layer), defaults)
            found.raise_any()
        return layers

    @field_validator("stations")
    @classmethod
    def _stations_run(
        cls, layers: dict[str, LayerSpec], info: ValidationInfo
    ) -> dict[str, LayerSpec]:
        if "parameters" not in info.data or "jurisdictions" not in info.data:
            return layers
        registry: Registry | None = (info.context or {}).get("registry")
        defaults = _layer(info.data["parameters"])
        found = Problems()
        for sid, layer in layers.items():
            below = defaults
            if registry is not None:
                jurisdiction = info.data["jurisdictions"].get(registry.get(sid).jurisdiction, {})
                below = _stack(defaults, _layer(jurisdiction))
            _try_checks(found, (sid,), _layer(layer), below)
        found.raise_any()
        return layers


def _layer(spec: Mapping[str, Spec]) -> Layer:
    """A layer of the file's model as plain arguments (``None``: the check is switched off)."""
    return {
        parameter: {
            check: None if arguments is False else arguments
            for check, arguments in checks.model_dump(exclude_none=True).items()
        }
        for parameter, checks in spec.items()
    }


def _try_checks(found: Problems, loc: Loc, layer: Layer, below: Layer) -> None:
    """Missing required arguments, and values the check itself refuses, are problems."""
    for parameter, checks in layer.items():
        for check, given in checks.items():
            if given is None:
                continue
            inherited = below.get(parameter, {}).get(check) or {}
            arguments = {**inherited, **given}
            where = (*loc, parameter, check)
            missing = [
                name
                for name, argument in check_arguments(check).items()
                if argument.required
                and name not in arguments
                and name not in _FILLED_IN.get(check, ())
            ]
            if missing:
                found.add(f"missing {', '.join(missing)}", loc=where)
                continue
            trial = dict(arguments)
            if check == "gross_range_test":
                trial.setdefault("fail_span", (-np.inf, np.inf))
            try:
                CheckConfig(check, trial).run(np.zeros(3), np.arange(3.0))
            except ValueError as exc:
                found.add(str(exc), loc=where)


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
