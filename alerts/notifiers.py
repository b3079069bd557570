"""Send a :class:`~alerts.channels.Message` over one channel, with retries.

One small interface over four kinds of channel:

* :class:`WebhookNotifier` POSTs the message as JSON to any URL; a 2xx answer is success.
* :class:`WeComNotifier` posts markdown to a WeCom (企业微信) group robot. WeCom's markdown
  messages cannot @-mention by mobile number, so when the channel names ``mentioned_mobiles``
  a follow-up ``text`` message (the title, with ``mentioned_mobile_list``) is sent after the
  markdown one.
* :class:`DingTalkNotifier` posts markdown to a DingTalk (钉钉) group robot, signed with the
  robot's secret when there is one (see :func:`dingtalk_sign`).
* :class:`EmailNotifier` sends a plain-text UTF-8 e-mail through an SMTP server (stdlib
  :mod:`smtplib` in a worker thread), with optional STARTTLS and login.

Every ``send`` raises a :class:`~alerts.errors.DeliveryError` on failure: a
:class:`~alerts.errors.TemporaryDeliveryError` when trying again may help, a
:class:`~alerts.errors.PermanentDeliveryError` when it will not. :class:`Notifiers` owns the
HTTP session, builds the right notifier for a channel and :meth:`Notifiers.deliver` retries the
temporary errors with exponential backoff; it never raises for a failed delivery but returns a
:class:`~alerts.records.ChannelDelivery` record.

Errors name the channel with :func:`~alerts.channels.describe` and never carry secrets: robot
access tokens live in URL query strings, which are stripped from every error text.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import smtplib
import ssl
import time
import urllib.parse
from collections.abc import Awaitable, Callable
from email.message import EmailMessage
from types import TracebackType
from typing import Any, Protocol

import aiohttp

from alerts.channels import (
    Channel,
    DingTalkChannel,
    EmailChannel,
    Message,
    SmtpServer,
    WebhookChannel,
    WeComChannel,
    describe,
)
from alerts.errors import DeliveryError, PermanentDeliveryError, TemporaryDeliveryError
from alerts.records import ChannelDelivery

log = logging.getLogger(__name__)

HTTP_TIMEOUT = 10.0  # seconds, for one whole HTTP request (connect, send, read the answer)
EXCERPT_CHARS = 200  # how much of an error answer's body goes into an error message

WECOM_RATE_LIMITED = 45009  # "api freq out of limit": a robot sends at most 20 messages/minute
DINGTALK_RATE_LIMITED = 130101  # "send too fast": a robot sends at most 20 messages/minute

JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8"}


class Notifier(Protocol):
    """Sends messages over one channel."""

    async def send(self, message: Message) -> None:
        """Deliver ``message`` once; raise :class:`DeliveryError` when that fails."""
        ...


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """The ``sign`` query parameter of a DingTalk custom robot with signing ("加签") enabled.

    DingTalk's documented scheme: HMAC-SHA256 keyed with the secret over
    ``f"{timestamp_ms}\\n{secret}"``, base64-encoded, then URL-encoded. The request also carries
    ``timestamp=<timestamp_ms>``, which must be within one hour of DingTalk's clock.
    """
    string_to_sign = f"{timestamp_ms}\n{secret}"
    digest = hmac.new(
        secret.encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha256
    ).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest).decode("ascii"))


def dingtalk_signed_url(url: str, secret: str, timestamp_ms: int) -> str:
    """``url`` with ``timestamp`` and ``sign`` appended to its query string."""
    separator = "&" if "?" in url else "?"
    if url.endswith(("?", "&")):
        separator = ""
    return f"{url}{separator}timestamp={timestamp_ms}&sign={dingtalk_sign(secret, timestamp_ms)}"


def _excerpt(body: bytes) -> str:
    """The start of an answer's body, on one line, for an error message."""
    text = " ".join(body.decode("utf-8", errors="replace").split())
    if len(text) > EXCERPT_CHARS:
        return text[:EXCERPT_CHARS] + "…"
    return text or "(empty body)"


def _http_status_retryable(status: int) -> bool:
    return status == 429 or status >= 500


