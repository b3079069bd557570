"""Decode and validate one assessed report N times with each record library, in one run.

    .venv/bin/python -m bench.record_decode [--count 20000] [--repeat 5]

The document is a realistic assessed report (``wq.reports.assessed``): a ten-parameter
water-quality report of 西山 assessed by the pure check path at a result that gives a pending
target-class event and a window-mean TP breach, so it carries values, classes and two rule events
(about 1.9 kB).
Each library decodes the bytes into typed, validated objects (nested values and events included):

1. msgspec: ``msgspec.json.Decoder(AssessedReport)`` (the project's records);
2. pydantic v2: the same schema as ``BaseModel`` classes, ``model_validate_json``;
3. faust: the same schema as ``faust.Record`` classes with ``validation=True``, ``loads``;
4. stdlib ``json.loads`` alone, the floor: parsing without types or validation.

Prints the best of ``--repeat`` runs in µs per message. Needs no servers.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated, Any

import faust
import msgspec
import pydantic

from stations import parameters
from stations.assessment import Assessor, History
from stations.formats import hj212
from stations.formats.assessed import AssessedReport
from stations.formats.records import encode
from stations.formats.report import Reading, Report
from stations.jurisdictions import Jurisdiction
from stations.quality.checks import QCFlag
from stations.quality.limits import load_qc_limits
from stations.registry import load_registry
from stations.rules.config import load_rules
from stations.rules.events import EventKind, Severity, Side
from stations.standard.gb3838 import WaterBody
from stations.station import StationKind

#: 西山 (JS-TH-028, lake, target Ⅳ) as published, ten parameters.
XISHAN = {"temp": 14.2, "ph": 7.48, "do": 9.32, "cond": 512.0, "turb": 21.0, "codmn": 1.88,
          "nh3n": 0.110, "tp": 0.048, "tn": 1.98, "chla": 0.012}  # fmt: skip


def assessed_document() -> bytes:
    """An assessed report with ten values and rule events, as the check agent writes it."""
    registry = load_registry()
    assessor = Assessor(registry, load_qc_limits(registry=registry), load_rules(registry=registry))
    history = History()
    start = datetime(2021, 4, 1, tzinfo=hj212.BEIJING)
    for hour in range(0, 24, 4):
        observed = start + timedelta(hours=hour)
        values = XISHAN | {"tp": 0.25 if hour == 20 else 0.09}
        readings = {k: Reading(v, parameters.get(k).unit) for k, v in values.items()}
        report = Report("JS-TH-028", observed, observed + timedelta(minutes=3), "bench", readings)
        outcome = assessor.assess(report, history, f"bench@{hour}")
        history = outcome.history
    assert len(outcome.assessed.values) == 10 and len(outcome.events) == 2, outcome.events
    return encode(outcome.assessed)


# --- the same schema in pydantic v2 ----------------------------------------------------------
Flag = Annotated[str, pydantic.StringConstraints(min_length=1, max_length=1)]
Class = Annotated[int, pydantic.Field(ge=1, le=6)]
Frozen = pydantic.ConfigDict(frozen=True)


class PydanticEvent(pydantic.BaseModel):
    model_config = Frozen
    id: str
    kind: EventKind
    station: str
    station_name: str
    rule: str
    parameter: str
    observed: float
    limit: float
    severity: Severity
    jurisdictions: tuple[Jurisdiction, ...]
    observed_at: pydantic.AwareDatetime
    message: str
    since: pydantic.AwareDatetime | None = None
    statistic: str | None = None
    side: Side | None = None


class PydanticValue(pydantic.BaseModel):
    model_config = Frozen
    value: float | None
    unit: str
    flag: Flag
    qc: QCFlag
    reasons: tuple[str, ...]
    water_class: Class | None = pydantic.Field(default=None, alias="class")


class PydanticReport(pydantic.BaseModel):
    model_config = Frozen
    schema_: int = pydantic.Field(alias="schema")
    station: str
    station_name: str
    jurisdiction: Jurisdiction
    basin: str
    water_body: WaterBody
    kind: StationKind
    observed_at: pydantic.AwareDatetime
    received_at: pydantic.AwareDatetime
    source: str
    late: bool
    values: dict[str, PydanticValue]
    water_class: Class | None = pydantic.Field(alias="class")
    class_name: str | None
    limiting: tuple[str, ...]
    target_class: Class | None
    target_met: bool | None
    events: tuple[PydanticEvent, ...] = ()


# --- the same schema as faust.Record (validation=True) ----------------------------------------
class FaustEvent(faust.Record, validation=True, serializer="json"):
    id: str
    kind: str
    station: str
    station_name: str
    rule: str
    parameter: str
    observed: float
    limit: float
    severity: str
    jurisdictions: list[str]
    observed_at: datetime
    message: str
    since: datetime | None = None
    statistic: str | None = None
    side: str | None = None


class FaustValue(faust.Record, validation=True, serializer="json"):
    value: float | None
    unit: str
    flag: str
    qc: int
    reasons: list[str]
    water_class: int | None = faust.models.fields.IntegerField(
        input_name="class", required=False, default=None
    )


class FaustReport(faust.Record, validation=True, serializer="json"):
    schema: int
    station: str
    station_name: str
    jurisdiction: str
    basin: str
    water_body: str
    kind: str
    observed_at: datetime
    received_at: datetime
    source: str
    late: bool
    values: dict[str, FaustValue]
    water_class: int | None = faust.models.fields.IntegerField(input_name="class", required=False)
    class_name: str | None = None
    limiting: list[str] = []  # noqa: RUF012 (faust copies defaults)
    target_class: int | None = None
    target_met: bool | None = None
    events: list[FaustEvent] = []  # noqa: RUF012


def decoders() -> dict[str, Callable[[bytes], Any]]:
    msgspec_decoder = msgspec.json.Decoder(AssessedReport)
    return {
        "msgspec Struct (Decoder(type=AssessedReport))": msgspec_decoder.decode,
        "pydantic v2 (model_validate_json)": PydanticReport.model_validate_json,
        "faust.Record validation=True (loads)": FaustReport.loads,
        "stdlib json.loads (no types, the floor)": json.loads,
    }


def check_alike(raw: bytes) -> None:
    """Every library reads the same values from the document (so each does the full work)."""
    ours = msgspec.json.decode(raw, type=AssessedReport)
    theirs = PydanticReport.model_validate_json(raw)
    record = FaustReport.loads(raw)
    assert theirs.values["tp"].water_class == ours.values["tp"].water_class
    assert record.values["tp"].qc == ours.values["tp"].qc
    assert isinstance(record.values["tp"], FaustValue), "nested records are decoded"
    assert isinstance(record.events[0], FaustEvent), "nested events are decoded"
    assert len(theirs.events) == len(record.events) == len(ours.events) == 2
    assert theirs.observed_at == record.observed_at == ours.observed_at


def per_message(decode: Callable[[bytes], Any], raw: bytes, count: int, repeat: int) -> float:
    """Best µs per message over ``repeat`` runs of ``count`` decodes."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        for _ in range(count):
            decode(raw)
        best = min(best, time.perf_counter() - started)
    return best / count * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    raw = assessed_document()
    check_alike(raw)
    print(f"assessed report: {len(raw)} bytes, 10 values, 2 rule events; best of {args.repeat}")
    for name, decode in decoders().items():
        count = args.count if "faust" not in name else max(1, args.count // 10)
        micros = per_message(decode, raw, count, args.repeat)
        print(f"{name:48} {micros:9.2f} µs per message  (N = {count})")


if __name__ == "__main__":
    main()
