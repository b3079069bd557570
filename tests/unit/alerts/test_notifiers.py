"""Unit tests of the notifiers: DingTalk signing, retries and backoff, never-raising delivery.

No network here: retries are driven through a scripted notifier; the real channels are
exercised against local servers in tests/integration/test_notifiers.py.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import urllib.parse

import msgspec
import pytest

from alerts.channels import (
    Channel,
    EmailChannel,
    Message,
    WebhookChannel,
    WeComChannel,
    describe,
)
from alerts.errors import (
    AlertsError,
    DeliveryError,
    PermanentDeliveryError,
    TemporaryDeliveryError,
)
from alerts.notifiers import Notifier, Notifiers, dingtalk_sign, dingtalk_signed_url
from alerts.records import ChannelDelivery

MESSAGE = Message(
    key="TH-0001:TP:2021-04-01T08:00",
    title="太湖 沙墩港 总磷超标",
    markdown="**总磷** 0.31 mg/L",
    text="总磷 0.31 mg/L",
    data={"station": "TH-0001"},
)
CHANNEL = WebhookChannel(url="https://hooks.example.cn/alerts?token=very-secret")


class Scripted:
    """A notifier failing with the scripted errors, in order, then succeeding."""

    def __init__(self, failures: list[Exception]) -> None:
        self.failures = list(failures)
        self.sends = 0

    async def send(self, message: Message) -> None:
        self.sends += 1
        if self.failures:
            raise self.failures.pop(0)


class ScriptedNotifiers(Notifiers):
    """Notifiers whose every channel is the given scripted notifier."""

    def __init__(
        self,
        notifier: Scripted,
        attempts: int = 4,
        first_delay: float = 0.5,
        max_delay: float = 8.0,
    ) -> None:
        self.delays: list[float] = []

        async def sleep(delay: float) -> None:
            self.delays.append(delay)

        super().__init__(None, attempts, first_delay, max_delay, sleep=sleep)
        self.scripted = notifier

    def notifier(self, channel: Channel) -> Notifier:
        return self.scripted


def retryable(reason: str = "HTTP 503: busy") -> DeliveryError:
    return TemporaryDeliveryError("webhook:https://hooks.example.cn/alerts", reason)


def permanent(reason: str = "HTTP 400: bad request") -> DeliveryError:
    return PermanentDeliveryError("webhook:https://hooks.example.cn/alerts", reason)


# --- DingTalk signing ------------------------------------------------------------------------


def test_dingtalk_sign_matches_a_vector_computed_with_the_openssl_cli() -> None:
    # printf '1700000000000\nsecret' | openssl dgst -sha256 -hmac secret -binary | base64
    # gives OuzzJR5+xZ4/EYwqtNt6sMYZQMTa/HEGvc9miJe7XzY= ; URL-encoded below.
    assert dingtalk_sign("secret", 1700000000000) == (
        "OuzzJR5%2BxZ4%2FEYwqtNt6sMYZQMTa%2FHEGvc9miJe7XzY%3D"
    )


@pytest.mark.parametrize("timestamp", [1617235200000, 1700000000123, 1767225599999])
def test_dingtalk_sign_matches_an_independent_computation(timestamp: int) -> None:
    secret = "SEC0f3c9a7e5b1d2c4e6f8a0b2c4d6e8f0a1b3c5d7e9f1a3b5c7d9e1f3a5b7c9d1e3f"
    mac = hmac.HMAC(secret.encode(), f"{timestamp}\n{secret}".encode(), "sha256")
    expected = urllib.parse.quote(base64.standard_b64encode(mac.digest()), safe="")
    assert dingtalk_sign(secret, timestamp) == expected
    # and it decodes back to the raw HMAC
    raw = base64.b64decode(urllib.parse.unquote(dingtalk_sign(secret, timestamp)))
    string_to_sign = f"{timestamp}\n{secret}".encode()
    assert raw == hmac.new(secret.encode(), string_to_sign, hashlib.sha256).digest()


def test_dingtalk_signed_url_appends_to_the_query_or_starts_one() -> None:
    sign = dingtalk_sign("s", 1)
    assert dingtalk_signed_url("https://oapi.dingtalk.com/robot/send?access_token=t", "s", 1) == (
        f"https://oapi.dingtalk.com/robot/send?access_token=t&timestamp=1&sign={sign}"
    )
    assert dingtalk_signed_url("http://127.0.0.1:9/robot", "s", 1) == (
        f"http://127.0.0.1:9/robot?timestamp=1&sign={sign}"
    )


# --- retries and backoff ---------------------------------------------------------------------


@pytest.mark.asyncio
async def test_retries_back_off_exponentially_up_to_the_cap_then_give_up() -> None:
    scripted = Scripted([retryable() for _ in range(10)])
    notifiers = ScriptedNotifiers(scripted, attempts=6, first_delay=0.5, max_delay=3.0)
    delivery = await notifiers.deliver("duty-desk", CHANNEL, MESSAGE)
    assert notifiers.delays == [0.5, 1.0, 2.0, 3.0, 3.0]  # no wait after the last attempt
    assert scripted.sends == 6
    assert delivery == ChannelDelivery(
        receiver="duty-desk",
        channel="webhook:https://hooks.example.cn/alerts",
        key=MESSAGE.key,
        ok=False,
        attempts=6,
        error="webhook:https://hooks.example.cn/alerts: HTTP 503: busy",
    )


@pytest.mark.asyncio
async def test_success_after_failures_counts_the_attempts() -> None:
    scripted = Scripted([retryable(), retryable()])
    notifiers = ScriptedNotifiers(scripted)  # defaults: 4 attempts, 0.5 s doubling, cap 8 s
    delivery = await notifiers.deliver("duty-desk", CHANNEL, MESSAGE)
    assert (delivery.ok, delivery.attempts, delivery.error) == (True, 3, None)
    assert notifiers.delays == [0.5, 1.0]


def test_default_delays_double_from_first_delay_and_stop_at_max_delay() -> None:
    notifiers = Notifiers(None, first_delay=0.5, max_delay=8.0)
    assert [notifiers.delay(n) for n in range(1, 8)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]


@pytest.mark.asyncio
async def test_a_non_retryable_error_is_tried_once() -> None:
    scripted = Scripted([permanent(), retryable()])
    notifiers = ScriptedNotifiers(scripted, attempts=4)
    delivery = await notifiers.deliver("duty-desk", CHANNEL, MESSAGE)
    assert (delivery.ok, delivery.attempts) == (False, 1)
    assert delivery.error is not None and "HTTP 400" in delivery.error
    assert scripted.sends == 1
    assert notifiers.delays == []


@pytest.mark.asyncio
async def test_retryable_then_permanent_stops_at_the_permanent_one() -> None:
    scripted = Scripted([retryable(), permanent("robot errcode 93000: invalid webhook url")])
    notifiers = ScriptedNotifiers(scripted, attempts=4, first_delay=0.25)
    delivery = await notifiers.deliver("duty-desk", CHANNEL, MESSAGE)
    assert (delivery.ok, delivery.attempts) == (False, 2)
    assert delivery.error is not None and "93000" in delivery.error
    assert notifiers.delays == [0.25]


@pytest.mark.asyncio
async def test_deliver_never_raises_even_when_a_notifier_crashes() -> None:
    scripted = Scripted([RuntimeError("bug in a notifier")])
    notifiers = ScriptedNotifiers(scripted, attempts=3)
    delivery = await notifiers.deliver("duty-desk", CHANNEL, MESSAGE)
    assert (delivery.ok, delivery.attempts) == (False, 1)
    assert delivery.error is not None and "bug in a notifier" in delivery.error


@pytest.mark.asyncio
async def test_email_without_an_smtp_server_is_a_failed_delivery_not_an_exception() -> None:
    async with Notifiers(None, first_delay=0.0) as notifiers:
        delivery = await notifiers.deliver(
            "duty-desk", EmailChannel(to=("duty@example.cn",)), MESSAGE
        )
    assert delivery.ok is False
    assert delivery.attempts == 0
    assert delivery.channel == "email:duty@example.cn"
    assert delivery.error is not None and "no SMTP server" in delivery.error


@pytest.mark.asyncio
async def test_each_failed_attempt_is_a_warning_and_giving_up_an_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    scripted = Scripted([retryable(), retryable(), retryable()])
    notifiers = ScriptedNotifiers(scripted, attempts=3)
    with caplog.at_level(logging.WARNING, logger="alerts.notifiers"):
        await notifiers.deliver("duty-desk", CHANNEL, MESSAGE)
    levels = [record.levelno for record in caplog.records]
    assert levels == [logging.WARNING] * 3 + [logging.ERROR]
    assert all("very-secret" not in record.getMessage() for record in caplog.records)


def test_attempts_must_be_positive() -> None:
    with pytest.raises(ValueError):
        Notifiers(None, attempts=0)


# --- records and errors ----------------------------------------------------------------------


def test_delivery_is_frozen_and_serializable() -> None:
    delivery = ChannelDelivery("duty-desk", "wecom:https://qyapi.weixin.qq.com/x", "k", True, 1)
    assert msgspec.to_builtins(delivery) == {
        "receiver": "duty-desk",
        "channel": "wecom:https://qyapi.weixin.qq.com/x",
        "key": "k",
        "ok": True,
        "attempts": 1,
        "error": None,
    }
    with pytest.raises(AttributeError):
        delivery.ok = False  # type: ignore[misc]


def test_delivery_error_names_the_channel_and_strips_query_strings() -> None:
    channel = WeComChannel(url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc-123")
    error = DeliveryError.of(
        describe(channel),
        "connection error: cannot reach "
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc-123 (refused)",
        retryable=True,
    )
    assert str(error).startswith("wecom:https://qyapi.weixin.qq.com/cgi-bin/webhook/send: ")
    assert "abc-123" not in str(error)
    assert "(refused)" in str(error)
    assert error.retryable is True and isinstance(error, TemporaryDeliveryError)
    assert isinstance(error, AlertsError)
    refused = DeliveryError.of(describe(channel), "robot errcode 93000", retryable=False)
    assert isinstance(refused, PermanentDeliveryError) and refused.retryable is False