class _HttpNotifier:
    """Shared HTTP plumbing: POST a JSON body and classify what can go wrong."""

    def __init__(self, session: aiohttp.ClientSession, channel: Channel, timeout: float) -> None:
        self.session = session
        self.description = describe(channel)
        self.timeout = aiohttp.ClientTimeout(total=timeout)

    def error(self, reason: str, *, retryable: bool) -> DeliveryError:
        return DeliveryError.of(self.description, reason, retryable=retryable)

    def encode(self, payload: dict[str, Any]) -> bytes:
        try:
            return json.dumps(payload, ensure_ascii=False).encode("utf-8")
        except (TypeError, ValueError) as exc:
            raise self.error(f"message is not JSON-serializable: {exc}", retryable=False) from exc

    async def post(self, url: str, payload: dict[str, Any]) -> tuple[int, bytes]:
        """POST ``payload`` as UTF-8 JSON; the answer's status and body.

        Raises :class:`DeliveryError` for connection errors and timeouts (retryable) and for an
        HTTP status other than 2xx (retryable for 429 and 5xx).
        """
        body = self.encode(payload)
        try:
            async with self.session.post(
                url, data=body, headers=JSON_HEADERS, timeout=self.timeout
            ) as response:
                status = response.status
                answer = await response.read()
        except TimeoutError as exc:
            # aiohttp's own timeouts (ServerTimeoutError...) are TimeoutError subclasses too
            reason = f"timed out after {self.timeout.total:g} s"
            raise self.error(reason, retryable=True) from exc
        except aiohttp.ClientConnectorCertificateError as exc:
            raise self.error(f"TLS certificate error: {exc}", retryable=False) from exc
        except aiohttp.InvalidURL as exc:
            raise self.error(f"invalid URL: {exc}", retryable=False) from exc
        except aiohttp.ClientConnectionError as exc:
            raise self.error(f"connection error: {exc}", retryable=True) from exc
        except aiohttp.ClientError as exc:
            raise self.error(f"HTTP error: {exc!r}", retryable=True) from exc
        if not 200 <= status < 300:
            reason = f"HTTP {status}: {_excerpt(answer)}"
            raise self.error(reason, retryable=_http_status_retryable(status))
        return status, answer

    async def post_to_robot(self, url: str, payload: dict[str, Any], rate_limited: int) -> None:
        """POST to a WeCom or DingTalk robot: success is HTTP 2xx and ``errcode == 0``."""
        _, answer = await self.post(url, payload)
        try:
            result = json.loads(answer)
        except ValueError:
            result = None
        if not isinstance(result, dict) or "errcode" not in result:
            reason = f"robot answered without an errcode: {_excerpt(answer)}"
            raise self.error(reason, retryable=False)
        errcode = result["errcode"]
        if errcode != 0:
            reason = f"robot errcode {errcode}: {result.get('errmsg', '')}"
            raise self.error(reason, retryable=errcode == rate_limited)


class WebhookNotifier(_HttpNotifier):
    """POST ``{"key", "title", "text", "markdown", "data"}`` as UTF-8 JSON; 2xx is success."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        channel: WebhookChannel,
        timeout: float = HTTP_TIMEOUT,
    ) -> None:
        super().__init__(session, channel, timeout)
        self.channel = channel

    async def send(self, message: Message) -> None:
        payload = {
            "key": message.key,
            "title": message.title,
            "text": message.text,
            "markdown": message.markdown,
            "data": message.data,
        }
        await self.post(self.channel.url, payload)


class WeComNotifier(_HttpNotifier):
    """A WeCom group robot: a ``markdown`` message, then a ``text`` one for @-mentions.

    WeCom markdown cannot mention by mobile number, so with ``mentioned_mobiles`` the title
    goes out again as a text message carrying ``mentioned_mobile_list``. When the markdown
    message got through but the mention did not, sending the same message (same key) again
    with this notifier only retries the mention, so a retry never duplicates the markdown.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        channel: WeComChannel,
        timeout: float = HTTP_TIMEOUT,
    ) -> None:
        super().__init__(session, channel, timeout)
        self.channel = channel
        self._markdown_sent: str | None = None  # key of the message whose markdown got through

    async def send(self, message: Message) -> None:
        if self._markdown_sent != message.key:
            markdown = {"msgtype": "markdown", "markdown": {"content": message.markdown}}
            await self.post_to_robot(self.channel.url, markdown, WECOM_RATE_LIMITED)
            self._markdown_sent = message.key
        if self.channel.mentioned_mobiles:
            mention = {
                "msgtype": "text",
                "text": {
                    "content": message.title,
                    "mentioned_mobile_list": list(self.channel.mentioned_mobiles),
                },
            }
            await self.post_to_robot(self.channel.url, mention, WECOM_RATE_LIMITED)
        self._markdown_sent = None


