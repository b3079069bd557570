"""Real local receivers for notification tests: an HTTP server and an SMTP server.

:class:`HttpReceiver` is a threaded HTTP server on 127.0.0.1 that records every request and
answers ``{"errcode":0,"errmsg":"ok"}`` by default, so it stands in for a generic webhook as
well as for WeCom and DingTalk robots. :class:`SmtpReceiver` is an aiosmtpd server on
127.0.0.1, optionally with STARTTLS (a self-signed certificate made with the ``openssl`` CLI)
and AUTH LOGIN/PLAIN.

Fixtures (in ``tests/conftest.py``, for the whole suite):

* ``http_receiver``: a fresh :class:`HttpReceiver`, closed after the test;
* ``smtp_receiver``: a plain :class:`SmtpReceiver` (no TLS, no login);
* ``smtp_tls_receiver``: one that requires STARTTLS and then login as
  :data:`SMTP_USERNAME` / :data:`SMTP_PASSWORD`; its :meth:`SmtpReceiver.server` gives the
  matching :class:`~alerts.channels.SmtpServer`, ``cafile`` included;
* ``smtp_certificate``: the session's self-signed certificate (for ``SmtpReceiver(...)``).
"""

from __future__ import annotations

import dataclasses
import email
import email.policy
import errno
import json
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import urllib.parse
from collections import deque
from dataclasses import dataclass
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from alerts.channels import SmtpServer

LOCALHOST = "127.0.0.1"
ROBOT_OK = {"errcode": 0, "errmsg": "ok"}
SMTP_USERNAME = "basinwatch"
SMTP_PASSWORD = "s3cret-pw"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (at the time of the call)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOCALHOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _wait(
    condition: threading.Condition, items: list[Any], count: int, timeout: float, what: str
) -> list[Any]:
    deadline = time.monotonic() + timeout
    with condition:
        while len(items) < count:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(
                    f"expected {count} {what} within {timeout:g} s, got {len(items)}: {items!r}"
                )
            condition.wait(left)
        return list(items)


# --- HTTP ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordedRequest:
    """One request the :class:`HttpReceiver` got, and the status it answered."""

    method: str
    path: str  # without the query string
    query: dict[str, str]  # decoded; the last value of a repeated name
    raw_query: str
    headers: dict[str, str]  # names lower-cased
    body: bytes
    json: Any  # the body parsed as JSON, None when it is not JSON
    status: int
    monotonic: float  # time.monotonic() at arrival
    wall: float  # time.time() at arrival

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


@dataclass(frozen=True)
class _Response:
    status: int
    body: bytes
    delay: float = 0.0


def _response_body(body: bytes | str | dict[str, Any] | list[Any]) -> bytes:
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


