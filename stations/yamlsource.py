"""Reading YAML configuration with line numbers, collecting every problem instead of the first.

A :class:`YamlSource` composes a file into YAML nodes (``yaml.compose``), so every value keeps the
line it came from. The typed readers (:meth:`YamlSource.mapping`, :meth:`YamlSource.string`, ...)
return ``None`` and record a :class:`~stations.errors.Problem` when a value is wrong; loaders keep
going and raise one error with all problems at the end (:meth:`YamlSource.raise_if_problems`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection
from pathlib import Path

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from stations.errors import ConfigError, Problem

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"

# YAML 1.1 scalars (0x1F, 017, 1_000, .inf) are read the way PyYAML's safe loader reads them.
_CONSTRUCTOR = yaml.SafeLoader("")


def line_of(node: Node) -> int:
    """The 1-based line where a node starts."""
    return int(node.start_mark.line) + 1


class YamlSource:
    """One YAML file as a node tree plus the problems found in it so far."""

    def __init__(self, path: str | Path, text: str | None = None) -> None:
        self.path = str(path)
        self.problems: list[Problem] = []
        self.root: Node | None = None
        if text is None:
            try:
                text = Path(path).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                self.problems.append(Problem(self.path, None, f"cannot read the file: {exc}"))
                return
        try:
            self.root = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = int(mark.line) + 1 if mark is not None else None
            self.problems.append(Problem(self.path, line, f"not valid YAML: {exc.problem}"))
        except yaml.YAMLError as exc:
            self.problems.append(Problem(self.path, None, f"not valid YAML: {exc}"))
        else:
            if self.root is None:
                self.problems.append(Problem(self.path, 1, "the file is empty"))

    def problem(self, node: Node | None, message: str) -> None:
        """Record a problem at a node's line (or the file when there is no node)."""
        line = line_of(node) if node is not None else None
        self.problems.append(Problem(self.path, line, message))

    def raise_if_problems(self, error: type[ConfigError]) -> None:
        """Raise ``error`` with every problem recorded, sorted by line, if there is any."""
        if self.problems:
            ordered = sorted(self.problems, key=lambda p: (p.line or 0, p.message))
            raise error(ordered)

    # --- structure -------------------------------------------------------------------------

    def mapping(
        self,
        node: Node,
        where: str,
        *,
        required: Collection[str] = (),
        optional: Collection[str] | None = (),
    ) -> dict[str, Node] | None:
        """A mapping with string keys; unknown, duplicate and missing keys are problems.

        ``optional=None`` accepts any key (the caller checks them, e.g. station ids).
        """
        if not isinstance(node, MappingNode):
            self.problem(node, f"{where}: expected a mapping, got {_kind(node)}")
            return None
        result: dict[str, Node] = {}
        for key_node, value_node in node.value:
            if not (isinstance(key_node, ScalarNode) and key_node.tag in (_STR, _INT)):
                self.problem(key_node, f"{where}: keys must be plain names")
                continue
            key = str(key_node.value)
            if key in result:
                self.problem(key_node, f"{where}: duplicate key {key!r}")
                continue
            if optional is not None and key not in required and key not in optional:
                allowed = ", ".join(sorted({*required, *optional}))
                self.problem(key_node, f"{where}: unknown key {key!r} (allowed: {allowed})")
                continue
            result[key] = value_node
        for key in required:
            if key not in result:
                self.problem(node, f"{where}: missing required key {key!r}")
        return result

    def sequence(self, node: Node, where: str) -> list[Node] | None:
        """A YAML list."""
        if not isinstance(node, SequenceNode):
            self.problem(node, f"{where}: expected a list, got {_kind(node)}")
            return None
        return list(node.value)

    # --- scalars ---------------------------------------------------------------------------

    def string(
        self,
        node: Node,
        where: str,
        *,
        pattern: str | None = None,
        choices: Collection[str] | None = None,
    ) -> str | None:
        """A non-empty string, optionally matching a regular expression or one of ``choices``."""
        if not (isinstance(node, ScalarNode) and node.tag == _STR):
            hint = " (quote it)" if isinstance(node, ScalarNode) else ""
            self.problem(node, f"{where}: expected a string, got {_kind(node)}{hint}")
            return None
        value = str(node.value)
        if not value.strip():
            self.problem(node, f"{where}: must not be empty")
            return None
        if choices is not None and value not in choices:
            self.problem(node, f"{where}: {value!r} is not one of {', '.join(sorted(choices))}")
            return None
        if pattern is not None and not re.fullmatch(pattern, value):
            self.problem(node, f"{where}: {value!r} does not match {pattern}")
            return None
        return value

    def integer(self, node: Node, where: str, *, low: int, high: int) -> int | None:
        """An integer within [low, high]."""
        if not (isinstance(node, ScalarNode) and node.tag == _INT):
            self.problem(node, f"{where}: expected an integer, got {_kind(node)}")
            return None
        value = int(_CONSTRUCTOR.construct_yaml_int(node))
        if not low <= value <= high:
            self.problem(node, f"{where}: {value} is outside {low}..{high}")
            return None
        return value

    def number(
        self,
        node: Node,
        where: str,
        *,
        low: float | None = None,
        high: float | None = None,
        positive: bool = False,
    ) -> float | None:
        """A finite number (integer or decimal), optionally bounded."""
        value = _number(node)
        if value is None:
            self.problem(node, f"{where}: expected a finite number, got {_kind(node)}")
            return None
        if positive and value <= 0:
            self.problem(node, f"{where}: must be greater than 0, got {value:g}")
            return None
        if (low is not None and value < low) or (high is not None and value > high):
            self.problem(node, f"{where}: {value:g} is outside [{low}, {high}]")
            return None
        return value

    def span(self, node: Node, where: str) -> tuple[float, float] | None:
        """A two-number list ``[low, high]`` with low < high."""
        items = self.sequence(node, where)
        if items is None:
            return None
        values = [_number(item) for item in items]
        if len(values) != 2 or values[0] is None or values[1] is None:
            self.problem(node, f"{where}: expected [low, high], two numbers")
            return None
        low, high = values[0], values[1]
        if not low < high:
            self.problem(node, f"{where}: low {low:g} must be below high {high:g}")
            return None
        return (low, high)

    def boolean(self, node: Node, where: str) -> bool | None:
        """true or false."""
        if not (isinstance(node, ScalarNode) and node.tag == _BOOL):
            self.problem(node, f"{where}: expected true or false, got {_kind(node)}")
            return None
        return str(node.value).lower() in ("true", "yes", "on", "y")

    def strings(
        self, node: Node, where: str, *, choices: Collection[str] | None = None
    ) -> tuple[str, ...] | None:
        """A list of strings (duplicates are problems)."""
        items = self.sequence(node, where)
        if items is None:
            return None
        result: list[str] = []
        for index, item in enumerate(items):
            value = self.string(item, f"{where}[{index}]", choices=choices)
            if value is None:
                continue
            if value in result:
                self.problem(item, f"{where}: {value!r} is listed twice")
                continue
            result.append(value)
        return tuple(result)


def is_null(node: Node) -> bool:
    """True for an explicit YAML null (``~``, ``null`` or nothing)."""
    return isinstance(node, ScalarNode) and node.tag == _NULL


def is_false(node: Node) -> bool:
    """True for an explicit YAML ``false`` (used to switch something off)."""
    return (
        isinstance(node, ScalarNode)
        and node.tag == _BOOL
        and str(node.value).lower() in ("false", "no", "off", "n")
    )


def _number(node: Node) -> float | None:
    if not isinstance(node, ScalarNode) or node.tag not in (_INT, _FLOAT):
        return None
    if node.tag == _INT:
        value = float(_CONSTRUCTOR.construct_yaml_int(node))
    else:
        value = float(_CONSTRUCTOR.construct_yaml_float(node))
    return value if math.isfinite(value) else None


def _kind(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    tag: str = node.tag
    names: dict[str, str] = {
        _STR: "a string",
        _INT: "an integer",
        _FLOAT: "a decimal number",
        _BOOL: "a boolean",
        _NULL: "nothing (null)",
    }
    return f"{names.get(tag, tag)} {node.value!r}" if tag != _NULL else names[_NULL]
