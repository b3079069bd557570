"""The boards' schema table says exactly what the store writes, and the Flux builder refuses
anything else: a board query naming a field the store does not write fails here."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from alerts.records import decode_alerts
from boards.flux import Flux, Var
from boards.schema import AGG_TAG, MEASUREMENTS, SchemaError
from stations.formats.assessed import AssessedReport
from stations.formats.records import decode
from stations.registry import load_registry
from stations.rules.events import RuleEvent
from streams.deadletter import DeadLetter
from streams.store.points import alert_points, record_points, rejected_point
from streams.testing.pipeline import expected_outcome, published_reports

MESSAGES = Path(__file__).parents[2] / "data" / "messages"


def written() -> dict[str, tuple[set[str], set[str]]]:
    """Tag keys and field keys per measurement of the points the store makes from the test
    documents (all message examples and the published April 2021 results)."""
    points = [
        p for doc in expected_outcome(published_reports())["docs"] for p in record_points(doc)
    ]
    for path in sorted(MESSAGES.glob("assessed-*.json")):
        points += record_points(decode(path.read_bytes(), AssessedReport))
    for path in sorted(MESSAGES.glob("event-*.json")):
        points += record_points(decode(path.read_bytes(), RuleEvent))
    for path in sorted((MESSAGES / "alerts").glob("*.json")):
        if path.name.startswith(("changes-", "delivery-")):
            points += alert_points(decode_alerts(path.read_bytes()))
    registry = load_registry()
    for path in sorted(MESSAGES.glob("deadletter*.json")):
        points.append(rejected_point(DeadLetter.from_json(path.read_bytes()), registry))
    out: dict[str, tuple[set[str], set[str]]] = defaultdict(lambda: (set(), set()))
    for point in points:
        tags, fields = out[point._name]
        tags.update(point._tags)
        fields.update(point._fields)
    return out


def test_the_schema_table_is_what_the_store_writes() -> None:
    found = written()
    assert set(found) == set(MEASUREMENTS)
    for name, (tags, fields) in found.items():
        assert MEASUREMENTS[name].tags - {AGG_TAG} == tags, name
        assert MEASUREMENTS[name].fields == fields, name


@pytest.mark.parametrize(
    ("measurement", "fields", "tags", "wrong"),
    [
        ("water_quality", ["valeu"], {}, "no field 'valeu'"),
        ("assessment", ["value"], {}, "no field 'value'"),
        ("water_quality", ["value"], {"rule": "x"}, "no tag 'rule'"),
        ("dead_letters", ["reason"], {}, "no measurement 'dead_letters'"),
        ("water_quality", [], {}, "at least one field"),
    ],
)
def test_the_builder_refuses_what_the_store_does_not_write(
    measurement: str, fields: list[str], tags: dict[str, str], wrong: str
) -> None:
    with pytest.raises(SchemaError, match=wrong):
        Flux().select(measurement, fields, **tags)


def test_a_filter_on_a_column_not_selected_is_refused() -> None:
    query = Flux().select("assessment", ["class"]).pivot_fields()
    with pytest.raises(SchemaError, match="target_met"):
        query.where_value("r.target_met == true", "target_met")


def test_a_query_renders_with_variables_as_regex_and_sets_as_contains() -> None:
    text = (
        Flux()
        .select(["water_quality", "hydrology"], ["value", "qc"], station=Var("station"))
        .where("parameter", ["tp", "tn"])
        .pivot_fields()
        .render()
    )
    assert text.splitlines() == [
        "from(bucket: v.defaultBucket)",
        "  |> range(start: v.timeRangeStart, stop: v.timeRangeStop)",
        '  |> filter(fn: (r) => (r._measurement == "water_quality" or '
        'r._measurement == "hydrology") and (r._field == "value" or r._field == "qc"))',
        "  |> filter(fn: (r) => r.station =~ /^${station:regex}$/)",
        '  |> filter(fn: (r) => contains(value: r.parameter, set: ["tn", "tp"]))',
        '  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")',
    ]
