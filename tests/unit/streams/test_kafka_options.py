"""The one set of Kafka connection options: what kafka-python, aiokafka and Faust get under TLS
and SASL, and real TLS handshakes against a private CA (a local TLS server stands in for a
broker; the clients are the real ones, built from the settings)."""

from __future__ import annotations

import asyncio
import gc
import os
import ssl
import warnings
from collections.abc import Iterator
from pathlib import Path

import faust
import pytest
from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth
from pydantic import ValidationError

from streams.app import broker_credentials
from streams.errors import KafkaUnavailableError
from streams.settings import Settings
from streams.testing.tls import HandshakeServer, Issued, PrivateCA, common_name
from streams.topics import admin_client

API_VERSIONS = b"\x00\x12"  # Kafka's ApiVersions request key: the first a client sends


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("BASIN_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray .env


@pytest.fixture(autouse=True)
def collect_client_sockets() -> Iterator[None]:
    """kafka-python 3.0.12 and aiokafka leave the sockets of a failed bootstrap to the garbage
    collector: collect them after each test here, their ResourceWarning being third-party noise
    (else it fails whichever later test the collector happens to run in)."""
    yield
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "unclosed <ssl.SSLSocket", ResourceWarning)
        gc.collect()


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> PrivateCA:
    return PrivateCA.create(tmp_path_factory.mktemp("private-ca"), "Taihu basin bureau CA")


@pytest.fixture(scope="module")
def broker_cert(ca: PrivateCA) -> Issued:
    return ca.issue("broker")


@pytest.fixture
def tls_broker(broker_cert: Issued) -> Iterator[HandshakeServer]:
    with HandshakeServer(broker_cert) as server:
        yield server


def ca_subjects(context: ssl.SSLContext) -> list[str]:
    return [common_name(cert) for cert in context.get_ca_certs()]


def tls_settings(address: str, ca: PrivateCA, **extra: object) -> Settings:
    """SSL to ``address`` with ``ca`` as the CA file; ``extra`` settings on top."""
    values = {"kafka_security_protocol": "SSL"} | extra
    return Settings(kafka_bootstrap_servers=address, kafka_ssl_cafile=ca.cert, **values)  # type: ignore[arg-type]


def test_ssl_options_trust_the_configured_ca_for_kafka_python_and_faust(ca: PrivateCA) -> None:
    options = tls_settings("k1:9093,k2:9093", ca).kafka_client_options()
    assert options["security_protocol"] == "SSL"
    assert options["bootstrap_servers"] == ["k1:9093", "k2:9093"]
    context = options["ssl_context"]
    assert ca_subjects(context) == ["Taihu basin bureau CA"]
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    credentials = broker_credentials(options)
    assert isinstance(credentials, faust.SSLCredentials)
    assert credentials.context is context
    assert credentials_to_aiokafka_auth(credentials) == {
        "security_protocol": "SSL",
        "ssl_context": context,
    }


def test_sasl_ssl_with_scram_gives_every_client_the_same_login_and_ca(ca: PrivateCA) -> None:
    settings = tls_settings(
        "k1:9093",
        ca,
        kafka_security_protocol="SASL_SSL",
        kafka_sasl_mechanism="SCRAM-SHA-512",
        kafka_sasl_username="jsbureau",
        kafka_sasl_password="s3cr3t-Real",
    )
    options = settings.kafka_client_options()
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert options["sasl_plain_username"] == "jsbureau"
    assert options["sasl_plain_password"] == "s3cr3t-Real"
    assert ca_subjects(options["ssl_context"]) == ["Taihu basin bureau CA"]
    auth = credentials_to_aiokafka_auth(broker_credentials(options))
    assert auth == {
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "jsbureau",
        "sasl_plain_password": "s3cr3t-Real",
        "ssl_context": options["ssl_context"],
    }


