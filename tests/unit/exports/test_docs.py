"""docs/exports.md documents every table and column key the export writes."""

from __future__ import annotations

from pathlib import Path

from exports.tables import build
from tests.unit.exports.test_tables import REGISTRY, data

DOC = Path(__file__).parents[3] / "docs" / "exports.md"


def test_every_table_and_column_key_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    export, _ = build(data(), REGISTRY)
    for table in export.tables:
        heading = f"### `{table.key}`: {table.zh} ({table.en})"
        assert heading in text, heading
        section = text.split(heading, 1)[1].split("###", 1)[0]
        for column in table.columns:
            assert f"| `{column.key}` | {column.zh} | {column.en} |" in section, column.key
