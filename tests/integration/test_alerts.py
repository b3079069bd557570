"""Alerts end to end: raw reports on the real broker, a real worker, notifications received by
real local receivers (an HTTP server, an SMTP server), the HTTP API, the CLI and the console in
real headless Chromium. The clock of repeats and escalation is driven by ticks the test sends."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from streams.testing.alerting import TPQ, alerts_yaml, by_path, reports, settle, tick, whats
from streams.testing.pipeline import TopicReader
from streams.testing.receivers import HttpReceiver, SmtpReceiver, free_port
from streams.topics import publish_all
from tests.browser import Browser
from tests.integration.conftest import REPO, TopicSet

TOPICS = ("raw", "assessed", "rejected", "breaches", "alerts", "commands")
TIER1 = {"/sh/tier1", "/js/tier1", "/tba/tier1"}  # the parties of 太浦河桥: owner, upstream, TBA
TIER2 = {"/sh/tier2", "/js/tier2", "/tba/tier2"}
TP_ALERT = f"{TPQ}:tpq-tp:tp"
CLASS_ALERT = f"{TPQ}:target-class:class"


def alert_worker(
    topics: TopicSet, start_worker: Any, config: Path, name: str = "worker"
) -> tuple[Any, dict[str, str]]:
    port = str(free_port())
    env = topics.worker_env(
        BASIN_ALERTS_PATH=str(config),
        BASIN_ALERTS_TICK_SECONDS="3600",  # the test is the clock
        BASIN_WORKER_WEB_PORT=port,
        BASIN_ALERTS_URL=f"http://127.0.0.1:{port}",
    )
    worker = start_worker(env, name=name)
    worker.wait_ready()
    return worker, env


def basin(env: dict[str, str], *args: str) -> str:
    run = subprocess.run(
        [sys.executable, "-m", "streams", *args], cwd=REPO, env=env, capture_output=True,
        timeout=60,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr.decode()
    return run.stdout.decode()


def api(env: dict[str, str], path: str) -> Any:
    import urllib.request

    with urllib.request.urlopen(env["BASIN_ALERTS_URL"] + path, timeout=10) as response:
        return json.loads(response.read())


def wait_until(check: Any, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.3)
    raise AssertionError(f"not true within {timeout} s: {check.__doc__ or check}")


def paged_at(body: dict[str, Any]) -> float:
    return datetime.fromisoformat(body["data"]["changes"][0]["alert"]["paged_at"]).timestamp()


def test_cross_boundary_breach_escalates_repeats_and_is_acknowledged(
    kafka: str,
    topics: TopicSet,
    start_worker: Any,
    http_receiver: HttpReceiver,
    smtp_receiver: SmtpReceiver,
    tmp_path: Path,
) -> None:
    topics.create(*TOPICS)
    config = alerts_yaml(tmp_path / "alerts.yaml", http_receiver, smtp_receiver)
    worker, env = alert_worker(topics, start_worker, config)
    alerts_topic = TopicReader(kafka, topics.name("alerts"))

    # 1st report beyond both limits: pending; 2nd: both rules breached in one evaluation
    publish_all(kafka, topics.name("raw"), reports(TPQ, [0.30, 0.31, 0.32], full=True))
    got = by_path(settle(http_receiver, 3))
    assert set(got) == TIER1, "owner, the upstream party and the basin authority, nobody else"
    for bodies in got.values():
        (body,) = bodies  # grouped: one message with both alerts
        assert sorted(whats(body)) == [(CLASS_ALERT, "firing"), (TP_ALERT, "firing")]
        assert body["title"].startswith("【告警】太浦河桥")
        words = ("总磷", "上海市", "通报: 江苏省、太湖流域管理局", "Ⅲ类", "var-station=SH-CJ-009")
        for word in words:
            assert word in body["markdown"], word
    (mail,) = smtp_receiver.wait_for(1, timeout=30)
    assert list(mail.rcpt_tos) == ["duty@sh.example"] and "太浦河桥" in mail.subject
    assert "总磷: 观测值 0.31 mg/L, 限值 0.15 mg/L" in mail.body

    # escalation: unacknowledged 31 minutes after the page, tier 2 of each party
    first = paged_at(got["/sh/tier1"][0])
    tick(kafka, topics.name("commands"), TPQ, first + 31 * 60, topics.partitions)
    later = by_path(settle(http_receiver, 6)[3:])
    assert set(later) == TIER2
    for (body,) in later.values():
        assert sorted(whats(body)) == [(CLASS_ALERT, "escalated-2"), (TP_ALERT, "escalated-2")]
        assert "已升级至第 2 级" in body["markdown"]

    # repeat: four hours later, still unacknowledged: tiers 1 and 2 again
    tick(kafka, topics.name("commands"), TPQ, first + (31 + 240) * 60, topics.partitions)
    later = by_path(settle(http_receiver, 12)[6:])
    assert set(later) == TIER1 | TIER2
    assert all(whats(b) == [(CLASS_ALERT, "repeat-1"), (TP_ALERT, "repeat-1")] or
               whats(b) == [(TP_ALERT, "repeat-1"), (CLASS_ALERT, "repeat-1")]
               for (b,) in later.values())  # fmt: skip

    # acknowledged from the CLI: everyone paged is told, once
    out = basin(env, "alerts", "ack", TP_ALERT, "--by", "张三", "--note", "已通知现场核查")
    assert "accepted" in out
    later = by_path(settle(http_receiver, 18)[12:])
    assert set(later) == TIER1 | TIER2
    for (body,) in later.values():
        assert whats(body) == [(TP_ALERT, "acknowledged")]
        assert "已由 张三" in body["markdown"] and "已通知现场核查" in body["markdown"]
    listed = json.loads(basin(env, "alerts", "list", "--jurisdiction", "JS", "--json"))
    states = {a["id"]: (a["state"], a["acked_by"], a["tier"]) for a in listed["alerts"]}
    assert states == {TP_ALERT: ("acknowledged", "张三", 2), CLASS_ALERT: ("firing", None, 2)}
    assert api(env, "/alerts/?jurisdiction=ZJ")["alerts"] == []  # not a party

    # the station falls silent (no report for two 4-hour intervals): a data-gap alert
    tick(kafka, topics.name("commands"), TPQ, time.time() + 8 * 3600 + 120, topics.partitions)
    later = by_path(settle(http_receiver, 21)[18:])
    assert set(later) == TIER1
    for (body,) in later.values():
        assert whats(body) == [(f"{TPQ}:station-silent:report", "firing")]
        assert "站点无数据上报" in body["title"]
    assert len(http_receiver.requests) == 21, "nothing else: the parameter alerts are inhibited"

    # every delivery is recorded in wq.alerts
    wait_until(lambda: alerts_topic.poll() and _deliveries(alerts_topic) >= 21)
    docs = [json.loads(r.value) for r in alerts_topic.records]
    deliveries = [d for d in docs if d["kind"] == "delivery"]
    assert all(d["ok"] for d in deliveries)
    assert worker.stop() == 0, worker.output()[-3000:]


def _deliveries(reader: TopicReader) -> int:
    return sum(json.loads(r.value)["kind"] == "delivery" for r in reader.records)


def test_flapping_value_alerts_once_and_silenced_station_pages_nobody(
    kafka: str,
    topics: TopicSet,
    start_worker: Any,
    http_receiver: HttpReceiver,
    tmp_path: Path,
) -> None:
    topics.create(*TOPICS)
    config = alerts_yaml(tmp_path / "alerts.yaml", http_receiver)
    worker, env = alert_worker(topics, start_worker, config)
    alerts_topic = TopicReader(kafka, topics.name("alerts"))

    # a maintenance window on 斜塘口 (SH-CJ-011), set from the CLI, seen by the API
    out = basin(env, "alerts", "silence", "--station", "SH-CJ-011", "--hours", "2",
                "--author", "王五", "--reason", "更换溶解氧电极")  # fmt: skip
    assert "1 station(s) silenced" in out
    wait_until(lambda: api(env, "/alerts/silences/")["silences"])
    (silence,) = api(env, "/alerts/silences/")["silences"]
    assert (silence["station_name"], silence["author"]) == ("斜塘口", "王五")

    # TP hovering around the 0.15 limit of 太浦河桥; low oxygen at the silenced station
    flapping = [0.16, 0.17, 0.14, 0.16, 0.14, 0.14, 0.16, 0.17, 0.14, 0.145, 0.12]
    low_oxygen = reports("SH-CJ-011", [0.05, 0.05, 0.05], do=2.0)
    publish_all(kafka, topics.name("raw"), reports(TPQ, flapping) + low_oxygen)

    got = by_path(settle(http_receiver, 6, quiet=5))
    assert set(got) == TIER1
    for bodies in got.values():
        assert [whats(b) for b in bodies] == [[(TP_ALERT, "firing")], [(TP_ALERT, "resolved")]]
        assert bodies[1]["title"].startswith("【恢复】太浦河桥")

    def silenced_firing() -> list[dict[str, Any]]:
        """the silenced station's alert fired in wq.alerts, with no tiers to page"""
        alerts_topic.poll()
        changes = [
            c
            for doc in map(json.loads, (r.value for r in alerts_topic.records))
            if doc["kind"] == "changes"
            for c in doc["changes"]
            if c["alert"]["station"] == "SH-CJ-011" and c["what"] == "firing"
        ]
        return changes

    (change,) = wait_until(silenced_firing)
    assert change["tiers"] == [] and "silenced by 王五" in change["suppressed"]
    assert all("SH-CJ-011" not in r.body.decode() for r in http_receiver.requests)
    assert worker.stop() == 0, worker.output()[-3000:]


