"""The notifiers against real local receivers: an HTTP server standing in for webhooks and
WeCom/DingTalk robots, and an SMTP server (plain, or STARTTLS with login). No mocks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import pytest

from alerts.channels import (
    DingTalkChannel,
    EmailChannel,
    Message,
    SmtpServer,
    WebhookChannel,
    WeComChannel,
)
from alerts.notifiers import Notifiers
from streams.testing.receivers import SMTP_USERNAME, HttpReceiver, SmtpReceiver, free_port

MESSAGE = Message(
    key="TH-0105:TP:2021-04-01T08:00+08:00",
    title="【III类超标】太湖 沙渚 总磷 0.31 mg/L",
    markdown="### 沙渚 总磷超标\n> 总磷 **0.31** mg/L（III类限值 0.05）\n> 时间：2021-04-01 08:00",
    text="沙渚（无锡）总磷 0.31 mg/L，超过 III 类限值 0.05 mg/L。\n时间：2021-04-01 08:00",
    data={"station": "TH-0105", "站点": "沙渚", "parameter": "TP", "value": 0.31},
)
FAST = {"attempts": 4, "first_delay": 0.01, "max_delay": 0.05}


def notifiers(smtp: SmtpServer | None = None, **overrides: float) -> Notifiers:
    options = {**FAST, **overrides}
    return Notifiers(
        smtp,
        attempts=int(options["attempts"]),
        first_delay=options["first_delay"],
        max_delay=options["max_delay"],
        http_timeout=options.get("http_timeout", 10.0),
    )


# --- HTTP channels ---------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_webhook_json_arrives_with_chinese_text_intact(http_receiver: HttpReceiver) -> None:
    channel = WebhookChannel(url=http_receiver.url("/hooks/basin"))
    async with notifiers() as sender:
        delivery = await sender.deliver("duty-desk", channel, MESSAGE)
    assert (delivery.ok, delivery.attempts, delivery.error) == (True, 1, None)
    assert delivery.channel == f"webhook:{http_receiver.url('/hooks/basin')}"
    [request] = http_receiver.wait_for(1)
    assert (request.method, request.path) == ("POST", "/hooks/basin")
    assert request.headers["content-type"] == "application/json; charset=utf-8"
    assert request.json == {
        "key": MESSAGE.key,
        "title": MESSAGE.title,
        "text": MESSAGE.text,
        "markdown": MESSAGE.markdown,
        "data": MESSAGE.data,
    }
    # ensure_ascii=False: the UTF-8 characters themselves, not \\u escapes
    assert "沙渚（无锡）总磷".encode() in request.body
    assert b"\\u" not in request.body


@pytest.mark.asyncio
async def test_wecom_markdown_then_a_text_message_for_the_mentions(
    http_receiver: HttpReceiver,
) -> None:
    url = http_receiver.url("/cgi-bin/webhook/send?key=wecom-robot-key")
    channel = WeComChannel(url=url, mentioned_mobiles=("13800000001", "13900000002"))
    async with notifiers() as sender:
        delivery = await sender.deliver("duty-desk", channel, MESSAGE)
    assert (delivery.ok, delivery.attempts) == (True, 1)
    assert delivery.channel == f"wecom:{http_receiver.url('/cgi-bin/webhook/send')}"
    markdown, mention = http_receiver.wait_for(2)
    assert markdown.query == {"key": "wecom-robot-key"}
    assert markdown.json == {"msgtype": "markdown", "markdown": {"content": MESSAGE.markdown}}
    assert mention.json == {
        "msgtype": "text",
        "text": {
            "content": MESSAGE.title,
            "mentioned_mobile_list": ["13800000001", "13900000002"],
        },
    }


@pytest.mark.asyncio
async def test_wecom_without_mentions_sends_only_the_markdown(
    http_receiver: HttpReceiver,
) -> None:
    channel = WeComChannel(url=http_receiver.url("/cgi-bin/webhook/send?key=k"))
    async with notifiers() as sender:
        delivery = await sender.deliver("duty-desk", channel, MESSAGE)
    assert delivery.ok
    time.sleep(0.1)  # nothing else should arrive
    assert [request.json["msgtype"] for request in http_receiver.requests] == ["markdown"]


@pytest.mark.asyncio
async def test_wecom_retry_of_a_failed_mention_does_not_repeat_the_markdown(
    http_receiver: HttpReceiver,
) -> None:
    channel = WeComChannel(
        url=http_receiver.url("/cgi-bin/webhook/send?key=k"), mentioned_mobiles=("13800000001",)
    )
    # the markdown passes, the mention hits the robot's rate limit once
    http_receiver.fail_next(
        1, status=200, body={"errcode": 45009, "errmsg": "api freq out of limit"}, after=1
    )
    async with notifiers() as sender:
        delivery = await sender.deliver("duty-desk", channel, MESSAGE)
    assert (delivery.ok, delivery.attempts) == (True, 2)
    requests = http_receiver.wait_for(3)
    assert [request.json["msgtype"] for request in requests] == ["markdown", "text", "text"]
    assert [request.status for request in requests] == [200, 200, 200]


@pytest.mark.asyncio
async def test_dingtalk_request_is_signed_and_the_sign_verifies(
    http_receiver: HttpReceiver,
) -> None:
    secret = "SECb2f4e1c9a8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0"
    channel = DingTalkChannel(
        url=http_receiver.url("/robot/send?access_token=ding-token"),
        secret=secret,
        at_mobiles=("13800000001",),
    )
    async with notifiers() as sender:
        delivery = await sender.deliver("duty-desk", channel, MESSAGE)
    assert (delivery.ok, delivery.attempts) == (True, 1)
    assert delivery.channel == f"dingtalk:{http_receiver.url('/robot/send')}"
    [request] = http_receiver.wait_for(1)
    assert set(request.query) == {"access_token", "timestamp", "sign"}
    assert request.query["access_token"] == "ding-token"
    timestamp = int(request.query["timestamp"])
    assert abs(timestamp - request.wall * 1000) < 5_000
    # verify as DingTalk does: HMAC-SHA256(secret, f"{timestamp}\n{secret}"), base64
    expected = base64.b64encode(
        hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    ).decode()
    assert request.query["sign"] == expected
    assert request.json == {
        "msgtype": "markdown",
        "markdown": {"title": MESSAGE.title, "text": MESSAGE.markdown},
        "at": {"atMobiles": ["13800000001"], "isAtAll": False},
    }


@pytest.mark.asyncio
async def test_dingtalk_without_a_secret_is_not_signed(http_receiver: HttpReceiver) -> None:
    channel = DingTalkChannel(url=http_receiver.url("/robot/send?access_token=t"))
    async with notifiers() as sender:
        assert (await sender.deliver("duty-desk", channel, MESSAGE)).ok
    [request] = http_receiver.wait_for(1)
    assert request.query == {"access_token": "t"}
    assert request.json["at"] == {"atMobiles": [], "isAtAll": False}


@pytest.mark.asyncio
async def test_two_500s_then_success_takes_three_attempts(http_receiver: HttpReceiver) -> None:
    http_receiver.fail_next(2, status=500)
    channel = WebhookChannel(url=http_receiver.url("/hooks/basin"))
    async with notifiers() as sender:
        delivery = await sender.deliver("duty-desk", channel, MESSAGE)
    assert (delivery.ok, delivery.attempts, delivery.error) == (True, 3, None)
    requests = http_receiver.wait_for(3)
    assert [request.status for request in requests] == [500, 500, 200]
    assert all(request.json == requests[0].json for request in requests)


@pytest.mark.asyncio
async def test_429_is_retried(http_receiver: HttpReceiver) -> None:
    http_receiver.fail_next(1, status=429, body="slow down")
    channel = WebhookChannel(url=http_receiver.url("/hooks/basin"))
    async with notifiers() as sender:
        delivery = await sender.deliver("duty-desk", channel, MESSAGE)
    assert (delivery.ok, delivery.attempts) == (True, 2)


@pytest.mark.asyncio
async def test_400_is_not_retried_and_the_error_names_the_status(
    http_receiver: HttpReceiver,
) -> None:
    http_receiver.set_response("/hooks/basin", {"error": "无效的请求"}, status=400)
    channel = WebhookChannel(url=http_receiver.url("/hooks/basin"))
    async with notifiers() as sender:
        delivery = await sender.deliver("duty-desk", channel, MESSAGE)
    assert (delivery.ok, delivery.attempts) == (False, 1)
    assert delivery.error is not None
    assert "HTTP 400" in delivery.error
    assert "无效的请求" in delivery.error  # an excerpt of the answer's body
    assert len(http_receiver.requests) == 1


@pytest.mark.asyncio
async def test_persistent_503_gives_up_after_all_attempts(http_receiver: HttpReceiver) -> None:
    http_receiver.set_response("/hooks/basin", "maintenance", status=503)
    channel = WebhookChannel(url=http_receiver.url("/hooks/basin"))
    async with notifiers(attempts=3) as sender:
        delivery = await sender.deliver("duty-desk", channel, MESSAGE)
    assert (delivery.ok, delivery.attempts) == (False, 3)
    assert delivery.error is not None and "HTTP 503: maintenance" in delivery.error
    assert len(http_receiver.wait_for(3)) == 3


@pytest.mark.asyncio
async def test_unreachable_port_fails_after_all_attempts_with_a_connection_error() -> None:
    channel = WebhookChannel(url=f"http://127.0.0.1:{free_port()}/hooks/basin")
    async with notifiers(attempts=3) as sender:
        delivery = await sender.deliver("duty-desk", channel, MESSAGE)
    assert (delivery.ok, delivery.attempts) == (False, 3)
    assert delivery.error is not None and "connection" in delivery.error


@pytest.mark.asyncio
async def test_a_slow_receiver_times_out_and_is_retried(http_receiver: HttpReceiver) -> None:
    http_receiver.set_response("/hooks/slow", delay=5.0)
    channel = WebhookChannel(url=http_receiver.url("/hooks/slow"))
    async with notifiers(attempts=2, http_timeout=0.3) as sender:
        delivery = await sender.deliver("duty-desk", channel, MESSAGE)
    assert (delivery.ok, delivery.attempts) == (False, 2)
    assert delivery.error is not None and "timed out" in delivery.error


@pytest.mark.asyncio
async def test_robot_errcode_is_a_failure_naming_the_errcode_without_the_token(
    http_receiver: HttpReceiver,
) -> None:
    http_receiver.set_response(
        "/robot/send", {"errcode": 310000, "errmsg": "keywords not in content"}
    )
    channel = DingTalkChannel(url=http_receiver.url("/robot/send?access_token=secret-token"))
    async with notifiers() as sender:
        delivery = await sender.deliver("duty-desk", channel, MESSAGE)
    assert (delivery.ok, delivery.attempts) == (False, 1)
    assert delivery.error is not None
    assert "errcode 310000" in delivery.error and "keywords not in content" in delivery.error
    assert "secret-token" not in delivery.error


@pytest.mark.asyncio
async def test_robot_rate_limit_errcode_is_retried(http_receiver: HttpReceiver) -> None:
    http_receiver.fail_next(
        1, status=200, body={"errcode": 45009, "errmsg": "api freq out of limit"}
    )
    channel = WeComChannel(url=http_receiver.url("/cgi-bin/webhook/send?key=k"))
    async with notifiers() as sender:
        delivery = await sender.deliver("duty-desk", channel, MESSAGE)
    assert (delivery.ok, delivery.attempts) == (True, 2)


@pytest.mark.asyncio
async def test_robot_answer_without_errcode_is_a_failure(http_receiver: HttpReceiver) -> None:
    http_receiver.set_response("/cgi-bin/webhook/send", "<html>login</html>")
    channel = WeComChannel(url=http_receiver.url("/cgi-bin/webhook/send?key=k"))
    async with notifiers() as sender:
        delivery = await sender.deliver("duty-desk", channel, MESSAGE)
    assert (delivery.ok, delivery.attempts) == (False, 1)
    assert delivery.error is not None and "without an errcode" in delivery.error


# --- e-mail ----------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_email_arrives_with_the_chinese_subject_and_body_decoded(
    smtp_receiver: SmtpReceiver,
) -> None:
    channel = EmailChannel(to=("duty@taihu.example.cn", "lead@taihu.example.cn"))
    async with notifiers(smtp_receiver.server()) as sender:
        delivery = await sender.deliver("duty-desk", channel, MESSAGE)
    assert (delivery.ok, delivery.attempts, delivery.error) == (True, 1, None)
    assert delivery.channel == "email:duty@taihu.example.cn,lead@taihu.example.cn"
    [mail] = smtp_receiver.wait_for(1)
    assert mail.mail_from == "basinwatch@localhost"
    assert mail.rcpt_tos == ("duty@taihu.example.cn", "lead@taihu.example.cn")
    assert mail.subject == MESSAGE.title
    assert mail.body.rstrip("\n") == MESSAGE.text
    assert mail.message["From"] == "basinwatch@localhost"
    assert mail.message["To"] == "duty@taihu.example.cn, lead@taihu.example.cn"
    assert mail.message.get_content_type() == "text/plain"
    assert mail.message.get_content_charset() == "utf-8"
    assert (mail.tls, mail.login) == (False, None)


@pytest.mark.asyncio
async def test_email_over_starttls_with_login_arrives(smtp_tls_receiver: SmtpReceiver) -> None:
    channel = EmailChannel(to=("duty@taihu.example.cn",))
    async with notifiers(smtp_tls_receiver.server()) as sender:
        delivery = await sender.deliver("duty-desk", channel, MESSAGE)
    assert (delivery.ok, delivery.attempts, delivery.error) == (True, 1, None)
    [mail] = smtp_tls_receiver.wait_for(1)
    assert (mail.tls, mail.login) == (True, SMTP_USERNAME)
    assert mail.subject == MESSAGE.title


@pytest.mark.asyncio
async def test_email_with_a_wrong_password_fails_once_with_a_clear_error(
    smtp_tls_receiver: SmtpReceiver,
) -> None:
    channel = EmailChannel(to=("duty@taihu.example.cn",))
    async with notifiers(smtp_tls_receiver.server(password="wrong")) as sender:
        delivery = await sender.deliver("duty-desk", channel, MESSAGE)
    assert (delivery.ok, delivery.attempts) == (False, 1)
    assert delivery.error is not None
    assert "SMTP login failed: 535" in delivery.error
    assert "wrong" not in delivery.error
    assert smtp_tls_receiver.messages == []


@pytest.mark.asyncio
async def test_email_without_login_where_it_is_required_is_refused(
    smtp_tls_receiver: SmtpReceiver,
) -> None:
    channel = EmailChannel(to=("duty@taihu.example.cn",))
    async with notifiers(smtp_tls_receiver.server(username=None, password=None)) as sender:
        delivery = await sender.deliver("duty-desk", channel, MESSAGE)
    assert (delivery.ok, delivery.attempts) == (False, 1)
    assert delivery.error is not None and "SMTP" in delivery.error and "530" in delivery.error


@pytest.mark.asyncio
async def test_email_starttls_with_an_untrusted_certificate_is_not_retried(
    smtp_tls_receiver: SmtpReceiver,
) -> None:
    channel = EmailChannel(to=("duty@taihu.example.cn",))
    async with notifiers(smtp_tls_receiver.server(cafile=None)) as sender:
        delivery = await sender.deliver("duty-desk", channel, MESSAGE)
    assert (delivery.ok, delivery.attempts) == (False, 1)
    assert delivery.error is not None and "TLS" in delivery.error


@pytest.mark.asyncio
async def test_temporary_smtp_errors_are_retried(smtp_receiver: SmtpReceiver) -> None:
    smtp_receiver.fail_next(2, "451 4.3.0 Mail server temporarily rejected message")
    channel = EmailChannel(to=("duty@taihu.example.cn",))
    async with notifiers(smtp_receiver.server()) as sender:
        delivery = await sender.deliver("duty-desk", channel, MESSAGE)
    assert (delivery.ok, delivery.attempts) == (True, 3)
    assert len(smtp_receiver.wait_for(1)) == 1


@pytest.mark.asyncio
async def test_permanent_smtp_errors_are_not_retried(smtp_receiver: SmtpReceiver) -> None:
    smtp_receiver.fail_next(1, "554 5.7.1 Message rejected")
    channel = EmailChannel(to=("duty@taihu.example.cn",))
    async with notifiers(smtp_receiver.server()) as sender:
        delivery = await sender.deliver("duty-desk", channel, MESSAGE)
    assert (delivery.ok, delivery.attempts) == (False, 1)
    assert delivery.error is not None and "SMTP error 554" in delivery.error


@pytest.mark.asyncio
async def test_unreachable_smtp_server_fails_after_all_attempts_with_a_connection_error() -> None:
    smtp = SmtpServer(host="127.0.0.1", port=free_port(), timeout=2.0)
    channel = EmailChannel(to=("duty@taihu.example.cn",))
    async with notifiers(smtp, attempts=2) as sender:
        delivery = await sender.deliver("duty-desk", channel, MESSAGE)
    assert (delivery.ok, delivery.attempts) == (False, 2)
    assert delivery.error is not None and "connection" in delivery.error
