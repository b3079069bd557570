"""What a notification is and where it can go: the contracts between routing and notifiers.

Pure: no network code here. :mod:`alerts.config` builds channels from the alerts YAML,
:mod:`alerts.notifiers` sends a :class:`Message` over one channel.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Message:
    """One notification, rendered for every kind of channel.

    ``key`` identifies it for deduplication (the same key is never delivered twice to one
    receiver); ``title`` is one line; ``markdown`` is for WeCom and DingTalk robots; ``text`` is
    the plain-text e-mail body; ``data`` is the machine-readable form a webhook receives.
    """

    key: str
    title: str
    markdown: str
    text: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class WebhookChannel:
    """POST the message's JSON (``{"key", "title", "text", "markdown", "data"}``) to a URL."""

    url: str
    kind: str = "webhook"


@dataclass(frozen=True)
class WeComChannel:
    """A WeCom (企业微信) group robot: ``{"msgtype": "markdown", ...}`` to its webhook URL."""

    url: str
    mentioned_mobiles: tuple[str, ...] = ()
    kind: str = "wecom"


@dataclass(frozen=True)
class DingTalkChannel:
    """A DingTalk (钉钉) group robot; with a ``secret`` every request is signed (timestamp and
    HMAC-SHA256 sign in the query string). The secret is read from the environment variable the
    YAML names, never from the YAML itself."""

    url: str
    secret: str | None = field(default=None, repr=False)
    at_mobiles: tuple[str, ...] = ()
    kind: str = "dingtalk"


@dataclass(frozen=True)
class EmailChannel:
    """E-mail to these addresses through the configured SMTP server."""

    to: tuple[str, ...]
    kind: str = "email"


Channel = WebhookChannel | WeComChannel | DingTalkChannel | EmailChannel


@dataclass(frozen=True)
class SmtpServer:
    """The SMTP server for e-mail channels. STARTTLS and login are optional."""

    host: str
    port: int = 25
    sender: str = "basinwatch@localhost"
    starttls: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    cafile: str | None = None  # CA bundle to verify the server's certificate (STARTTLS)
    timeout: float = 10.0


@dataclass(frozen=True)
class Receiver:
    """A named on-call target (a duty desk, a person) with the channels that reach it."""

    name: str
    channels: tuple[Channel, ...]


def describe(channel: Channel) -> str:
    """A channel for logs and delivery records: its kind and where, never a secret."""
    if isinstance(channel, EmailChannel):
        return f"email:{','.join(channel.to)}"
    url = channel.url.split("?", 1)[0]  # robot keys and tokens live in the query string
    return f"{channel.kind}:{url}"