def test_sigkill_restart_and_replay_page_nobody_twice(
    kafka: str,
    topics: TopicSet,
    start_worker: Any,
    http_receiver: HttpReceiver,
    tmp_path: Path,
) -> None:
    topics.create(*TOPICS)
    config = alerts_yaml(tmp_path / "alerts.yaml", http_receiver)
    first, _ = alert_worker(topics, start_worker, config, name="first")
    breach = reports(TPQ, [0.30, 0.31])
    publish_all(kafka, topics.name("raw"), breach)
    http_receiver.wait_for(3, timeout=60)
    time.sleep(0.5)  # delivered and remembered; wq.alerts' offsets are not committed yet
    first.kill()

    second, _ = alert_worker(topics, start_worker, config, name="second")
    # a replay of the same input, and one more result still beyond the limit
    publish_all(kafka, topics.name("raw"), breach + reports(TPQ, [0.30, 0.31, 0.32])[2:])
    rejected = TopicReader(kafka, topics.name("rejected"))
    wait_until(lambda: rejected.poll() >= 2, timeout=60)  # the replayed reports: duplicates
    assessed = TopicReader(kafka, topics.name("assessed"))
    wait_until(lambda: assessed.poll() >= 3, timeout=60)
    requests = settle(http_receiver, 3, quiet=8)
    assert len(requests) == 3, [r.path for r in requests]
    assert {r.path for r in requests} == TIER1
    assert second.stop() == 0, second.output()[-3000:]


