"""The InfluxDB 2.x connection of the store: one async client per process, made on first use
(it needs the running event loop), writing line protocol with second precision."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from streams.store.writer import Send


def influx_sender(url: str, token: str, org: str, bucket: str, timeout_ms: int = 10_000) -> Send:
    """A :data:`~streams.store.writer.Send` writing to ``bucket`` through influxdb-client."""
    from influxdb_client import WritePrecision
    from influxdb_client.client.influxdb_client_async import InfluxDBClientAsync

    client: dict[str, Any] = {}

    async def send(lines: Sequence[str]) -> object:
        if "api" not in client:
            client["api"] = InfluxDBClientAsync(
                url=url, token=token, org=org, timeout=timeout_ms
            ).write_api()
        return await client["api"].write(
            bucket=bucket, org=org, record=list(lines), write_precision=WritePrecision.S
        )

    return send
