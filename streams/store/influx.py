"""The InfluxDB 2.x connection of the store: one async client per process, made on first use
(it needs the running event loop), writing line protocol with second precision (dead letters:
nanoseconds).

What goes wrong is told apart here, by class (:mod:`streams.errors`): an outage (the connection
refused or reset, a timeout, HTTP 5xx or 429) raises :class:`~streams.errors.StoreUnavailable`,
which the writer retries; a refusal (400, 401, 403, 404, any other 4xx) a
:class:`~streams.errors.StoreRefused`, which it does not. Any other exception is a bug and
propagates as it is.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import aiohttp
import urllib3.exceptions
from influxdb_client.rest import ApiException

from streams.errors import (
    DataRejected,
    StoreConfigError,
    StoreError,
    StoreRefused,
    StoreUnavailable,
)

#: Exceptions of the transports (aiohttp for the async client, urllib3 for the sync one) that
#: mean the server could not be reached or did not answer in time.
OUTAGES: tuple[type[BaseException], ...] = (
    aiohttp.ClientConnectionError,  # refused, reset, server disconnected, connector errors
    aiohttp.ClientPayloadError,  # the response broke off
    asyncio.TimeoutError,  # TimeoutError since Python 3.11
    ConnectionError,
    urllib3.exceptions.NewConnectionError,
    urllib3.exceptions.ConnectTimeoutError,
    urllib3.exceptions.ReadTimeoutError,
    urllib3.exceptions.ProtocolError,
    urllib3.exceptions.MaxRetryError,
)

_HINT = "check BASIN_INFLUX_TOKEN, BASIN_INFLUX_ORG and BASIN_INFLUX_BUCKET"


def from_status(status: int, detail: str) -> StoreError:
    """The store error of an HTTP answer that is not a success."""
    if status == 429 or status >= 500:
        return StoreUnavailable(f"InfluxDB answered {status}: {detail}", status)
    if status == 400:
        return DataRejected(detail, status)
    if status in (401, 403, 404):
        return StoreConfigError(f"InfluxDB answered {status}: {_HINT} ({detail})", status)
    return StoreRefused(f"InfluxDB refused the write with {status}: {detail}", status)


def classify(exc: BaseException) -> StoreError | None:
    """The store error an exception of the InfluxDB client means; None for anything else (a
    bug, which must propagate as it is)."""
    if isinstance(exc, ApiException):
        detail = str(getattr(exc, "message", None) or exc.reason or exc)
        return from_status(int(exc.status or 0), detail)
    if isinstance(exc, OUTAGES):
        kind = type(exc).__name__
        return StoreUnavailable(f"InfluxDB cannot be reached: {kind}: {exc}", kind=kind)
    return None


class InfluxSender:
    """A :data:`~streams.store.writer.Send` writing to ``bucket`` through influxdb-client;
    ``close()`` releases its HTTP session (the store agent calls it when it stops)."""

    def __init__(self, url: str, token: str, org: str, bucket: str, timeout_ms: int = 10_000):
        self._url, self._token, self._timeout = url, token, timeout_ms
        self._org, self._bucket = org, bucket
        self._client: Any = None

    async def __call__(
        self, lines: Sequence[str], bucket: str | None = None, precision: str | None = None
    ) -> object:
        """Write ``lines`` to ``bucket`` (default: the sender's) with timestamps in ``precision``
        (default: seconds); StoreUnavailable on an outage, StoreRefused on a refusal."""
        from influxdb_client import WritePrecision

        try:
            return (
                await self._connected()
                .write_api()
                .write(
                    bucket=bucket or self._bucket,
                    org=self._org,
                    record=list(lines),
                    write_precision=precision or WritePrecision.S,
                )
            )
        except Exception as exc:
            error = classify(exc)
            if error is None:
                raise
            raise error from exc

    def _connected(self) -> Any:
        from influxdb_client.client.influxdb_client_async import InfluxDBClientAsync

        if self._client is None:
            self._client = InfluxDBClientAsync(
                url=self._url, token=self._token, org=self._org, timeout=self._timeout
            )
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None
