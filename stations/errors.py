"""The exceptions of the stations package (the tree is drawn in ``stations/__init__.py``)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


class StationsError(Exception):
    """Root of every error raised by the stations package."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a configuration file: where and what."""

    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        if self.line is None:
            return f"{self.path}: {self.message}"
        return f"{self.path}:{self.line}: {self.message}"


class ConfigError(StationsError):
    """A YAML file is wrong; ``problems`` lists every problem found, each with file and line."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


class RegistryError(ConfigError):
    """The station registry (stations.yaml) is invalid."""


class QCConfigError(ConfigError):
    """The quality-control limits (qc.yaml) are invalid."""


class RuleConfigError(ConfigError):
    """The breach rules (rules.yaml) are invalid."""


class SharingError(ConfigError):
    """The data-sharing list (sharing.yaml) is invalid, or has no list for the year asked."""


class MessageError(StationsError):
    """A message does not decode into its record (:mod:`stations.formats.records`): it is not a
    JSON object (``undecodable``) or a field breaks the record; the text names the field."""

    def __init__(self, message: str, *, undecodable: bool = False) -> None:
        super().__init__(message)
        self.undecodable = undecodable


class UnitError(StationsError):
    """A unit is not known for a parameter, or a parameter key is not known."""


class ClassificationError(StationsError):
    """A value or water body cannot be classified under GB 3838-2002."""


class CnemcFormatError(StationsError):
    """A CSV export of the national publishing system is malformed (file and line in the text)."""


class UnknownStationError(StationsError):
    """A station id, name or MN is not in the registry."""


class SimulationError(StationsError):
    """A simulation cannot be set up: a bad fault spec, a registry with nothing to simulate."""
