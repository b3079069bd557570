"""`basin simulate`: seeded station reports with injected faults, produced on the raw topic."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import Progress

from stations.errors import SimulationError, StationsError
from stations.formats.hj212 import BEIJING
from stations.simulation import model as simulation
from stations.simulation.faults import DEFAULT_FAULTS, FaultRates
from stations.simulation.model import Emission, Simulator
from streams.cli.common import open_registry, pass_settings, registry_option
from streams.settings import Settings


def _faults(_ctx: click.Context, _param: click.Parameter, value: str) -> FaultRates:
    try:
        return FaultRates.parse(value)
    except SimulationError as exc:
        raise click.BadParameter(str(exc)) from exc


def _start(_ctx: click.Context, _param: click.Parameter, value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 time: {exc}") from exc
    if moment.tzinfo is None:
        raise click.BadParameter(f"{value!r} has no UTC offset (write e.g. +08:00)")
    return moment


def _address(_ctx: click.Context, _param: click.Parameter, value: str | None) -> Any:
    if value is None:
        return None
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise click.BadParameter(f"{value!r} is not HOST:PORT")
    return host, int(port)


@click.command()
@click.option("--count", type=click.IntRange(min=1), help="Send this many messages, then stop.")
@click.option("--realtime", is_flag=True, help="Send round after round until Ctrl-C.")
@click.option("--seed", type=int, help="Random seed (default: a random one, printed at the end).")
@click.option(
    "--faults",
    default=DEFAULT_FAULTS,
    callback=_faults,
    help="Share of report slots per fault, NAME=RATE,...; 'none' for clean data. "
    f"Default: {DEFAULT_FAULTS}.",
)
@click.option(
    "--start",
    callback=_start,
    help="First observation time, ISO 8601 with offset. Default: --count ends before now; "
    "--realtime starts now, floored to the longest station interval.",
)
@click.option(
    "--speed",
    type=click.FloatRange(min=0, min_open=True),
    help="--realtime: simulated time per wall-clock time (240: a 4-hour round a minute). [1]",
)
@click.option(
    "--duration",
    type=click.FloatRange(min=0, min_open=True),
    help="--realtime: stop after this many seconds.",
)
@click.option(
    "--hj212",
    "hj212_address",
    metavar="HOST:PORT",
    callback=_address,
    help="Instead of producing: run HJ 212 data loggers over TCP against the gateway there "
    "(--count reports in all, or --seconds; passwords from BASIN_GATEWAY_SECRETS_PATH or "
    "BASIN_SECRET_* as the gateway reads them).",
)
@click.option(
    "--loggers",
    type=click.IntRange(min=1),
    help="--hj212: this many loggers, one per station with an MN (at most the registry's).",
)
@click.option(
    "--seconds",
    type=click.FloatRange(min=0, min_open=True),
    help="--hj212: send for this many seconds (a report per logger per --period), then drain.",
)
@click.option(
    "--period",
    type=click.FloatRange(min=0, min_open=True),
    default=1.0,
    show_default=True,
    help="--hj212: seconds between two reports of one logger.",
)
@click.option(
    "--logger-faults",
    default="wrong_password=0.01,corrupt=0.01,split=0.1",
    show_default=True,
    help="--hj212: share of uploads whose first send has a wrong password or a corrupted byte, "
    "and of reports sent as sub-packets; 'none' for none.",
)
@registry_option
@click.option("--topic", help="Topic to produce to (default: BASIN_TOPIC_RAW).")
@pass_settings
def simulate(
    settings: Settings,
    count: int | None,
    realtime: bool,
    seed: int | None,
    faults: FaultRates,
    start: datetime | None,
    speed: float | None,
    duration: float | None,
    hj212_address: tuple[str, int] | None,
    loggers: int | None,
    seconds: float | None,
    period: float,
    logger_faults: str,
    registry_path: Path | None,
    topic: str | None,
) -> None:
    """Produce simulated station reports, with faults, for the check agent to sort out.

    Levels and daily cycles come from the real April 2021 results; each message is meant to
    be assessed or rejected for a known reason (undecodable, unknown_station, bad_unit, future,
    duplicate). Prints one JSON summary line at the end: sent, by_kind, expect, dropped, seed,
    topic. --realtime prints a progress line per round on stderr.

    \b
    Example:
      basin simulate --count 10000 --seed 1
      basin simulate --count 500 --seed 7 --faults none --start 2021-04-01T00:00+08:00
      basin simulate --realtime --speed 240 --duration 600 --faults hj212=0.1,spike=0.02
      basin simulate --hj212 127.0.0.1:9212 --loggers 50 --seconds 60 --seed 1
    """
    if hj212_address is not None:
        from streams.cli.simulate_hj212 import run_hj212

        if realtime or speed is not None or duration is not None:
            raise click.UsageError("--hj212 goes with --count or --seconds, not --realtime")
        if (count is None) == (seconds is None):
            raise click.UsageError("--hj212: give either --count N (reports in all) or --seconds S")
        seed = secrets.randbelow(2**32) if seed is None else seed
        result = run_hj212(
            settings,
            open_registry(registry_path, settings),
            hj212_address,
            loggers=loggers,
            count=count,
            seconds=seconds,
            period=period,
            faults=logger_faults,
            seed=seed,
            start=start,
        )
        click.echo(json.dumps({**result, "seed": seed}, ensure_ascii=False))
        if result["gave_up"]:
            raise click.ClickException(
                f"{result['gave_up']} loggers could not connect to {result['target']}; "
                "is the gateway up (basin gateway) and the port right?"
            )
        return
    if loggers is not None or seconds is not None:
        raise click.UsageError("--loggers and --seconds go with --hj212")
    if (count is None) == (not realtime):
        raise click.UsageError("give either --count N or --realtime")
    if not realtime and (speed is not None or duration is not None):
        raise click.UsageError("--speed and --duration go with --realtime")
    registry = open_registry(registry_path, settings)
    seed = secrets.randbelow(2**32) if seed is None else seed
    topic = topic or settings.topic_raw
    try:
        if count is not None:
            start = start or simulation.backlog_start(registry, count, datetime.now(BEIJING))
            run = simulation.simulate(registry, count=count, seed=seed, faults=faults, start=start)
            summary = run.summary
            progress = Progress(transient=True, console=Console(stderr=True))
            with _Producer(settings, topic) as producer, progress:
                task = progress.add_task("producing", total=count)
                producer.send_all(run, lambda: progress.advance(task))
        else:
            simulator = Simulator(registry, seed=seed, faults=faults, start=start)
            summary = simulator.summary
            with _Producer(settings, topic) as producer:
                _run_realtime(simulator, producer, speed or 1.0, duration)
    except StationsError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(json.dumps({**summary.as_dict(), "seed": seed, "topic": topic}, ensure_ascii=False))


def _run_realtime(
    simulator: Simulator, producer: _Producer, speed: float, duration: float | None
) -> None:
    """A round whenever the simulated clock reaches its slot; Ctrl-C ends it cleanly."""
    wall_start = time.monotonic()
    sim_start = datetime.now(BEIJING)
    try:
        while True:
            slot = simulator.next_slot
            due = wall_start + max(0.0, (slot - sim_start).total_seconds()) / speed
            if duration is not None and due > wall_start + duration:
                time.sleep(max(0.0, wall_start + duration - time.monotonic()))
                return
            time.sleep(max(0.0, due - time.monotonic()))
            now = sim_start + timedelta(seconds=(time.monotonic() - wall_start) * speed)
            batch = list(simulator.next_round(now))
            producer.send_all(batch, timestamp=now)
            producer.flush()
            faulty = sum(1 for e in batch if e.kind != "normal")
            click.echo(
                f"{slot:%Y-%m-%d %H:%M} sent {len(batch)} ({faulty} faulty), "
                f"total {simulator.summary.sent}, dropped {simulator.summary.dropped}",
                err=True,
            )
    except KeyboardInterrupt:
        return


class _Producer:
    """A kafka-python producer (acks=all) that counts failed sends and reports them."""

    def __init__(self, settings: Settings, topic: str) -> None:
        from kafka import KafkaProducer
        from kafka.errors import KafkaError

        self.topic = topic
        self.servers = settings.kafka_bootstrap_servers
        self.failed: list[Exception] = []
        try:
            self._producer = KafkaProducer(
                acks="all", linger_ms=20, **settings.kafka_client_options()
            )
        except KafkaError as exc:
            raise click.ClickException(
                f"cannot connect to Kafka at {self.servers}: {exc}; is the broker up "
                "(deploy/local/up.sh) and BASIN_KAFKA_BOOTSTRAP_SERVERS right?"
            ) from exc

    def __enter__(self) -> _Producer:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.flush()
        finally:
            self._producer.close()
        if self.failed and exc[0] is None:
            raise click.ClickException(
                f"{len(self.failed)} messages were not written to {self.topic} on "
                f"{self.servers}; first error: {self.failed[0]}"
            )

    def send_all(
        self,
        emissions: Iterable[Emission],
        advance: Callable[[], Any] | None = None,
        timestamp: datetime | None = None,
    ) -> None:
        """Send each emission (key = station id); ``timestamp``: the Kafka message time."""
        from kafka.errors import KafkaError

        stamp = None if timestamp is None else int(timestamp.timestamp() * 1000)
        for emission in emissions:
            try:
                future = self._producer.send(
                    self.topic, key=emission.key, value=emission.value, timestamp_ms=stamp
                )
            except KafkaError as exc:
                raise click.ClickException(
                    f"cannot produce to {self.topic} on {self.servers}: {exc}; is the broker up "
                    "(deploy/local/up.sh) and BASIN_KAFKA_BOOTSTRAP_SERVERS right?"
                ) from exc
            future.add_errback(self.failed.append)
            if advance is not None:
                advance()

    def flush(self) -> None:
        self._producer.flush(timeout=60)
