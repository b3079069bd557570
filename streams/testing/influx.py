"""Loading test data into InfluxDB as the store writes it (shared by the integration tests)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path
from typing import Any

from alerts.records import alerts_document
from stations.formats.assessed import AssessedReport
from stations.rules.events import RuleEvent
from streams.store.points import alert_points, line_protocol, record_points
from streams.testing.pipeline import expected_outcome, published_reports

#: The alert documents of the records' tests (changes and deliveries at one station).
ALERT_DOCS = Path(__file__).resolve().parents[2] / "tests" / "data" / "messages" / "alerts"


@cache
def published_outcome() -> tuple[AssessedReport | RuleEvent, ...]:
    """The assessed reports and rule events of the published April 2021 results."""
    messages: list[tuple[bytes | None, bytes]] = list(published_reports())
    return tuple(expected_outcome(messages)["docs"])


def published_assessed() -> list[AssessedReport]:
    """The assessed reports of the published April 2021 results."""
    return [d for d in published_outcome() if isinstance(d, AssessedReport)]


def alert_documents() -> list[dict[str, Any]]:
    """The ``wq.alerts`` documents of tests/data/messages/alerts (changes, then deliveries)."""
    names = sorted(ALERT_DOCS.glob("changes-*.json")) + sorted(ALERT_DOCS.glob("delivery-*.json"))
    return [json.loads(path.read_bytes()) for path in names]


def store_lines(
    records: Iterable[AssessedReport | RuleEvent], alerts: Sequence[dict[str, Any]] = ()
) -> list[str]:
    """The line protocol the store writes for ``records`` and ``wq.alerts`` documents."""
    lines = [line for doc in records for line in line_protocol(record_points(doc))]
    return lines + [
        line for doc in alerts for line in line_protocol(alert_points(alerts_document(doc)))
    ]


def write_lines(client: Any, bucket: str, lines: Sequence[str]) -> None:
    """Write line protocol (second precision) with a synchronous influxdb-client."""
    from influxdb_client import WritePrecision
    from influxdb_client.client.write_api import SYNCHRONOUS

    client.write_api(write_options=SYNCHRONOUS).write(
        bucket=bucket, record=list(lines), write_precision=WritePrecision.S
    )
