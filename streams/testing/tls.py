"""A private certificate authority for TLS tests, and a TLS server that records handshakes.

:class:`PrivateCA` makes a CA and issues server and client certificates signed by it (with the
``openssl`` CLI, EC P-256, valid two days), as an organisation's own CA signs its Kafka brokers.
:class:`HandshakeServer` is a TLS server on 127.0.0.1 that records, per connection, whether the
handshake succeeded, the client certificate's subject (mutual TLS) and the first bytes the client
sent: enough to show that a client built from the settings verifies the server against the CA
(and, for Kafka clients, starts speaking Kafka) without a TLS-enabled broker.
"""

from __future__ import annotations

import socket
import ssl
import subprocess
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any


@dataclass(frozen=True)
class Issued:
    """A certificate (PEM) and its private key (PEM)."""

    cert: Path
    key: Path


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)


_NEW_KEY = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")


@dataclass(frozen=True)
class PrivateCA:
    """A self-signed CA in ``directory``: ``cert`` is the CA file a client trusts."""

    directory: Path
    cert: Path
    key: Path

    @classmethod
    def create(cls, directory: Path, name: str = "basinwatch test CA") -> PrivateCA:
        directory.mkdir(parents=True, exist_ok=True)
        cert, key = directory / "ca.pem", directory / "ca-key.pem"
        _openssl(
            "req", "-x509", *_NEW_KEY, "-keyout", str(key), "-out", str(cert), "-days", "2",
            "-subj", f"/CN={name}",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        )  # fmt: skip
        return cls(directory, cert, key)

    def issue(self, name: str, *, client: bool = False) -> Issued:
        """A certificate for ``name`` signed by this CA: for a server on localhost/127.0.0.1, or
        (``client``) for a client's mutual TLS."""
        cert, key = self.directory / f"{name}.pem", self.directory / f"{name}-key.pem"
        request = self.directory / f"{name}.csr"
        usage = "clientAuth" if client else "serverAuth"
        extensions = self.directory / f"{name}.ext"
        extensions.write_text(
            "basicConstraints=critical,CA:FALSE\n"
            "keyUsage=critical,digitalSignature\n"
            f"extendedKeyUsage={usage}\n"
            "subjectKeyIdentifier=hash\n"
            "authorityKeyIdentifier=keyid\n"
            + ("" if client else "subjectAltName=DNS:localhost,IP:127.0.0.1\n"),
            encoding="utf-8",
        )
        _openssl(
            "req", *_NEW_KEY, "-keyout", str(key), "-out", str(request), "-subj", f"/CN={name}"
        )
        _openssl(
            "x509", "-req", "-in", str(request), "-CA", str(self.cert), "-CAkey", str(self.key),
            "-CAcreateserial", "-days", "2", "-extfile", str(extensions), "-out", str(cert),
        )  # fmt: skip
        return Issued(cert, key)


def common_name(certificate: Mapping[str, Any] | None) -> str:
    """The subject's common name of a certificate as :meth:`ssl.SSLSocket.getpeercert` and
    :meth:`ssl.SSLContext.get_ca_certs` give it ("" when there is none)."""
    for rdn in (certificate or {}).get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                return str(value)
    return ""


@dataclass
class Handshake:
    """What one connection to a :class:`HandshakeServer` did."""

    ok: bool
    error: str = ""
    client_subject: str = ""
    received: bytes = b""


class HandshakeServer:
    """A TLS server on 127.0.0.1 with ``certificate``; with ``client_ca`` it requires a client
    certificate signed by it. Each connection is handshaken, its first bytes read, then closed."""

    def __init__(self, certificate: Issued, client_ca: Path | None = None) -> None:
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.load_cert_chain(str(certificate.cert), str(certificate.key))
        if client_ca is not None:
            self.context.load_verify_locations(str(client_ca))
            self.context.verify_mode = ssl.CERT_REQUIRED
        self.handshakes: list[Handshake] = []
        self._done = threading.Condition()
        self._socket = socket.create_server(("127.0.0.1", 0))
        self._socket.settimeout(0.2)
        self.port: int = self._socket.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="tls-handshakes", daemon=True)
        self._thread.start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._socket.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._handle(conn)

    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(5)
        tls = self.context.wrap_socket(conn, server_side=True, do_handshake_on_connect=False)
        try:
            tls.do_handshake()
            subject = common_name(tls.getpeercert())
            try:
                received = tls.recv(4096)
            except (OSError, ssl.SSLError):
                received = b""
            handshake = Handshake(True, "", subject, received)
        except (OSError, ssl.SSLError) as exc:
            handshake = Handshake(False, error=str(exc))
        finally:
            tls.close()
        with self._done:
            self.handshakes.append(handshake)
            self._done.notify_all()

    def wait_for(self, count: int = 1, timeout: float = 10.0) -> list[Handshake]:
        """The first ``count`` handshakes; TimeoutError if fewer came."""
        with self._done:
            if not self._done.wait_for(lambda: len(self.handshakes) >= count, timeout):
                raise TimeoutError(f"{len(self.handshakes)} of {count} connections in {timeout} s")
            return list(self.handshakes[:count])

    def close(self) -> None:
        self._stop.set()
        self._socket.close()
        self._thread.join(5)

    def __enter__(self) -> HandshakeServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
