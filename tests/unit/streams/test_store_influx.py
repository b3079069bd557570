"""The InfluxDB sender tells an outage from a refusal by class, over a real HTTP connection."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import aiohttp
import pytest
from influxdb_client.rest import ApiException

from streams.errors import (
    DataRejected,
    StoreConfigError,
    StoreError,
    StoreRefused,
    StoreUnavailable,
)
from streams.store.influx import InfluxSender, classify


class Answer(BaseHTTPRequestHandler):
    """Answers every write with the status the test set on the server."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        status = self.server.status  # type: ignore[attr-defined]
        self.server.paths.append(self.path)  # type: ignore[attr-defined]
        body = b"" if status == 204 else json.dumps({"code": "x", "message": "why"}).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[ThreadingHTTPServer]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    httpd.status = 204  # type: ignore[attr-defined]
    httpd.paths = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def send(url: str) -> None:
    async def once() -> None:
        sender = InfluxSender(url, "token", "org", "bucket", timeout_ms=5000)
        try:
            await sender(["m v=1 1"])
        finally:
            await sender.close()

    asyncio.run(once())


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (503, StoreUnavailable),
        (500, StoreUnavailable),
        (429, StoreUnavailable),
        (400, DataRejected),
        (401, StoreConfigError),
        (404, StoreConfigError),
        (413, StoreRefused),
    ],
)
def test_http_answers_become_store_errors_by_class(
    server: ThreadingHTTPServer, status: int, error: type[StoreError]
) -> None:
    server.status = status  # type: ignore[attr-defined]
    with pytest.raises(error) as caught:
        send(f"http://127.0.0.1:{server.server_port}")
    assert type(caught.value) is error and caught.value.status == status
    assert isinstance(caught.value.__cause__, ApiException)
    assert isinstance(caught.value, StoreUnavailable) == (status == 429 or status >= 500)


def test_a_write_that_succeeds_raises_nothing(server: ThreadingHTTPServer) -> None:
    send(f"http://127.0.0.1:{server.server_port}")
    assert server.paths and server.paths[0].startswith("/api/v2/write")  # type: ignore[attr-defined]


def test_a_refused_connection_is_an_outage() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(StoreUnavailable, match="cannot be reached") as caught:
        send(f"http://127.0.0.1:{port}")
    assert caught.value.kind == "ClientConnectorError"


def test_classify_leaves_bugs_alone() -> None:
    assert classify(TypeError("bug")) is None
    assert classify(KeyError("bug")) is None
    assert isinstance(classify(TimeoutError()), StoreUnavailable)
    assert isinstance(classify(aiohttp.ServerDisconnectedError()), StoreUnavailable)
    assert isinstance(classify(ApiException(status=502, reason="Bad Gateway")), StoreUnavailable)
