"""Helpers of the pipeline tests: real published reports, the expected outcome computed by the
pure check path, and reading topics as a downstream consumer does (committed data only)."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import msgspec
from kafka import KafkaConsumer

from stations.assessment import Assessor, History
from stations.formats.assessed import AssessedReport
from stations.formats.cnemc import read_cnemc
from stations.formats.history import reports_from_cnemc
from stations.formats.records import decode
from stations.formats.report import ReportError
from stations.quality.limits import load_qc_limits
from stations.registry import load_registry
from stations.rules.config import load_rules
from stations.rules.events import RuleEvent

R = TypeVar("R", bound=msgspec.Struct)

DATA = Path(__file__).parents[2] / "tests" / "data" / "cnemc-2021-04" / "江苏省"


def published_reports() -> list[tuple[bytes, bytes]]:
    """The 1,000 timed results of the 37 published Jiangsu files as (key, report) messages."""
    registry = load_registry()
    rows = [row for path in sorted(DATA.glob("*.csv")) for row in read_cnemc(path, year=2021)]
    converted = reports_from_cnemc(rows, registry, datetime(2021, 4, 6, tzinfo=UTC))
    return [(r.station.encode(), r.to_json()) for r in converted.reports]


def expected_outcome(messages: list[tuple[bytes | None, bytes]]) -> dict[str, Any]:
    """What the worker must produce, by the same pure code replayed in order, station by station."""
    registry = load_registry()
    assessor = Assessor(registry, load_qc_limits(registry=registry), load_rules(registry=registry))
    histories: dict[str, History] = {}
    assessed = 0
    rejected: Counter[str] = Counter()
    events: list[str] = []
    docs: list[AssessedReport | RuleEvent] = []
    for _, raw in messages:
        try:
            report = assessor.check(raw, datetime.now(UTC))
            outcome = assessor.assess(report, histories.get(report.station, History()))
        except ReportError as exc:
            rejected[exc.reason] += 1
            continue
        histories[report.station] = outcome.history
        assessed += 1
        events.extend(e.id for e in outcome.events)
        docs.append(outcome.assessed)
        docs.extend(outcome.events)
    return {
        "assessed": assessed,
        "rejected": dict(rejected),
        "events": sorted(events),
        "docs": docs,  # assessed reports and rule events (records), as the worker writes them
    }


class TopicReader:
    """Reads a topic from the start as a downstream consumer (read_committed), accumulating.
    Every reader is closed after its test (``close_readers`` in conftest.py)."""

    opened: ClassVar[list[TopicReader]] = []

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.records: list[Any] = []
        TopicReader.opened.append(self)
        self._consumer = KafkaConsumer(
            topic,
            bootstrap_servers=bootstrap,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            isolation_level="read_committed",
        )

    def poll(self) -> int:
        for batch in self._consumer.poll(timeout_ms=200).values():
            self.records.extend(batch)
        return len(self.records)

    def close(self) -> None:
        self._consumer.close()

    def decoded(self, kind: type[R]) -> list[R]:
        """The values read so far as records of ``kind`` (MessageError if one is not)."""
        return [decode(r.value, kind) for r in self.records]


def wait_for(readers: dict[str, TopicReader], want: dict[str, int], timeout: float) -> None:
    """Poll until every reader holds at least the wanted count, then a little longer (to catch
    anything extra); AssertionError with the counts seen when the time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        counts = {name: reader.poll() for name, reader in readers.items()}
        if all(counts[name] >= n for name, n in want.items()):
            settle = time.monotonic() + 3
            while time.monotonic() < settle:
                for reader in readers.values():
                    reader.poll()
            return
    counts = {name: len(reader.records) for name, reader in readers.items()}
    raise AssertionError(f"timed out after {timeout} s: have {counts}, want {want}")
