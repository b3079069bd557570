"""Helpers of the alert tests: an alerts YAML pointing at real local receivers, station reports
near now, clock ticks sent to a station's partition, and the notifications a receiver got."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from kafka import KafkaProducer

from alerts.records import TickCommand, encode
from stations.formats.report import Reading, Report
from streams.agents.alert import Partitioning
from streams.testing.receivers import HttpReceiver, RecordedRequest, SmtpReceiver

PARTIES = ("JS", "ZJ", "SH", "AH", "TBA")
TPQ = "SH-CJ-009"  # 太浦河桥: cross-boundary JS > SH, station limit tpq-tp (TP > 0.15, 2 in a row)


def alerts_yaml(path: Path, http: HttpReceiver, smtp: SmtpReceiver | None = None) -> Path:
    """Tier 1 and 2 of every party on duty all the time, each a webhook to ``/<party>/tier<N>``
    on ``http``; with ``smtp`` the Shanghai duty desk also gets e-mail."""
    lines = [
        "version: 1",
        "board_url: http://127.0.0.1:3000/d/basinwatch-overview",
        "timing: {repeat_minutes: 240, escalate_minutes: [30, 120], silent_intervals: 2,"
        " hysteresis: 0.1}",
    ]
    if smtp is not None:
        lines.append(f"smtp: {{host: {smtp.host}, port: {smtp.port}, sender: bw@localhost}}")
    lines.append("receivers:")
    for party in PARTIES:
        for tier in (1, 2):
            lines.append(f"  {party.lower()}-t{tier}:")
            lines.append("    channels:")
            url = http.url(f"/{party.lower()}/tier{tier}")
            lines.append(f"      - {{type: webhook, url: '{url}'}}")
            if smtp is not None and party == "SH" and tier == 1:
                lines.append("      - {type: email, to: [duty@sh.example]}")
    lines.append("rotas:")
    for party in PARTIES:
        lines.append(f"  {party}:")
        lines.append(f"    scope: {'cross_boundary' if party == 'TBA' else 'all'}")
        lines.append("    tiers:")
        for tier in (1, 2):
            lines.append(f"      - tier: {tier}")
            lines.append("        shifts:")
            name = f"{party.lower()}-t{tier}"
            lines.append(f"          - {{days: all, hours: '00:00-24:00', receivers: [{name}]}}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def reports(
    station: str,
    tps: list[float],
    start: datetime | None = None,
    full: bool = False,
    **values: float,
) -> list[tuple[bytes, bytes]]:
    """Hourly reports of ``station`` with TP ``tps`` (and ``values``), the first 20 h ago; with
    ``full`` the other four assessed parameters are there too (class II), so the class is judged."""
    start = start or datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(
        hours=20
    )
    messages = []
    for index, tp in enumerate(tps):
        readings = {"tp": Reading(tp, "mg/L")}
        if full:
            readings |= {
                "ph": Reading(7.5, ""),
                "do": Reading(7.0, "mg/L"),
                "codmn": Reading(3.0, "mg/L"),
                "nh3n": Reading(0.3, "mg/L"),
            }
        readings |= {name: Reading(value, "mg/L") for name, value in values.items()}
        at = start + timedelta(hours=index)
        report = Report(station, at, at + timedelta(minutes=5), "test", readings)
        messages.append((station.encode(), report.to_json()))
    return messages


def tick(bootstrap: str, topic: str, station: str, at: float, partitions: int) -> None:
    """A clock tick at ``at`` for the partition that holds ``station`` (the controllable clock)."""
    partition = next(
        p for p, ids in Partitioning.of([station], partitions).by_partition.items() if ids
    )
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    try:
        body = encode(TickCommand(at=at))
        producer.send(topic, value=body, partition=partition).get(timeout=30)
    finally:
        producer.close()


def by_path(requests: list[RecordedRequest]) -> dict[str, list[dict[str, Any]]]:
    """The JSON bodies each path received, in order."""
    found: dict[str, list[dict[str, Any]]] = {}
    for request in requests:
        found.setdefault(request.path, []).append(request.json)
    return found


def whats(body: dict[str, Any]) -> list[tuple[str, str]]:
    """(alert id, what) of the changes a notification carries."""
    return [(c["alert"]["id"], c["what"]) for c in body["data"]["changes"]]


def settle(
    receiver: HttpReceiver, count: int, timeout: float = 60.0, quiet: float = 3.0
) -> list[RecordedRequest]:
    """Wait for ``count`` requests, then a quiet spell, and return them all (extras show)."""
    receiver.wait_for(count, timeout=timeout)
    time.sleep(quiet)
    return receiver.requests
