"""Simulated messages read back with the real decoders, for the simulator's tests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from stations import parameters
from stations.formats import hj212
from stations.formats.hj212 import BEIJING
from stations.formats.report import from_json
from stations.registry import Registry
from stations.simulation.faults import DEFAULT_FAULTS, FaultRates
from stations.simulation.model import Emission

START = datetime(2021, 4, 1, 0, 0, tzinfo=BEIJING)
COUNT = 10_000
SEED = 11
FAULTS = FaultRates.parse(DEFAULT_FAULTS)
ASSESSED_JSON = ("normal", "spike", "stuck", "maintenance", "late")


@dataclass(frozen=True)
class Decoded:
    """One message read back: JSON report or HJ 212 packet, in the same shape."""

    emission: Emission
    index: int
    station: str
    observed_at: datetime
    values: dict[str, float]
    units: dict[str, str]
    flags: dict[str, str]


def decode(e: Emission, index: int, registry: Registry) -> Decoded:
    if e.value.startswith(b"##"):
        packet = hj212.parse(e.value)
        station = registry.by_mn(packet.mn)
        assert packet.data_time is not None
        keys = {code: parameters.by_hj212_code(code).key for code in packet.items}
        return Decoded(
            e,
            index,
            station.id,
            packet.data_time,
            {keys[c]: float(f["Rtd"]) for c, f in packet.items.items()},
            {keys[c]: parameters.get(keys[c]).unit for c in packet.items},
            {keys[c]: f["Flag"] for c, f in packet.items.items()},
        )
    report = from_json(e.value)
    return Decoded(
        e,
        index,
        report.station,
        report.observed_at,
        {k: r.value for k, r in report.readings.items() if r.value is not None},
        {k: r.unit for k, r in report.readings.items()},
        {k: r.flag for k, r in report.readings.items()},
    )


def of_kind(emissions: list[Emission], kind: str) -> Iterator[Emission]:
    return (e for e in emissions if e.kind == kind)


def beijing_minute(moment: datetime) -> int:
    local = moment.astimezone(BEIJING)
    return local.hour * 60 + local.minute


# --- determinism and counts ---------------------------------------------------------------------
