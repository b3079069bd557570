"""The alerts configuration from YAML: the shipped file, and mistakes reported with their line."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from alerts.channels import DingTalkChannel, EmailChannel, WebhookChannel, WeComChannel
from alerts.config import (
    DEFAULT_ALERTS,
    AlertsConfig,
    AlertsConfigError,
    Scope,
    Shift,
    Timing,
    load_alerts_config,
)
from alerts.errors import AlertsError
from stations.errors import ConfigError
from stations.jurisdictions import Jurisdiction

BASE = (
    "version: 1\n"
    "receivers:\n"
    "  js-duty:\n"
    "    name_zh: 江苏省值班室\n"
    "    channels:\n"
    '      - {type: webhook, url: "http://127.0.0.1:9300/js"}\n'
    "  js-chief:\n"
    "    channels:\n"
    '      - {type: webhook, url: "http://127.0.0.1:9300/js/chief"}\n'
    "rotas:\n"
    "  JS:\n"
    "    tiers:\n"
    "      - tier: 1\n"
    "        shifts:\n"
    '          - {days: weekdays, hours: "08:30-17:30", receivers: [js-duty]}\n'
    "      - tier: 2\n"
    "        shifts:\n"
    '          - {days: all, hours: "00:00-24:00", receivers: [js-chief]}\n'
)

DINGTALK = (
    '      - {type: dingtalk, url: "https://oapi.dingtalk.com/robot/send?access_token=T", '
    "secret_env: BASIN_DT_SECRET}\n"
)
SMTP = (
    "smtp:\n"
    "  host: 127.0.0.1\n"
    "  sender: basinwatch@example.org\n"
    "  username: alerts\n"
    "  password_env: BASIN_SMTP_PASSWORD\n"
)
SECRETS = {"BASIN_DT_SECRET": "dt-secret-value", "BASIN_SMTP_PASSWORD": "smtp-secret-value"}


def line_of(text: str, marker: str, occurrence: int = 1) -> int:
    hits = [n for n, line in enumerate(text.splitlines(), start=1) if marker in line]
    return hits[occurrence - 1]


def load(text: str, environ: dict[str, str] | None = None) -> AlertsConfig:
    return load_alerts_config("alerts.yaml", environ or {}, text=text)


def problems_of(text: str, environ: dict[str, str] | None = None) -> list[tuple[int | None, str]]:
    with pytest.raises(AlertsConfigError) as caught:
        load(text, environ)
    assert all(problem.path == "alerts.yaml" for problem in caught.value.problems)
    # one error, under both roots: the stations' ConfigError (file and line) and the alerts' tree
    assert isinstance(caught.value, ConfigError) and isinstance(caught.value, AlertsError)
    return [(problem.line, problem.message) for problem in caught.value.problems]


def test_the_shipped_file_loads() -> None:
    config = load_alerts_config(environ={})
    assert config.path == str(DEFAULT_ALERTS)
    assert config.timing == Timing()
    assert config.board_url == "http://127.0.0.1:3000/d/bw-station"
    assert config.smtp is None
    assert set(config.rotas) == set(Jurisdiction)
    for jurisdiction, rota in config.rotas.items():
        expected = Scope.CROSS_BOUNDARY if jurisdiction is Jurisdiction.TBA else Scope.ALL
        assert rota.scope is expected
        assert [tier.tier for tier in rota.tiers] == [1, 2]
        for tier in rota.tiers:
            (shift,) = tier.shifts
            assert (shift.days, shift.start, shift.end) == (frozenset(range(7)), 0, 24 * 60)
            (name,) = shift.receivers
            (channel,) = config.receivers[name].channels
            low = jurisdiction.value.lower()
            assert channel == WebhookChannel(f"http://127.0.0.1:9300/{low}/tier{tier.tier}")
            assert config.display_name(name).startswith(jurisdiction.name_zh)
    assert config.display_name("js-duty") == "江苏省值班室"
    assert config.display_name("js-chief") == "江苏省生态环境厅带班领导"
    assert len(config.receivers) == 10


def test_the_documented_example_in_the_shipped_file_is_valid() -> None:
    lines = DEFAULT_ALERTS.read_text(encoding="utf-8").splitlines()
    start, end = lines.index("# BEGIN EXAMPLE"), lines.index("# END EXAMPLE")
    text = "\n".join(line.removeprefix("#").removeprefix(" ") for line in lines[start + 1 : end])
    env = {"BASIN_DINGTALK_JS_SECRET": "s3cret", "BASIN_SMTP_PASSWORD": "pw"}
    config = load_alerts_config("example.yaml", env, text=text)
    kinds = [c.kind for r in config.receivers.values() for c in r.channels]
    assert kinds == ["wecom", "email", "dingtalk", "email"]
    assert config.smtp is not None and config.smtp.password == "pw"
    night = config.receivers["js-night"].channels[0]
    assert isinstance(night, DingTalkChannel) and night.secret == "s3cret"
    shifts = config.rotas[Jurisdiction.JS].tiers[0].shifts
    assert shifts[1] == Shift(
        days=frozenset(range(7)), start=17 * 60 + 30, end=8 * 60 + 30, receivers=("js-night",)
    )
    assert shifts[2].days == frozenset({5, 6})
    assert shifts[1].hours == "17:30-08:30"


def test_a_full_file_with_every_channel_and_timing() -> None:
    text = (
        BASE.replace("version: 1\n", "version: 1\nboard_url: https://grafana.example/d/x\n")
        .replace(
            '      - {type: webhook, url: "http://127.0.0.1:9300/js"}\n',
            '      - {type: webhook, url: "http://127.0.0.1:9300/js"}\n'
            '      - {type: wecom, url: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K",'
            ' mentioned_mobiles: ["13800000000", "@all"]}\n'
            + DINGTALK
            + "      - {type: email, to: [duty@js.example, night@js.example]}\n",
        )
        .replace(
            "rotas:\n",
            "timing:\n"
            "  repeat_minutes: 60\n"
            "  escalate_minutes: [15, 45, 90]\n"
            "  silent_intervals: 1.5\n"
            "  hysteresis: 0\n" + SMTP + "  port: 587\n  starttls: true\n  cafile: /ca.pem\n"
            "rotas:\n",
        )
    )
    config = load(text, SECRETS)
    assert config.timing == Timing(
        repeat=timedelta(minutes=60),
        escalate=(timedelta(minutes=15), timedelta(minutes=45), timedelta(minutes=90)),
        silent_intervals=1.5,
        hysteresis=0.0,
    )
    assert config.board_url == "https://grafana.example/d/x"
    webhook, wecom, dingtalk, email = config.receivers["js-duty"].channels
    assert webhook == WebhookChannel("http://127.0.0.1:9300/js")
    assert isinstance(wecom, WeComChannel) and wecom.mentioned_mobiles == ("13800000000", "@all")
    assert isinstance(dingtalk, DingTalkChannel) and dingtalk.secret == "dt-secret-value"
    assert dingtalk.at_mobiles == ()
    assert email == EmailChannel(to=("duty@js.example", "night@js.example"))
    smtp = config.smtp
    assert smtp is not None
    assert (smtp.host, smtp.port, smtp.sender, smtp.starttls) == (
        "127.0.0.1",
        587,
        "basinwatch@example.org",
        True,
    )
    assert (smtp.username, smtp.password, smtp.cafile) == ("alerts", "smtp-secret-value", "/ca.pem")
    # Secrets never show in a repr (logs, tracebacks).
    assert "secret-value" not in repr(config)
    assert "BASIN_DT_SECRET" not in repr(config)


def test_defaults_when_optional_sections_are_left_out() -> None:
    config = load(BASE)
    assert config.timing == Timing(
        repeat=timedelta(minutes=240),
        escalate=(timedelta(minutes=30), timedelta(minutes=120)),
        silent_intervals=2,
        hysteresis=0.1,
    )
    assert (config.smtp, config.board_url, config.path) == (None, None, "alerts.yaml")
    assert config.rotas[Jurisdiction.JS].scope is Scope.ALL
    assert config.display_name("js-chief") == "js-chief"
    partial = load(BASE.replace("rotas:\n", "timing:\n  hysteresis: 0.2\nrotas:\n"))
    assert partial.timing == Timing(hysteresis=0.2)


RECEIVERS = "[js-duty]"
HOURS = '"08:30-17:30"'
WEBHOOK = '"http://127.0.0.1:9300/js"'
TIER_2 = "      - tier: 2\n"


@pytest.mark.parametrize(
    ("old", "new", "marker", "message"),
    [
        # unknown keys and wrong types
        ("version: 1\n", "version: 1\ncolour: red\n", "colour", "alerts: unknown key 'colour'"),
        ("version: 1\n", 'version: "1"\n', "version", "version: expected an integer"),
        ("version: 1\n", "version: 2\n", "version", "version: 2 is outside 1..1"),
        (
            '    channels:\n      - {type: webhook, url: "http://127.0.0.1:9300/js/chief"}\n',
            "    name_zh: 带班领导\n",
            "带班领导",
            "receiver js-chief: missing required key 'channels'",
        ),
        ("    name_zh: 江苏省值班室\n", "    name: x\n", "name: x", "unknown key 'name'"),
        (
            "rotas:\n",
            "timing:\n  repeat_minutes: soon\nrotas:\n",
            "soon",
            "timing.repeat_minutes: expected a finite number",
        ),
        (
            "rotas:\n",
            "timing:\n  escalate_minutes: [120, 30]\nrotas:\n",
            "escalate",
            "timing.escalate_minutes[1]: must be later than the step before (120 min)",
        ),
        ("rotas:\n", "timing:\n  hysteresis: 1.5\nrotas:\n", "hysteresis", "must be below 1"),
        ("rotas:\n", "timing:\n  silent_intervals: 0.5\nrotas:\n", "silent", "0.5 is outside"),
        ("rotas:\n", "timing:\n  repeat: 10\nrotas:\n", "repeat", "unknown key 'repeat'"),
        # receivers and channels
        (RECEIVERS, "[js-nobody]", "js-nobody", "unknown receiver 'js-nobody'"),
        (RECEIVERS, "[]", "08:30", "receivers: must name at least one receiver"),
        (RECEIVERS, "[js-duty, js-duty]", "08:30", "'js-duty' is listed twice"),
        (
            '    channels:\n      - {type: webhook, url: "http://127.0.0.1:9300/js"}\n',
            "    channels: []\n",
            "channels: []",
            "receiver js-duty.channels: must list at least one channel",
        ),
        (WEBHOOK, '"ftp://127.0.0.1/js"', "ftp:", "'ftp://127.0.0.1/js' must be an http or https"),
        (WEBHOOK, '"127.0.0.1:9300/js"', "127.0.0.1:9300/js", "must be an http or https URL"),
        (WEBHOOK, '"http:///js"', "http:///js", "has no host"),
        (
            "version: 1\n",
            "version: 1\nboard_url: file:///tmp/x\n",
            "board_url",
            "board_url: 'file:///tmp/x' must be an http or https URL",
        ),
        (
            "type: webhook",
            "type: sms",
            "sms",
            "'sms' is not one of dingtalk, email, webhook, wecom",
        ),
        (
            'url: "http://127.0.0.1:9300/js"}',
            'url: "http://127.0.0.1:9300/js", at_mobiles: []}',
            "at_mobiles",
            "unknown key 'at_mobiles'",
        ),
        (
            '{type: webhook, url: "http://127.0.0.1:9300/js"}',
            '{type: wecom, url: "https://q.example/", mentioned_mobiles: [13800000000]}',
            "wecom",
            "expected a string, got an integer '13800000000' (quote it)",
        ),
        (
            '{type: webhook, url: "http://127.0.0.1:9300/js"}',
            "{type: email, to: [duty@js.example]}",
            "email",
            "an email channel needs the smtp section",
        ),
        # rotas: jurisdictions, scope, days, hours, tiers
        (
            "  JS:\n",
            "  JX:\n",
            "JX",
            "rotas: unknown jurisdiction 'JX' (one of JS, ZJ, SH, AH, TBA)",
        ),
        ("    tiers:\n", "    scope: some\n    tiers:\n", "scope", "'some' is not one of all, cr"),
        ("days: weekdays", "days: workdays", "workdays", "'workdays' is not one of all, weekda"),
        ("days: weekdays", "days: [mon, funday]", "funday", "'funday' is not one of fri, mon"),
        ("days: weekdays", "days: []", "days: []", "days: must list at least one day"),
        ("days: weekdays", "days: [mon, mon]", "mon, mon", "'mon' is listed twice"),
        (HOURS, '"8:30-17:30"', "8:30-17:30", "'8:30-17:30' is not \"HH:MM-HH:MM\""),
        (HOURS, '"08:30-25:00"', "25:00", 'is not "HH:MM-HH:MM" (00:00 to 24:00)'),
        (HOURS, '"24:00-08:00"', "24:00-08:00", 'is not "HH:MM-HH:MM"'),
        (HOURS, '"08:60-17:30"', "08:60", 'is not "HH:MM-HH:MM"'),
        (HOURS, '"08:30-24:30"', "24:30", 'is not "HH:MM-HH:MM"'),
        (HOURS, "17:30", "hours: 17:30", "expected a string, got an integer '17:30' (quote it)"),
        (TIER_2, "      - tier:  1\n", "tier:  1", "rota JS: duplicate tier 1 (first at line 13)"),
        ("tier: 2", "tier: 3", "    tiers:", "rota JS.tiers: no holes allowed, tier 2 missing"),
        ("tier: 1", "tier: 3", "    tiers:", "rota JS.tiers: must start at tier 1 (found 2, 3)"),
        ("tier: 2", "tier: 0", "tier: 0", "tiers[1].tier: 0 is outside 1..9"),
        ("[js-chief]}\n", "[js-chief]}\n  ZJ:\n    tiers: []\n", "tiers: []", "at least tier 1"),
        (
            TIER_2 + "        shifts:\n          - {days: all",
            TIER_2 + "        shifts: []\n          # {days: all",
            "shifts: []",
            "rota JS tier 2.shifts: must list at least one shift",
        ),
    ],
)
def test_each_mistake_is_reported_with_its_line(
    old: str, new: str, marker: str, message: str
) -> None:
    assert old in BASE
    text = BASE.replace(old, new, 1)
    (problem,) = problems_of(text)
    assert problem[0] == line_of(text, marker)
    assert message in problem[1]


def test_a_missing_secret_is_named() -> None:
    text = BASE.replace("rotas:\n", "  js-robot:\n    channels:\n" + DINGTALK + "rotas:\n")
    (problem,) = problems_of(text, {"BASIN_OTHER": "x"})
    assert problem == (
        line_of(text, "dingtalk"),
        "receiver js-robot.channels[0].secret_env: "
        "environment variable BASIN_DT_SECRET is not set (or empty)",
    )
    (empty,) = problems_of(text, {"BASIN_DT_SECRET": ""})
    assert "BASIN_DT_SECRET is not set" in empty[1]
    smtp = BASE.replace("rotas:\n", SMTP + "rotas:\n")
    (problem,) = problems_of(smtp)
    assert problem == (
        line_of(smtp, "password_env"),
        "smtp.password_env: environment variable BASIN_SMTP_PASSWORD is not set (or empty)",
    )
    assert load(smtp, SECRETS).smtp is not None


def test_smtp_login_needs_both_halves() -> None:
    text = BASE.replace("rotas:\n", "smtp:\n  host: mail\n  username: alerts\nrotas:\n")
    assert problems_of(text) == [
        (line_of(text, "host: mail"), "smtp: username and password_env go together")
    ]


def test_every_problem_of_a_file_is_reported_at_once() -> None:
    text = (
        "version: 1\n"
        "colour: red\n"
        "receivers:\n"
        "  js-duty:\n"
        "    channels:\n"
        '      - {type: webhook, url: "ftp://127.0.0.1/js"}\n'
        "  js robot:\n"
        "    channels:\n" + DINGTALK + "  js-mail:\n"
        "    channels:\n"
        "      - {type: email, to: [nobody]}\n"
        "rotas:\n"
        "  ZZ:\n"
        "    tiers: []\n"
        "  JS:\n"
        "    scope: cross_boundary\n"
        "    tiers:\n"
        "      - tier: 1\n"
        "        shifts:\n"
        '          - {days: [mon, funday], hours: "08:30-17:30", receivers: [js-duty]}\n'
        '          - {days: all, hours: "00:00-24:61", receivers: [js-duty, js-nobody]}\n'
        "      - tier: 3\n"
        "        shifts:\n"
        '          - {days: all, hours: "00:00-24:00", receivers: [js-mail]}\n'
        "  TBA:\n"
        "    tiers:\n"
        "      - tier: 2\n"
        "        shifts:\n"
        '          - {days: weekend, hours: "00:00-24:00", receivers: [js-duty]}\n'
    )
    problems = problems_of(text)
    assert [line for line, _ in problems] == [
        line_of(text, "colour"),
        line_of(text, "ftp:"),
        line_of(text, "js robot"),
        line_of(text, "dingtalk"),
        line_of(text, "nobody"),  # no smtp section
        line_of(text, "nobody"),  # and not an address
        line_of(text, "ZZ:"),
        line_of(text, "funday"),
        line_of(text, "24:61"),
        line_of(text, "24:61"),  # js-nobody
        line_of(text, "tiers:", 3),  # TBA tiers start at 2
    ]
    messages = [message for _, message in problems]
    for index, words in enumerate(
        [
            "alerts: unknown key 'colour'",
            "'ftp://127.0.0.1/js' must be an http or https URL",
            "receivers: 'js robot' is not a valid name",
            "environment variable BASIN_DT_SECRET is not set",
            "an email channel needs the smtp section",
            "receiver js-mail.channels[0].to[0]: 'nobody' does not match",
            "rotas: unknown jurisdiction 'ZZ'",
            "days[1]: 'funday' is not one of fri, mon, sat, sun, thu, tue, wed",
            "rota JS tier 1 shift 2.hours: '00:00-24:61' is not \"HH:MM-HH:MM\"",
            "rota JS tier 1 shift 2.receivers: unknown receiver 'js-nobody'",
            "rota TBA.tiers: must start at tier 1 (found 2)",
        ]
    ):
        assert words in messages[index]
    # JS's tiers 1 and 3: the hole is not reported while tier 1 has problems of its own.
    assert not any("hole" in message for message in messages)
    # The error's text lists every problem as file:line: message, in line order.
    with pytest.raises(ConfigError) as caught:
        load(text)
    assert str(caught.value).splitlines() == [f"alerts.yaml:{n}: {m}" for n, m in problems]


def test_an_unreadable_or_empty_file(tmp_path: Path) -> None:
    with pytest.raises(AlertsConfigError, match="cannot read the file"):
        load_alerts_config(tmp_path / "missing.yaml", {})
    with pytest.raises(AlertsConfigError, match="the file is empty"):
        load("")
    assert problems_of("version: 1\n") == [
        (1, "alerts: missing required key 'receivers'"),
        (1, "alerts: missing required key 'rotas'"),
    ]
    assert problems_of("- 1\n")[0][1] == "alerts: expected a mapping, got a list"


def test_email_channels_need_an_address_and_the_smtp_section() -> None:
    with_smtp = BASE.replace("rotas:\n", SMTP + "rotas:\n")
    text = with_smtp.replace(WEBHOOK.join(("{type: webhook, url: ", "}")), "{type: email, to: []}")
    assert problems_of(text, SECRETS) == [
        (line_of(text, "to: []"), "receiver js-duty.channels[0].to: must list at least one address")
    ]
    good = with_smtp.replace(
        WEBHOOK.join(("{type: webhook, url: ", "}")), "{type: email, to: [duty@js.example]}"
    )
    (channel,) = load(good, SECRETS).receivers["js-duty"].channels
    assert channel == EmailChannel(to=("duty@js.example",))


def test_a_channel_with_an_unknown_key_still_has_its_values_checked() -> None:
    text = BASE.replace(WEBHOOK + "}", '"ftp://x/js", token: abc}')
    assert problems_of(text) == [
        (6, "receiver js-duty.channels[0] (webhook): unknown key 'token' (allowed: type, url)"),
        (6, "receiver js-duty.channels[0].url: 'ftp://x/js' must be an http or https URL"),
    ]