class HttpReceiver:
    """A real HTTP server on 127.0.0.1 (a free port) recording every request.

    Every path answers 200 ``{"errcode":0,"errmsg":"ok"}`` unless :meth:`set_response` says
    otherwise; :meth:`fail_next` makes the next requests (any path) fail first.
    """

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._requests: list[RecordedRequest] = []
        self._responses: dict[str, _Response] = {}
        self._failures: deque[_Response | None] = deque()  # None: answer normally
        self._closing = threading.Event()
        self._server = ThreadingHTTPServer((LOCALHOST, 0), self._handler_class())
        self._server.daemon_threads = True
        self.host = LOCALHOST
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"http-receiver-{self.port}",
            daemon=True,
        )
        self._thread.start()

    def url(self, path: str = "/") -> str:
        """The URL of ``path`` on this server (``path`` may carry a query string)."""
        if not path.startswith("/"):
            path = "/" + path
        return f"http://{self.host}:{self.port}{path}"

    @property
    def requests(self) -> list[RecordedRequest]:
        """The requests so far, oldest first (a copy)."""
        with self._condition:
            return list(self._requests)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[RecordedRequest]:
        """All requests once at least ``count`` arrived; AssertionError after ``timeout``."""
        return _wait(self._condition, self._requests, count, timeout, "HTTP requests")

    def fail_next(
        self,
        n: int,
        status: int = 500,
        body: bytes | str | dict[str, Any] = b"receiver failure",
        after: int = 0,
    ) -> None:
        """Answer the next ``n`` requests (whatever their path) with ``status`` and ``body``,
        after answering ``after`` requests normally."""
        failure = _Response(status, _response_body(body))
        with self._condition:
            self._failures.extend([None] * after + [failure] * n)

    def set_response(
        self,
        path: str,
        body: bytes | str | dict[str, Any] | list[Any] = ROBOT_OK,
        status: int = 200,
        delay: float = 0.0,
    ) -> None:
        """How requests to ``path`` (without query) are answered; ``delay`` seconds late."""
        with self._condition:
            self._responses[path] = _Response(status, _response_body(body), delay)

    def close(self) -> None:
        """Stop the server and wait for its thread."""
        self._closing.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)

    def __enter__(self) -> HttpReceiver:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _answer(self, handler: BaseHTTPRequestHandler, body: bytes) -> _Response:
        """Record the request and choose its answer (under the lock)."""
        split = urllib.parse.urlsplit(handler.path)
        with self._condition:
            response = self._failures.popleft() if self._failures else None
            if response is None:
                default = _Response(200, _response_body(ROBOT_OK))
                response = self._responses.get(split.path, default)
            try:
                parsed: Any = json.loads(body) if body else None
            except ValueError:
                parsed = None
            self._requests.append(
                RecordedRequest(
                    method=handler.command,
                    path=split.path,
                    query=dict(urllib.parse.parse_qsl(split.query, keep_blank_values=True)),
                    raw_query=split.query,
                    headers={name.lower(): value for name, value in handler.headers.items()},
                    body=body,
                    json=parsed,
                    status=response.status,
                    monotonic=time.monotonic(),
                    wall=time.time(),
                )
            )
            self._condition.notify_all()
        return response

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                try:
                    body = _read_body(self)
                    response = receiver._answer(self, body)
                    if response.delay and receiver._closing.wait(response.delay):
                        return
                    self.send_response(response.status)
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                    self.send_header("Content-Length", str(len(response.body)))
                    self.end_headers()
                    self.wfile.write(response.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (e.g. its timeout): nothing to answer

            do_GET = do_POST = do_PUT = do_DELETE = _handle

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep the test output clean

        return Handler


def _read_body(handler: BaseHTTPRequestHandler) -> bytes:
    if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
        chunks: list[bytes] = []
        while True:
            size = int(handler.rfile.readline().split(b";", 1)[0].strip(), 16)
            if size == 0:
                while handler.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return b"".join(chunks)
            chunks.append(handler.rfile.read(size))
            handler.rfile.readline()  # the CRLF after each chunk
    length = int(handler.headers.get("Content-Length") or 0)
    return handler.rfile.read(length) if length else b""


# --- SMTP ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Certificate:
    """A self-signed certificate for 127.0.0.1 and localhost; ``cert`` doubles as CA file."""

    cert: Path
    key: Path


def make_certificate(directory: Path) -> Certificate:
    """A self-signed EC certificate (valid two days) written by the ``openssl`` CLI."""
    cert, key = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    command = [
        "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
        "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=localhost",
        "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
    ]  # fmt: skip
    subprocess.run(command, check=True, capture_output=True, timeout=60)
    return Certificate(cert, key)


@dataclass(frozen=True)
class ReceivedMail:
    """One e-mail the :class:`SmtpReceiver` accepted."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage  # parsed with email.policy.default: headers come decoded
    raw: bytes
    login: str | None  # the user it logged in as, None without AUTH
    tls: bool  # whether the session was under STARTTLS
    monotonic: float
    wall: float

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def body(self) -> str:
        """The decoded text/plain body, with e-mail's CRLF line ends turned into ``\\n``."""
        part = self.message.get_body(("plain",))
        assert part is not None, "no text/plain part"
        content: str = part.get_content()
        return content.replace("\r\n", "\n")


class _Handler:
    def __init__(self, receiver: SmtpReceiver) -> None:
        self.receiver = receiver

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        return self.receiver._accept(session, envelope)


class SmtpReceiver:
    """A real SMTP server (aiosmtpd) on 127.0.0.1, a free port, recording every e-mail.

    With ``starttls`` clients must STARTTLS (certificate: ``certificate``, else one made now);
    with ``username`` and ``password`` they must then log in (AUTH LOGIN or PLAIN, offered
    only under TLS). :meth:`fail_next` rejects the next e-mails at DATA with an SMTP reply.
    """

    def __init__(
        self,
        *,
        starttls: bool = False,
        username: str | None = None,
        password: str | None = None,
        certificate: Certificate | None = None,
    ) -> None:
        if username is not None and not starttls:
            raise ValueError("AUTH is only offered under STARTTLS: pass starttls=True")
        self.host = LOCALHOST
        self.starttls = starttls
        self.username = username
        self.password = password
        self.certificate = certificate
        self._tempdir: tempfile.TemporaryDirectory[str] | None = None
        self._condition = threading.Condition()
        self._messages: list[ReceivedMail] = []
        self._failures: deque[str] = deque()

        kwargs: dict[str, Any] = {}
        if starttls:
            if self.certificate is None:
                self._tempdir = tempfile.TemporaryDirectory(prefix="smtp-receiver-")
                self.certificate = make_certificate(Path(self._tempdir.name))
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(self.certificate.cert, self.certificate.key)
            kwargs.update(tls_context=context, require_starttls=True)
        if username is not None:
            kwargs.update(
                authenticator=self._authenticate, auth_required=True, auth_require_tls=True
            )
        self._controller = self._start(kwargs)
        self.port: int = self._controller.port

    def _start(self, kwargs: dict[str, Any]) -> Controller:
        for _ in range(5):  # the free port may be taken between finding and binding it
            controller = Controller(
                _Handler(self),
                hostname=LOCALHOST,
                port=free_port(),
                server_hostname="localhost",
                ready_timeout=15.0,
                **kwargs,
            )
            try:
                controller.start()
            except OSError as exc:
                if exc.errno != errno.EADDRINUSE:
                    raise
                controller.loop.close()
                continue
            return controller
        raise RuntimeError("no free port for the SMTP receiver")

    def server(self, **overrides: Any) -> SmtpServer:
        """The :class:`SmtpServer` settings that reach this receiver (``overrides`` replace)."""
        cafile = str(self.certificate.cert) if self.starttls and self.certificate else None
        settings = SmtpServer(
            host=self.host,
            port=self.port,
            sender="basinwatch@localhost",
            starttls=self.starttls,
            username=self.username,
            password=self.password,
            cafile=cafile,
            timeout=10.0,
        )
        return dataclasses.replace(settings, **overrides)

    @property
    def messages(self) -> list[ReceivedMail]:
        """The e-mails accepted so far, oldest first (a copy)."""
        with self._condition:
            return list(self._messages)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[ReceivedMail]:
        """All e-mails once at least ``count`` arrived; AssertionError after ``timeout``."""
        return _wait(self._condition, self._messages, count, timeout, "e-mails")

    def fail_next(self, n: int, reply: str = "451 4.3.0 Try again later") -> None:
        """Reject the next ``n`` e-mails at DATA with ``reply`` (4xx temporary, 5xx not)."""
        with self._condition:
            self._failures.extend([reply] * n)

    def close(self) -> None:
        """Stop the server and remove a certificate it made."""
        self._controller.stop()
        if self._tempdir is not None:
            self._tempdir.cleanup()
            self._tempdir = None

    def __enter__(self) -> SmtpReceiver:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = (
            isinstance(data, LoginPassword)
            and data.login.decode("utf-8", "replace") == self.username
            and data.password.decode("utf-8", "replace") == self.password
        )
        return AuthResult(success=ok, handled=False, auth_data=data if ok else None)

    def _accept(self, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content
        assert isinstance(raw, bytes)
        with self._condition:
            if self._failures:
                return self._failures.popleft()
            auth = session.auth_data
            login = auth.login.decode("utf-8") if isinstance(auth, LoginPassword) else None
            message = email.message_from_bytes(raw, policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            self._messages.append(
                ReceivedMail(
                    mail_from=envelope.mail_from or "",
                    rcpt_tos=tuple(envelope.rcpt_tos),
                    message=message,
                    raw=raw,
                    login=login,
                    tls=session.ssl is not None,
                    monotonic=time.monotonic(),
                    wall=time.time(),
                )
            )
            self._condition.notify_all()
        return "250 OK"