def test_sasl_plaintext_has_no_tls_and_plaintext_has_neither() -> None:
    sasl = Settings(
        kafka_security_protocol="SASL_PLAINTEXT",
        kafka_sasl_mechanism="PLAIN",
        kafka_sasl_username="u",
        kafka_sasl_password="p",
    ).kafka_client_options()
    assert "ssl_context" not in sasl and sasl["sasl_mechanism"] == "PLAIN"
    assert credentials_to_aiokafka_auth(broker_credentials(sasl))["security_protocol"] == (
        "SASL_PLAINTEXT"
    )
    plain = Settings().kafka_client_options()
    assert plain == {
        "bootstrap_servers": ["127.0.0.1:9092"],
        "security_protocol": "PLAINTEXT",
        "client_id": "basinwatch",
    }
    assert broker_credentials(plain) is None


def test_tls_files_are_checked_when_the_settings_are_built(ca: PrivateCA, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="kafka_ssl_cafile"):
        Settings(kafka_security_protocol="SSL", kafka_ssl_cafile=tmp_path / "missing.pem")
    with pytest.raises(ValidationError, match="BASIN_KAFKA_SSL_CAFILE is set but"):
        Settings(kafka_ssl_cafile=ca.cert)  # PLAINTEXT would ignore it
    with pytest.raises(ValidationError, match="needs BASIN_KAFKA_SSL_CERTFILE"):
        Settings(kafka_security_protocol="SSL", kafka_ssl_keyfile=ca.key)


def test_the_admin_client_of_topics_ensure_verifies_the_broker_against_the_private_ca(
    ca: PrivateCA, tls_broker: HandshakeServer
) -> None:
    settings = tls_settings(tls_broker.address, ca)
    with pytest.raises(KafkaUnavailableError):  # the stand-in speaks no Kafka
        admin_client(settings, bootstrap_timeout_ms=1500)
    first = tls_broker.wait_for(1)[0]
    assert first.ok, first.error
    assert first.received[4:6] == API_VERSIONS and b"basinwatch" in first.received


def test_a_broker_signed_by_another_ca_is_refused(ca: PrivateCA, tmp_path: Path) -> None:
    stranger = PrivateCA.create(tmp_path / "other-ca", "Someone else's CA").issue("broker")
    with HandshakeServer(stranger) as server:
        with pytest.raises(KafkaUnavailableError):
            admin_client(tls_settings(server.address, ca), bootstrap_timeout_ms=1500)
        first = server.wait_for(1)[0]
    assert not first.ok and "unknown ca" in first.error and first.received == b""


def test_mutual_tls_presents_the_client_certificate(ca: PrivateCA, broker_cert: Issued) -> None:
    client = ca.issue("basin-client", client=True)
    with HandshakeServer(broker_cert, client_ca=ca.cert) as server:
        settings = tls_settings(
            server.address, ca, kafka_ssl_certfile=client.cert, kafka_ssl_keyfile=client.key
        )
        with pytest.raises(KafkaUnavailableError):
            admin_client(settings, bootstrap_timeout_ms=1500)
        first = server.wait_for(1)[0]
    assert first.ok, first.error
    assert first.client_subject == "basin-client"


def test_aiokafka_with_fausts_credentials_verifies_against_the_private_ca(
    ca: PrivateCA, tls_broker: HandshakeServer
) -> None:
    from aiokafka import AIOKafkaConsumer
    from aiokafka.errors import KafkaConnectionError

    options = tls_settings(tls_broker.address, ca).kafka_client_options()
    auth = credentials_to_aiokafka_auth(broker_credentials(options))

    async def connect() -> None:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=options["bootstrap_servers"], request_timeout_ms=3000, **auth
        )
        try:
            await consumer.start()
        finally:
            await consumer.stop()

    with pytest.raises(KafkaConnectionError):
        asyncio.run(connect())
    first = tls_broker.wait_for(1)[0]
    assert first.ok, first.error
    assert first.received[4:6] == API_VERSIONS
