"""Fixtures shared by the whole test suite."""

from streams.testing.receivers import (  # noqa: F401  (fixtures: registered by being imported here)
    http_receiver,
    smtp_certificate,
    smtp_receiver,
    smtp_tls_receiver,
)
from tests.browser import browser  # noqa: F401  (the headless-Chromium fixture)
