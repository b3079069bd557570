"""`basin watch`'s tally: reports and breaches by jurisdiction, rejects by their reason."""

from __future__ import annotations

from stations.registry import load_registry
from streams.cli.watch import Tally
from streams.deadletter import Source, dead_letter


def test_tally_counts_by_jurisdiction_and_reason() -> None:
    tally = Tally(load_registry())
    tally.add("assessed", b"JS-TH-028", b"{}")
    tally.add("breaches", b"SH-CJ-009", b"{}")
    tally.add("assessed", b"XX-00", b"{}")
    letter = dead_letter(b"x", None, Source("wq.reports.raw", 0, 1), "unknown_station", "x")
    tally.add("rejected", None, letter)
    tally.add("rejected", None, b"not a dead letter")
    assert dict(tally.assessed) == {"JS": 1, "?": 1} and dict(tally.breaches) == {"SH": 1}
    assert dict(tally.rejected) == {"unknown_station": 1, "?": 1}
