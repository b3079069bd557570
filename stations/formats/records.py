"""The base of the topics' typed records (msgspec Structs): frozen, validating, JSON on the wire.

Every message on a topic is a :class:`Record`, decoded once where it is read with :func:`decode`
and written with :func:`encode`. A document that is not JSON or breaks its record raises
:class:`~stations.errors.MessageError` naming the field (``values.tp.value``), which the agents
turn into a dead letter. msgspec was chosen by measurement (``python -m bench.record_decode``,
docs/performance.md): it decodes and validates an assessed report in a few microseconds.

Times are ISO 8601 with an offset (:data:`AwareDatetime`, a naive time is refused). msgspec writes
a UTC time as ``Z`` where ``json`` wrote ``+00:00``: the same instant, read by
``datetime.fromisoformat`` alike.
"""

from __future__ import annotations

import functools
import re
import types
import typing
from datetime import datetime
from typing import Annotated, Any, TypeVar

import msgspec

from stations.errors import MessageError

#: A time with an offset; a naive time fails validation.
AwareDatetime = Annotated[datetime, msgspec.Meta(tz=True)]
#: An HJ 212 value flag: one letter (N normal, M maintenance, ...).
Hj212Flag = Annotated[str, msgspec.Meta(min_length=1, max_length=1)]
#: A string that may not be empty (ids, names).
Name = Annotated[str, msgspec.Meta(min_length=1)]


class Record(msgspec.Struct, frozen=True, kw_only=True):
    """A message of a topic: immutable, validated when decoded, encoded as one JSON object."""


R = TypeVar("R", bound=msgspec.Struct)

_ENCODER = msgspec.json.Encoder()
_SORTED_ENCODER = msgspec.json.Encoder(order="sorted")


@functools.cache
def _decoder(kind: type[Any]) -> msgspec.json.Decoder[Any]:
    return msgspec.json.Decoder(kind)


def encode(record: msgspec.Struct, *, sorted_keys: bool = False) -> bytes:
    """Compact UTF-8 JSON (Chinese kept as is); ``sorted_keys`` orders every object's keys."""
    return (_SORTED_ENCODER if sorted_keys else _ENCODER).encode(record)


def decode(raw: bytes | str, kind: type[R]) -> R:
    """The record of type ``kind`` in ``raw``; MessageError says what is wrong and where."""
    try:
        return typing.cast(R, _decoder(kind).decode(raw))
    except msgspec.ValidationError as exc:  # a subclass of DecodeError: first
        raise _validation_error(raw, kind, exc) from exc
    except msgspec.DecodeError as exc:
        raise MessageError(f"not UTF-8 JSON: {exc}", undecodable=True) from exc


_AT = re.compile(r"^(?P<text>.*) - at `\$(?P<path>[^`]*)`$", re.DOTALL)


def _validation_error(
    raw: bytes | str, kind: type[Any], exc: msgspec.ValidationError
) -> MessageError:
    match = _AT.match(str(exc))
    # no path: raised by a record's own check (__post_init__), about the whole document
    text, path = (str(exc), "") if match is None else (match["text"], match["path"])
    if not path:  # the document itself: not a JSON object, or a field missing
        return MessageError(text, undecodable=text.startswith("Expected `object`"))
    if "[...]" in path:  # msgspec does not name mapping keys: find the entry that fails
        path = _name_keys(raw, kind, path)
    return MessageError(f"field '{path.lstrip('.')}': {text}")


_SEGMENT = re.compile(r"\.([^.\[]+)|\[(\.\.\.|\d+)\]")


def _name_keys(raw: bytes | str, kind: type[Any], path: str) -> str:
    """``path`` with each ``[...]`` replaced by the key of the first entry that fails to convert
    (only on the error path, so the cost of decoding twice does not matter)."""
    try:
        node: Any = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return path
    out, tp = "", kind
    for match in _SEGMENT.finditer(path):
        tp = _unwrap(tp)
        name, index = match[1], match[2]
        if name is not None:
            fields = (
                {f.encode_name: f for f in msgspec.structs.fields(tp)} if _is_struct(tp) else {}
            )
            if name not in fields or not isinstance(node, dict):
                return path
            node, tp, out = node.get(name), fields[name].type, f"{out}.{name}"
        elif index == "...":
            if not isinstance(node, dict):
                return path
            value_type = typing.get_args(tp)[1] if typing.get_origin(tp) is dict else Any
            key = next((k for k, v in node.items() if not _converts(v, value_type)), None)
            if key is None:
                return path
            node, tp, out = node[key], value_type, f"{out}.{key}"
        else:
            if not isinstance(node, list):
                return path
            args = typing.get_args(tp)
            node, tp, out = node[int(index)], args[0] if args else Any, f"{out}[{index}]"
    return out


def _unwrap(tp: Any) -> Any:
    """The type under Annotated and Optional."""
    if typing.get_origin(tp) is Annotated:
        tp = typing.get_args(tp)[0]
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return args[0] if len(args) == 1 else tp
    return tp


def _is_struct(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, msgspec.Struct)


def _converts(value: Any, tp: Any) -> bool:
    try:
        msgspec.convert(value, tp)
    except msgspec.ValidationError:
        return False
    return True
