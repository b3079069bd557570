"""`basin watch`: live counts of what the pipeline produced, per jurisdiction."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import click
from rich.live import Live
from rich.table import Table

from stations.errors import MessageError
from stations.registry import Registry
from streams.cli.common import open_registry, pass_settings, registry_option
from streams.deadletter import DeadLetter
from streams.settings import Settings


class Tally:
    """Counts of assessed reports and breaches per jurisdiction and of rejects per reason."""

    def __init__(self, registry: Registry) -> None:
        self.jurisdiction = {s.id: str(s.jurisdiction) for s in registry}
        self.assessed: Counter[str] = Counter()
        self.breaches: Counter[str] = Counter()
        self.rejected: Counter[str] = Counter()

    def add(self, kind: str, key: bytes | None, value: bytes | None) -> None:
        station = key.decode("utf-8", "replace") if key else ""
        where = self.jurisdiction.get(station, "?")
        if kind == "assessed":
            self.assessed[where] += 1
        elif kind == "breaches":
            self.breaches[where] += 1
        else:
            try:
                reason = DeadLetter.from_json(value or b"").reason
            except MessageError:
                reason = "?"
            self.rejected[reason] += 1

    def table(self) -> Table:
        table = Table(title="basinwatch: reports 报告 / breaches 超标 / rejects 拒收")
        table.add_column("jurisdiction 辖区")
        table.add_column("assessed 已评价", justify="right")
        table.add_column("breaches 超标", justify="right")
        for where in sorted(set(self.assessed) | set(self.breaches)):
            table.add_row(where, str(self.assessed[where]), str(self.breaches[where]))
        table.add_row("total 合计", str(self.assessed.total()), str(self.breaches.total()))
        rejects = ", ".join(f"{reason}: {n}" for reason, n in sorted(self.rejected.items()))
        table.caption = f"rejected 拒收 {self.rejected.total()} ({rejects or 'none'})"
        return table


@click.command()
@click.option("--duration", type=float, default=None, help="Stop after this many seconds.")
@registry_option
@pass_settings
def watch(settings: Settings, duration: float | None, registry_path: Path | None) -> None:
    """Live counts of assessed reports, breaches and rejects since the topics began.

    \b
    Example:
      basin watch --duration 30
    """
    from kafka import KafkaConsumer

    tally = Tally(open_registry(registry_path, settings))
    kinds = {
        settings.topic_assessed: "assessed",
        settings.topic_breaches: "breaches",
        settings.topic_rejected: "rejected",
    }
    consumer = KafkaConsumer(
        *kinds,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
        **settings.kafka_client_options(),
    )
    deadline = None if duration is None else time.monotonic() + duration
    try:
        with Live(tally.table(), refresh_per_second=2) as live:
            while deadline is None or time.monotonic() < deadline:
                for tp, records in consumer.poll(timeout_ms=500).items():
                    for record in records:
                        tally.add(kinds[tp.topic], record.key, record.value)
                live.update(tally.table())
    except KeyboardInterrupt:
        pass
    finally:
        consumer.close()
