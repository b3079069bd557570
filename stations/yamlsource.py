"""Reading a YAML configuration file into a model, every problem reported with file and line.

A :class:`YamlSource` composes a file into YAML nodes (``yaml.compose``), so every value keeps the
line it came from, and turns the nodes into plain data (mappings, tuples, scalars as PyYAML's safe
loader reads them). :meth:`YamlSource.load` validates that data against a model (see
:mod:`stations.schema`) and turns each validation error into a :class:`~stations.errors.Problem`
(``file:line: where: message``) by following the error's path through the node tree; loaders
raise one error with all problems at the end (:meth:`YamlSource.raise_if_problems`).

``where`` names a place for messages (``station JS-TH-001.hj212.mn``); by default a path is
written ``timing.escalate_minutes[1]``, the file's top level by its ``name``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from stations.errors import ConfigError, Problem
from stations.schema import PROBLEM, Loc, UnknownKey

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"

#: Names a place in the file's data for messages, or None for the default (dotted path).
Where = Callable[[Loc, Any], str | None]

_M = TypeVar("_M", bound=BaseModel)

# What a pydantic type error expected, in the words of the messages.
_EXPECTED = {
    "string_type": "a string",
    "int_type": "an integer",
    "float_type": "a finite number",
    "finite_number": "a finite number",
    "bool_type": "true or false",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "tuple_type": "a list",
}


def line_of(node: Node) -> int:
    """The 1-based line where a node starts."""
    return int(node.start_mark.line) + 1


def dotted(path: Loc, head: str = "") -> str:
    """``timing.escalate_minutes[1]``; appended to ``head`` when given."""
    text = head
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def value_at(data: Any, path: Loc) -> Any:
    """The value at a path of the file's data, or None."""
    for part in path:
        if isinstance(data, Mapping):
            if part not in data:
                return None
        elif not (isinstance(data, tuple) and isinstance(part, int) and 0 <= part < len(data)):
            return None
        data = data[part]
    return data


class _Unreadable:
    """A scalar with a tag the safe loader does not construct (``!custom x``)."""

    def __init__(self, node: ScalarNode) -> None:
        self.node = node


