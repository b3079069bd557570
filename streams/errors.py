"""Errors of the streams package.

StreamsError                 root: everything raised on purpose by streams/
├── KafkaUnavailableError    the brokers cannot be reached or refused a request
├── TopicError               a project topic cannot be created or has the wrong shape
├── NotHealthy               a /health URL did not answer 200 in time, or its process exited
├── PointError               a message the store cannot turn into points (names the field);
│                            dead-lettered as ``store_invalid``
└── StoreError               the InfluxDB store (streams.store); ``status``: the HTTP status, if any
    ├── StoreUnavailable     retryable: an outage (connection refused or reset, timeout, 5xx, 429)
    └── StoreRefused         not retryable: InfluxDB answered and refused the request (other 4xx)
        ├── DataRejected     400: the points themselves (their messages are dead-lettered)
        └── StoreConfigError 401, 403, 404: the token, org or bucket (the store stops)

Retry is decided by class: the store retries :class:`StoreUnavailable` only, with back-off. A
refusal, and any exception that is not a :class:`StreamsError` (a programming error such as a
``TypeError``), stops the store with the message instead of being retried.

A message that does not decode into its record raises the domain's
:class:`~stations.errors.MessageError` (it is not a streams error: the record is the domain's);
the agents turn it, and only it, into a dead letter, never a ``KeyError`` or ``TypeError``.
"""

from __future__ import annotations


class StreamsError(Exception):
    """Root of the errors raised by streams/."""


class KafkaUnavailableError(StreamsError):
    """The brokers cannot be reached; the message names them and what to check."""


class TopicError(StreamsError):
    """A project topic cannot be created or has the wrong shape."""


class StoreError(StreamsError):
    """The store could not write to InfluxDB; ``status`` is the HTTP status when it answered."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class StoreUnavailable(StoreError):
    """InfluxDB cannot be reached or is overloaded: an outage, retried with back-off.
    ``kind`` names the cause for the counters (``HTTP 503``, ``ClientConnectorError``)."""

    def __init__(self, message: str, status: int | None = None, kind: str = "") -> None:
        super().__init__(message, status)
        self.kind = kind or (f"HTTP {status}" if status else "unavailable")


class StoreRefused(StoreError):
    """InfluxDB answered and refused the request: retrying the same request cannot help."""


class DataRejected(StoreRefused):
    """InfluxDB refused the data itself (HTTP 400, e.g. bad line protocol)."""


class StoreConfigError(StoreRefused):
    """InfluxDB refused the credentials or does not know the org or bucket (401, 403, 404)."""


class NotHealthy(StreamsError):
    """A ``/health`` URL did not answer 200 in time, or its process exited while waited for."""


class PointError(StreamsError, ValueError):
    """A message the store cannot turn into points (names the field)."""
