"""Fixtures shared by the whole test suite: the local notification receivers and the browser."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from streams.testing.receivers import (
    SMTP_PASSWORD,
    SMTP_USERNAME,
    Certificate,
    HttpReceiver,
    SmtpReceiver,
    make_certificate,
)
from tests.browser import browser  # noqa: F401  (the headless-Chromium fixture)


@pytest.fixture
def http_receiver() -> Iterator[HttpReceiver]:
    """A fresh :class:`HttpReceiver`, closed after the test."""
    with HttpReceiver() as receiver:
        yield receiver


@pytest.fixture
def smtp_receiver() -> Iterator[SmtpReceiver]:
    """A plain :class:`SmtpReceiver`: no TLS, no login."""
    with SmtpReceiver() as receiver:
        yield receiver


@pytest.fixture(scope="session")
def smtp_certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    """A self-signed certificate for 127.0.0.1, made once per session."""
    return make_certificate(tmp_path_factory.mktemp("smtp-certificate"))


@pytest.fixture
def smtp_tls_receiver(smtp_certificate: Certificate) -> Iterator[SmtpReceiver]:
    """An :class:`SmtpReceiver` requiring STARTTLS, then login as SMTP_USERNAME/SMTP_PASSWORD."""
    with SmtpReceiver(
        starttls=True,
        username=SMTP_USERNAME,
        password=SMTP_PASSWORD,
        certificate=smtp_certificate,
    ) as receiver:
        yield receiver
