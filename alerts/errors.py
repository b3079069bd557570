"""The exceptions of the alerts package.

::

    AlertsError                      root: everything alerts/ raises on purpose
    ├── AlertsConfigError            alerts.yaml is wrong; also a stations ConfigError (.problems:
    │                                every file, line and message); the worker does not start
    ├── RecordError                  a document on wq.alerts or wq.alerts.commands that is not a
    │                                valid record (names the field); the alert agent dead-letters it
    ├── CommandError                 an acknowledgement or silence request that is not well formed
    │                                (names the field); the HTTP API answers 400
    ├── CommandRefusedError          a valid command the station's state cannot take (no such
    │                                alert, not firing, a silence ending before it starts);
    │                                dead-lettered
    └── DeliveryError                a notification could not be delivered over a channel; names
        │                            the channel, never a secret (URL query strings are stripped)
        ├── TemporaryDeliveryError   may succeed later: connection trouble, timeouts, HTTP 429 and
        │                            5xx, robot rate limits, SMTP 4xx; retried with back-off
        └── PermanentDeliveryError   will not: other HTTP answers, robot error codes, TLS failures,
                                     no SMTP server, refused addresses, a bug in a notifier;
                                     given up at once

Whether a delivery is retried is decided by the class (``retryable`` says the same), never by
inspecting the message. A ``KeyError`` or ``TypeError`` is a bug: no agent turns one into a dead
letter.
"""

from __future__ import annotations

import re
from typing import ClassVar

from stations.errors import ConfigError

_URL_QUERY = re.compile(r"(https?://[^\s?#'\"<>]*)\?[^\s'\"<>]*")


class AlertsError(Exception):
    """Root of every error raised on purpose by the alerts package."""


class AlertsConfigError(ConfigError, AlertsError):
    """The alerts configuration (alerts.yaml) is invalid."""


class RecordError(AlertsError):
    """A document read from an alerts topic is not a valid record; the message names the field
    (e.g. ``Object missing required field `station` - at `$.changes[0].alert```)."""


class CommandError(AlertsError):
    """A command request (acknowledgement, silence) that is not well formed; says what and
    where."""


class CommandRefusedError(AlertsError):
    """A well-formed command that cannot apply to the station's state (unknown alert, an alert
    that is not firing, a silence whose end is not after its start)."""


def redact(text: str) -> str:
    """Strip query strings (where robot tokens and signatures live) from URLs in ``text``."""
    return _URL_QUERY.sub(r"\1?…", text)


class DeliveryError(AlertsError):
    """A message could not be delivered over a channel.

    ``str(error)`` is ``"<describe(channel)>: <what went wrong>"``. Raise one of the two
    subclasses (or :meth:`of` when the answer decides): :class:`TemporaryDeliveryError` is
    retried, :class:`PermanentDeliveryError` is not.
    """

    retryable: ClassVar[bool] = False

    def __init__(self, channel: str, reason: str) -> None:
        self.channel = channel
        self.reason = redact(reason)
        super().__init__(f"{channel}: {self.reason}")

    @staticmethod
    def of(channel: str, reason: str, *, retryable: bool) -> DeliveryError:
        """The temporary or the permanent error, as ``retryable`` says."""
        cls = TemporaryDeliveryError if retryable else PermanentDeliveryError
        return cls(channel, reason)


class TemporaryDeliveryError(DeliveryError):
    """The same request may succeed later (an outage, a rate limit): retried with back-off."""

    retryable = True


class PermanentDeliveryError(DeliveryError):
    """The same request will fail again (a refusal, a configuration problem): not retried."""

    retryable = False
