"""Errors of the streams package.

StreamsError                 root: everything raised on purpose by streams/
├── KafkaUnavailableError    the brokers cannot be reached or refused a request
└── TopicError               a project topic cannot be created or has the wrong shape
"""

from __future__ import annotations


class StreamsError(Exception):
    """Root of the errors raised by streams/."""


class KafkaUnavailableError(StreamsError):
    """The brokers cannot be reached; the message names them and what to check."""


class TopicError(StreamsError):
    """A project topic cannot be created or has the wrong shape."""
