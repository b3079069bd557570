"""`basin simulate --hj212 HOST:PORT`: simulated HJ 212 data loggers against the gateway.

Passwords come from where the gateway reads them (streams.gateway.secrets: the secrets path of
the settings, then BASIN_SECRET_<REF> variables); they are never printed.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import click

from stations.errors import SimulationError
from stations.formats.hj212 import BEIJING
from stations.registry import Registry
from stations.simulation.loggers import LoggerFaults, make_loggers
from stations.simulation.model import floor_time
from streams.gateway.secrets import Secrets, SecretsError
from streams.settings import Settings
from streams.testing.loggers import Options, run_loggers

#: Seconds a simulated logger's clock may be off at the start (the gateway sets it: 1013, 1012).
MAX_DRIFT = 120.0


def run_hj212(
    settings: Settings,
    registry: Registry,
    address: tuple[str, int],
    *,
    loggers: int | None,
    count: int | None,
    seconds: float | None,
    period: float,
    faults: str,
    seed: int,
    start: datetime | None,
) -> dict[str, object]:
    """Run the loggers to the end; their summary (``target`` added)."""
    try:
        rates = LoggerFaults.parse(faults)
        secrets = Secrets(settings.gateway_secrets_path)
    except (SimulationError, SecretsError) as exc:
        raise click.ClickException(str(exc)) from exc
    stations = [s for s in registry if s.hj212 is not None]
    if loggers is not None:
        stations = stations[:loggers]
    passwords = {}
    for station in stations:
        assert station.hj212 is not None
        password = secrets.get(station.hj212.password_ref)
        if password is None:
            raise click.ClickException(
                f"no password for {station.id}: secret {station.hj212.password_ref!r} is in "
                "neither BASIN_GATEWAY_SECRETS_PATH nor the environment"
            )
        passwords[station.id] = password.get_secret_value()
    try:
        run = make_loggers(stations, passwords, seed=seed, faults=rates, max_drift=MAX_DRIFT)
    except SimulationError as exc:
        raise click.ClickException(str(exc)) from exc
    if not run:
        raise click.ClickException("no station of the registry has an MN and an HJ 212 parameter")
    per_logger = -(-count // len(run)) if count is not None else int((seconds or 0) / period) + 1
    if start is None:  # observations end now: nothing from the future
        longest = max(lg.station.interval_minutes for lg in run)
        start = floor_time(datetime.now(BEIJING) - timedelta(minutes=longest * per_logger), longest)
    options = Options(
        address[0],
        address[1],
        reports=count,
        seconds=seconds,
        period=period,
        start=start,
        seed=seed,
        reconnect=0.01,
    )
    summary = asyncio.run(run_loggers(run, options))
    return {"target": f"{address[0]}:{address[1]}", **summary.as_dict()}