class YamlSource:
    """One YAML file: its node tree, its plain data, and the problems found in it so far."""

    def __init__(
        self,
        path: str | Path,
        text: str | None = None,
        *,
        name: str = "file",
        where: Where | None = None,
    ) -> None:
        self.path = str(path)
        self.name = name
        self.where = where
        self.problems: list[Problem] = []
        self.root: Node | None = None
        self.data: Any = None
        if text is None:
            try:
                text = Path(path).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                self.problems.append(Problem(self.path, None, f"cannot read the file: {exc}"))
                return
        loader = yaml.SafeLoader(text)
        try:
            self.root = loader.get_single_node()
            if self.root is None:
                self.problems.append(Problem(self.path, 1, "the file is empty"))
                return
            pending: list[tuple[Loc, Node, str]] = []
            self.data = _Data(loader, pending).value(self.root, ())
            for loc, node, message in pending:
                self.problems.append(Problem(self.path, line_of(node), self._at(loc, message)))
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = int(mark.line) + 1 if mark is not None else None
            self.problems.append(Problem(self.path, line, f"not valid YAML: {exc.problem}"))
        except yaml.YAMLError as exc:
            self.problems.append(Problem(self.path, None, f"not valid YAML: {exc}"))
        finally:
            loader.dispose()

    def load(self, model: type[_M], *, context: Mapping[str, Any] | None = None) -> _M | None:
        """The file's data as ``model``, or None after recording every problem found."""
        if self.root is None:
            return None
        try:
            return model.model_validate(self.data, context=context)
        except ValidationError as exc:
            self._record(exc.errors())
            return None

    def line_at(self, loc: Loc) -> int | None:
        """The line of the value at a place of the data."""
        return self._line(self._resolve(loc)[1])

    def raise_if_problems(self, error: type[ConfigError]) -> None:
        """Raise ``error`` with every problem recorded, sorted by line, if there is any."""
        if self.problems:
            ordered = sorted(self.problems, key=lambda p: (p.line or 0, p.message))
            raise error(ordered)

    # --- validation errors to problems ----------------------------------------------------

    def _record(self, errors: list[ErrorDetails]) -> None:
        """Every error as a problem, except those under a mapping key that is itself wrong."""
        hidden = [
            error["loc"][:-1]
            for error in errors
            if error["type"] == PROBLEM and error.get("ctx", {}).get("hides")
        ]
        for error in errors:
            loc = error["loc"]
            if any(
                loc[: len(entry)] == entry and loc[len(entry) :] != ("[key]",) for entry in hidden
            ):
                continue  # a wrong key's value is not looked at
            line, message = self._explain(error)
            self.problems.append(Problem(self.path, line, message))

    def _explain(self, error: ErrorDetails) -> tuple[int | None, str]:
        loc = tuple(error["loc"])
        kind = error["type"]
        if kind == PROBLEM:
            return self._problem(loc, error.get("ctx", {}))
        if kind == "missing":
            path, node, _ = self._resolve(loc[:-1])
            return self._line(node), self._at(path, f"missing required key {loc[-1]!r}")
        path, node, key = self._resolve(loc)
        if kind == "extra_forbidden" and isinstance(error["input"], UnknownKey):
            allowed = ", ".join(error["input"].allowed)
            message = f"unknown key {loc[-1]!r} (allowed: {allowed})"
            return self._line(key or node), self._at(path[:-1], message)
        if kind in _EXPECTED and node is not None:
            quotable = isinstance(node, ScalarNode) and node.tag != _NULL
            hint = " (quote it)" if kind == "string_type" and quotable else ""
            message = f"expected {_EXPECTED[kind]}, got {_kind(node)}{hint}"
            return self._line(node), self._at(path, message)
        return self._line(node), self._at(path, str(error["msg"]))

    def _problem(self, loc: Loc, ctx: dict[str, Any]) -> tuple[int | None, str]:
        base = loc[: len(loc) - len(ctx["loc"])]
        path, node, key = self._resolve(loc)
        if ctx["at"] is not None:
            _, node, key = self._resolve(base + tuple(ctx["at"]))
        if ctx["key_line"] and key is not None:
            node = key
        message = ctx["message"]
        if ctx["first"] is not None:
            message += f" (first at line {self.line_at(base + tuple(ctx['first']))})"
        return self._line(node), self._at(path, message) if ctx["prefix"] else message

    def _resolve(self, loc: Loc) -> tuple[Loc, Node | None, Node | None]:
        """Follow a path through the nodes: the path without union tags, the node, its key.

        ``[key]`` (a mapping key that is wrong) leads to the key node, named by its mapping.
        A part that leads nowhere is a tag of a union (``<on>``) and is passed over.
        """
        path: list[str | int] = []
        node, key = self.root, None
        for part in loc:
            if part == "[key]":
                node = key
                path.pop()
                continue
            child = _child(node, part)
            if child is not None:
                key, node = child
                path.append(part)
        return tuple(path), node, key

    def _at(self, path: Loc, message: str) -> str:
        where = (self.where(path, self.data) if self.where else None) or dotted(path)
        return f"{where or self.name}: {message}"

    @staticmethod
    def _line(node: Node | None) -> int | None:
        return line_of(node) if node is not None else None


def _child(node: Node | None, part: str | int) -> tuple[Node | None, Node] | None:
    if isinstance(node, MappingNode) and isinstance(part, str):
        for key_node, value_node in node.value:
            if _plain_key(key_node) and str(key_node.value) == part:
                return key_node, value_node
    if isinstance(node, SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        return None, node.value[part]
    return None


def _plain_key(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag in (_STR, _INT)


class _Data:
    """Turns nodes into plain data, noting keys that are not names or are given twice."""

    def __init__(self, loader: yaml.SafeLoader, pending: list[tuple[Loc, Node, str]]) -> None:
        self.loader = loader
        self.pending = pending
        self.open: set[int] = set()

    def value(self, node: Node, loc: Loc) -> Any:
        if id(node) in self.open:
            self.pending.append((loc, node, "an alias refers to itself"))
            return None
        if isinstance(node, ScalarNode):
            try:
                return self.loader.construct_object(node)
            except yaml.constructor.ConstructorError:
                return _Unreadable(node)
        self.open.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                return tuple(self.value(item, (*loc, n)) for n, item in enumerate(node.value))
            return self.mapping(node, loc)
        finally:
            self.open.discard(id(node))

    def mapping(self, node: Node, loc: Loc) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not _plain_key(key_node):
                self.pending.append((loc, key_node, "keys must be plain names"))
                continue
            key = str(key_node.value)
            if key in result:
                self.pending.append((loc, key_node, f"duplicate key {key!r}"))
                continue
            result[key] = self.value(value_node, (*loc, key))
        return result


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
