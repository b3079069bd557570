"""The InfluxDB 2.x connection of the store: one async client per process, made on first use
(it needs the running event loop), writing line protocol with second precision."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class InfluxSender:
    """A :data:`~streams.store.writer.Send` writing to ``bucket`` through influxdb-client;
    ``close()`` releases its HTTP session (the store agent calls it when it stops)."""

    def __init__(self, url: str, token: str, org: str, bucket: str, timeout_ms: int = 10_000):
        self._url, self._token, self._timeout = url, token, timeout_ms
        self._org, self._bucket = org, bucket
        self._client: Any = None

    async def __call__(self, lines: Sequence[str]) -> object:
        from influxdb_client import WritePrecision
        from influxdb_client.client.influxdb_client_async import InfluxDBClientAsync

        if self._client is None:
            self._client = InfluxDBClientAsync(
                url=self._url, token=self._token, org=self._org, timeout=self._timeout
            )
        return await self._client.write_api().write(
            bucket=self._bucket, org=self._org, record=list(lines), write_precision=WritePrecision.S
        )

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None
