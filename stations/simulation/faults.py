"""The faults the simulator injects: their rates, what the check agent must make of each, and
the bytes of the faulty messages. Pure: numpy and stdlib only.

A rate is the share of report slots (one station, one observation time) given that fault; at most
one fault per slot. ``hj212`` is not a fault of the data but of the encoding: the report travels
as an HJ 212-2017 packet instead of JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime, timedelta

import numpy as np

from stations import parameters
from stations.errors import SimulationError, UnitError
from stations.formats import hj212
from stations.formats.hj212 import BEIJING
from stations.formats.report import Report
from stations.registry import Registry
from stations.station import Station

#: Outcome the check agent must give each kind of message.
EXPECT: dict[str, str] = {
    "normal": "assessed",
    "spike": "assessed",
    "stuck": "assessed",
    "maintenance": "assessed",
    "late": "assessed",
    "hj212": "assessed",
    "malformed": "rejected:undecodable",
    "unknown_station": "rejected:unknown_station",
    "wrong_unit": "rejected:bad_unit",
    "future": "rejected:future",
    "duplicate": "rejected:duplicate",
}

#: The fault mix of ``basin simulate`` when --faults is not given.
DEFAULT_FAULTS = (
    "spike=0.02,stuck=0.01,dropout=0.02,maintenance=0.02,wrong_unit=0.01,duplicate=0.01,"
    "late=0.01,malformed=0.01,unknown_station=0.005,future=0.005,hj212=0.1"
)

#: Units no parameter of a water-quality or hydrology station accepts together with all others;
#: a wrong unit is one of these that the parameter does not accept.
FOREIGN_UNITS = ("NTU", "mg/L", "μS/cm", "℃", "m", "cells/L", "%", "ppm", "kg")

HJ212_PASSWORD = "123456"


@dataclass(frozen=True)
class FaultRates:
    """Share of report slots given each fault (0..1 each, at most 1 together)."""

    spike: float = 0.0
    stuck: float = 0.0
    dropout: float = 0.0
    maintenance: float = 0.0
    wrong_unit: float = 0.0
    duplicate: float = 0.0
    late: float = 0.0
    malformed: float = 0.0
    unknown_station: float = 0.0
    future: float = 0.0
    hj212: float = 0.0

    def __post_init__(self) -> None:
        for name, rate in self.items():
            if not 0.0 <= rate <= 1.0:
                raise SimulationError(f"fault rate {name}={rate} is not between 0 and 1")
        if self.total > 1.0:
            raise SimulationError(f"fault rates add up to {self.total:g}, more than 1")

    @classmethod
    def parse(cls, spec: str) -> FaultRates:
        """Rates from ``"spike=0.02,stuck=0.01,..."``; ``""`` or ``"none"`` for no faults."""
        text = spec.strip()
        if text.lower() in ("", "none"):
            return cls()
        known = [f.name for f in fields(cls)]
        rates: dict[str, float] = {}
        for part in text.split(","):
            name, eq, value = (s.strip() for s in part.partition("="))
            if not eq or name not in known:
                names = ", ".join(known)
                raise SimulationError(
                    f"fault {part.strip()!r}: expected NAME=RATE, NAME one of {names}"
                )
            if name in rates:
                raise SimulationError(f"fault {name!r} is given twice")
            try:
                rates[name] = float(value)
            except ValueError:
                raise SimulationError(f"fault {name}: rate {value!r} is not a number") from None
        return cls(**rates)

    def items(self) -> list[tuple[str, float]]:
        """(fault, rate) pairs in declaration order."""
        return [(f.name, getattr(self, f.name)) for f in fields(self)]

    @property
    def total(self) -> float:
        return sum(rate for _, rate in self.items())

    def spec(self) -> str:
        """The rates as a --faults spec (non-zero ones); ``none`` when there is none."""
        return ",".join(f"{name}={rate:g}" for name, rate in self.items() if rate) or "none"


def hj212_items(report: Report) -> dict[str, dict[str, str]]:
    """``code -> {Rtd, Flag}`` of the readings that have an HJ 212 code (the others left out).

    Loggers send canonical units (mg/L, μS/cm, ...), whatever unit the station reports in.
    """
    items: dict[str, dict[str, str]] = {}
    for key, reading in report.readings.items():
        code = parameters.get(key).hj212_code
        if code is None or reading.value is None:
            continue
        value = parameters.convert(key, reading.value, reading.unit)
        items[code] = {"Rtd": _number(value), "Flag": reading.flag}
    return items


def hj212_packet(station: Station, report: Report) -> bytes:
    """The report as an HJ 212-2017 real-time packet (ST=21, CN=2011) from the station's logger."""
    if station.hj212 is None:
        raise SimulationError(f"station {station.id} has no HJ 212 link (mn)")
    received = report.received_at.astimezone(BEIJING)
    header = {
        "QN": received.strftime("%Y%m%d%H%M%S") + f"{received.microsecond // 1000:03d}",
        "ST": "21",
        "CN": "2011",
        "PW": HJ212_PASSWORD,
        "MN": station.hj212.mn,
        "Flag": "5",
    }
    return hj212.build(header, report.observed_at, hj212_items(report))


def can_send_hj212(station: Station, keys: tuple[str, ...]) -> bool:
    """Whether a station has a logger MN and measures a parameter with an HJ 212 code."""
    return station.hj212 is not None and any(parameters.get(k).hj212_code for k in keys)


def foreign_unit(key: str, rng: np.random.Generator) -> str:
    """A unit that parameter ``key`` does not accept."""
    wrong = []
    for unit in FOREIGN_UNITS:
        try:
            parameters.unit_factor(key, unit)
        except UnitError:
            wrong.append(unit)
    return wrong[int(rng.integers(len(wrong)))]


def malformed(report_json: bytes, packet: bytes | None, rng: np.random.Generator) -> bytes:
    """Bytes that are neither a report nor a valid packet: truncated JSON, noise, or ``packet``
    with a wrong CRC (when given)."""
    choice = int(rng.integers(3 if packet else 2))
    if choice == 0:
        return report_json[: int(rng.integers(1, len(report_json) - 1))]
    if choice == 1:
        # A control byte first: never the start of JSON or of a packet.
        noise = rng.integers(0, 256, size=int(rng.integers(8, 200)), dtype=np.uint8).tobytes()
        return bytes([int(rng.integers(0, 9))]) + noise
    assert packet is not None
    crc = int(packet[-6:-2], 16)
    return packet[:-6] + b"%04X" % (crc ^ int(rng.integers(1, 0x10000))) + b"\r\n"


def unknown_station_id(registry: Registry, station: Station, rng: np.random.Generator) -> str:
    """A well-formed station id of ``station``'s jurisdiction that the registry does not have."""
    while True:
        candidate = f"{station.jurisdiction}-XX-{int(rng.integers(900, 1000)):03d}"
        if candidate not in registry:
            return candidate


def future_time(received_at: datetime, interval_minutes: int, rng: np.random.Generator) -> datetime:
    """An observation time 61 minutes to 12 hours after ``received_at``, off the station's grid
    (a logger clock set wrong), so it can never equal a real slot."""
    ahead = received_at.replace(second=0, microsecond=0) + _minutes(int(rng.integers(62, 721)))
    minutes = int(ahead.timestamp()) // 60 + 8 * 60
    if minutes % interval_minutes == 0:
        ahead += _minutes(1)
    return ahead


def _minutes(n: int) -> timedelta:
    return timedelta(minutes=n)


def _number(value: float) -> str:
    return str(np.format_float_positional(round(value, 6), trim="-"))