class DingTalkNotifier(_HttpNotifier):
    """A DingTalk group robot: a ``markdown`` message, @-mentioning ``at_mobiles``.

    With a secret, every request is signed afresh (``timestamp`` and ``sign`` in the query).
    The markdown is sent as is: for DingTalk to highlight an @-mention in the message, the
    renderer should put ``@<mobile>`` in the markdown itself (``atMobiles`` alone notifies).
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        channel: DingTalkChannel,
        timeout: float = HTTP_TIMEOUT,
        clock: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(session, channel, timeout)
        self.channel = channel
        self.clock = clock

    def url(self) -> str:
        """The robot URL, signed with the current time when the channel has a secret."""
        if not self.channel.secret:
            return self.channel.url
        return dingtalk_signed_url(
            self.channel.url, self.channel.secret, round(self.clock() * 1000)
        )

    async def send(self, message: Message) -> None:
        payload = {
            "msgtype": "markdown",
            "markdown": {"title": message.title, "text": message.markdown},
            "at": {"atMobiles": list(self.channel.at_mobiles), "isAtAll": False},
        }
        await self.post_to_robot(self.url(), payload, DINGTALK_RATE_LIMITED)


class EmailNotifier:
    """A plain-text UTF-8 e-mail (subject = title, body = text) through an SMTP server.

    :mod:`smtplib` blocks, so each send runs in a worker thread. With ``starttls`` the server's
    certificate is verified (against ``cafile`` when given, else the system's CAs) before
    logging in.
    """

    def __init__(self, smtp: SmtpServer, channel: EmailChannel) -> None:
        self.smtp = smtp
        self.channel = channel
        self.description = describe(channel)

    def email(self, message: Message) -> EmailMessage:
        email = EmailMessage()
        email["Subject"] = message.title
        email["From"] = self.smtp.sender
        email["To"] = ", ".join(self.channel.to)
        email.set_content(message.text, charset="utf-8")
        return email

    async def send(self, message: Message) -> None:
        if not self.channel.to:
            raise PermanentDeliveryError(self.description, "no recipient addresses")
        email = self.email(message)
        try:
            await asyncio.to_thread(self._send_blocking, email)
        except DeliveryError:
            raise
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            refused = "; ".join(
                f"{address}: {code} {_smtp_text(text)}"
                for address, (code, text) in exc.recipients.items()
            )
            retryable = all(400 <= code < 500 for code in codes)
            raise self.error(f"SMTP recipients refused: {refused}", retryable) from exc
        except smtplib.SMTPAuthenticationError as exc:
            reason = f"SMTP login failed: {exc.smtp_code} {_smtp_text(exc.smtp_error)}"
            raise self.error(reason, 400 <= exc.smtp_code < 500) from exc
        except smtplib.SMTPResponseException as exc:
            reason = f"SMTP error {exc.smtp_code} {_smtp_text(exc.smtp_error)}"
            raise self.error(reason, 400 <= exc.smtp_code < 500) from exc
        except smtplib.SMTPServerDisconnected as exc:
            raise self.error(f"SMTP connection error: disconnected: {exc}", True) from exc
        except smtplib.SMTPNotSupportedError as exc:
            raise self.error(f"SMTP server does not support it: {exc}", False) from exc
        except smtplib.SMTPException as exc:
            raise self.error(f"SMTP error: {exc}", False) from exc
        except ssl.SSLError as exc:
            # certificate verification and handshake failures: a configuration problem
            raise self.error(f"SMTP TLS error: {exc}", False) from exc
        except TimeoutError as exc:
            raise self.error(f"SMTP timed out after {self.smtp.timeout:g} s", True) from exc
        except OSError as exc:
            raise self.error(f"SMTP connection error: {exc}", True) from exc

    def error(self, reason: str, retryable: bool) -> DeliveryError:
        return DeliveryError.of(self.description, reason, retryable=retryable)

    def _send_blocking(self, email: EmailMessage) -> None:
        smtp = self.smtp
        with smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout) as client:
            if smtp.starttls:
                context = ssl.create_default_context(cafile=smtp.cafile)
                client.starttls(context=context)
            if smtp.username:
                if smtp.password is None:
                    raise self.error("SMTP username set without a password", False)
                client.login(smtp.username, smtp.password)
            client.send_message(email, from_addr=smtp.sender, to_addrs=list(self.channel.to))


def _smtp_text(text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    return " ".join(text.split())


class Notifiers:
    """Delivers messages over any channel, retrying with exponential backoff.

    Owns one :class:`aiohttp.ClientSession`, created on first use; close it with
    :meth:`close` or use the object as ``async with Notifiers(...) as notifiers:``.
    A failed attempt that may succeed later is retried after ``first_delay`` seconds, then
    twice as long each time up to ``max_delay``, for at most ``attempts`` attempts. ``sleep``
    is injectable so tests need not wait.
    """

    def __init__(
        self,
        smtp: SmtpServer | None,
        attempts: int = 4,
        first_delay: float = 0.5,
        max_delay: float = 8.0,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        *,
        http_timeout: float = HTTP_TIMEOUT,
    ) -> None:
        if attempts < 1:
            raise ValueError(f"attempts must be at least 1, not {attempts}")
        self.smtp = smtp
        self.attempts = attempts
        self.first_delay = first_delay
        self.max_delay = max_delay
        self.sleep = sleep
        self.http_timeout = http_timeout
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> Notifiers:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the HTTP session (if one was opened); the object can be used again after."""
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    def session(self) -> aiohttp.ClientSession:
        """The HTTP session, created on first use (call it from within the event loop)."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        return self._session

    def notifier(self, channel: Channel) -> Notifier:
        """A new notifier for ``channel``.

        Raises :class:`~alerts.errors.PermanentDeliveryError` for an e-mail channel when no SMTP
        server is configured.
        """
        if isinstance(channel, WebhookChannel):
            return WebhookNotifier(self.session(), channel, self.http_timeout)
        if isinstance(channel, WeComChannel):
            return WeComNotifier(self.session(), channel, self.http_timeout)
        if isinstance(channel, DingTalkChannel):
            return DingTalkNotifier(self.session(), channel, self.http_timeout)
        if self.smtp is None:
            reason = "no SMTP server is configured for e-mail channels"
            raise PermanentDeliveryError(describe(channel), reason)
        return EmailNotifier(self.smtp, channel)

    def delay(self, failed_attempts: int) -> float:
        """Seconds to wait after ``failed_attempts`` (>= 1) failures before the next attempt."""
        return float(min(self.first_delay * 2 ** (failed_attempts - 1), self.max_delay))

    async def deliver(self, receiver: str, channel: Channel, message: Message) -> ChannelDelivery:
        """Send ``message`` to ``receiver`` over ``channel``, retrying what may succeed later.

        Never raises for a failed delivery (nor for an unexpected error in a notifier, which is
        logged with its traceback): the outcome is in the returned record.
        """
        description = describe(channel)

        def outcome(ok: bool, attempts: int, error: str | None = None) -> ChannelDelivery:
            return ChannelDelivery(receiver, description, message.key, ok, attempts, error)

        try:
            notifier = self.notifier(channel)
        except DeliveryError as exc:
            log.error("delivery of %s to %s given up: %s", message.key, receiver, exc)
            return outcome(False, 0, str(exc))

        attempt = 0
        while True:
            attempt += 1
            try:
                await notifier.send(message)
            except DeliveryError as exc:
                error: DeliveryError = exc
            except Exception as exc:  # a bug must not stop the alerting loop
                log.exception("notifier for %s crashed", description)
                error = PermanentDeliveryError(description, f"unexpected error: {exc!r}")
            else:
                return outcome(True, attempt)
            log.warning(
                "delivery of %s to %s failed (attempt %d of %d): %s",
                message.key,
                receiver,
                attempt,
                self.attempts,
                error,
            )
            temporary = isinstance(error, TemporaryDeliveryError)
            if not temporary or attempt >= self.attempts:
                why = f"after {attempt} attempts" if temporary else "not retryable"
                log.error(
                    "delivery of %s to %s given up (%s): %s", message.key, receiver, why, error
                )
                return outcome(False, attempt, str(error))
            await self.sleep(self.delay(attempt))
