"""Faust agents: thin shells that read a topic, call the domain code and write the outcome."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


def dumps(doc: Mapping[str, Any]) -> bytes:
    """A document as the agents write it: compact UTF-8 JSON, Chinese kept as is."""
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