@pytest.mark.asyncio
async def test_console_in_headless_chromium_acknowledges_a_firing_alert(
    kafka: str,
    topics: TopicSet,
    start_worker: Any,
    http_receiver: HttpReceiver,
    browser: Browser,
    tmp_path: Path,
) -> None:
    topics.create(*TOPICS)
    config = alerts_yaml(tmp_path / "alerts.yaml", http_receiver)
    worker, env = alert_worker(topics, start_worker, config)
    publish_all(kafka, topics.name("raw"), reports(TPQ, [0.30, 0.31]))
    http_receiver.wait_for(3, timeout=60)

    await browser.open(env["BASIN_ALERTS_URL"] + "/console/?jurisdiction=JS&refresh=1")
    row = f'tr[data-alert-id="{TP_ALERT}"]'
    await browser.wait_for(f"document.querySelector('{row}[data-state=firing]') !== null", 20)
    station = await browser.text(f'{row} td[data-col="station"]')
    assert station is not None and "太浦河桥" in station
    await browser.type("#name", "李四")
    await browser.type("#note", "现场采样复核")
    await browser.click(f'button[data-ack="{TP_ALERT}"]')
    await browser.wait_for(f"document.querySelector('{row}[data-state=acknowledged]') !== null", 30)

    requests = settle(http_receiver, 6)
    acked = by_path(requests[3:])
    assert set(acked) == TIER1
    for (body,) in acked.values():
        assert whats(body) == [(TP_ALERT, "acknowledged")]
        assert "已由 李四" in body["markdown"] and "现场采样复核" in body["markdown"]
    assert worker.stop() == 0, worker.output()[-3000:]


def test_a_wrong_alerts_file_stops_the_worker_naming_the_line(
    topics: TopicSet, start_worker: Any, tmp_path: Path
) -> None:
    bad = tmp_path / "alerts.yaml"
    bad.write_text("version: 1\nreceivers:\n  x:\n    channels: []\nrotas: {XX: {tiers: []}}\n")
    worker = start_worker(topics.worker_env(BASIN_ALERTS_PATH=str(bad)))
    assert worker.proc.wait(60) != 0
    output = worker.output()
    assert f"{bad}:4" in output, output[-2000:]
    assert "XX" in output
