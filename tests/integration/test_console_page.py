"""The alert console page (alerts/console.html) in real headless Chromium against a fake alerts API.

The fake keeps the API's contract: GET /alerts/?jurisdiction=XX lists the alerts where XX is a
party, POST /alerts/ack/ answers 202 and applies the acknowledgement a little later (as the
command through Kafka does), 400/404 with {"error"} otherwise. It serves the real page at
/console/ and records every request.
"""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web

from tests.browser import Browser

PAGE = Path(__file__).resolve().parents[2] / "alerts" / "console.html"

TPQ = "SH-CJ-009:tpq-tp:tp"  # firing, SH with JS and TBA as parties
SHAZHU = "JS-WX-001:lake-codmn:codmn"  # acknowledged, JS
XUKOU = "JS-SZ-004:lake-tn:tn"  # pending, JS
DONGBA = "JS-CZ-002:river-nh3n:nh3n"  # resolved, JS
XINTANG = "ZJ-HZ-003:river-do:do"  # firing, ZJ and TBA only
GONE = "JS-WX-007:lake-tp:tp"  # firing in the list, but the API no longer knows it (404)


def alert(
    alert_id: str,
    *,
    station_name: str,
    jurisdiction: str,
    parties: list[str],
    parameter: str,
    parameter_name: str,
    unit: str,
    state: str,
    observed: float,
    limit: float,
    since: str,
    severity: str = "warning",
    tier: int = 1,
    acked_by: str | None = None,
    ack_note: str | None = None,
) -> dict[str, Any]:
    station, rule, _ = alert_id.split(":")
    names = {
        "JS": "江苏省",
        "ZJ": "浙江省",
        "SH": "上海市",
        "AH": "安徽省",
        "TBA": "太湖流域管理局",
    }
    state_names = {
        "firing": "告警中",
        "acknowledged": "已确认",
        "pending": "待定",
        "resolved": "已恢复",
    }
    return {
        "id": alert_id,
        "station": station,
        "station_name": station_name,
        "jurisdiction": jurisdiction,
        "jurisdiction_name": names[jurisdiction],
        "parties": parties,
        "rule": rule,
        "parameter": parameter,
        "parameter_name": parameter_name,
        "unit": unit,
        "severity": severity,
        "state": state,
        "state_name": state_names[state],
        "observed": observed,
        "limit": limit,
        "since": since,
        "fired_at": None if state == "pending" else since,
        "tier": tier,
        "acked_by": acked_by,
        "ack_note": ack_note,
        "acked_at": "2025-07-14T01:00:00+00:00" if acked_by else None,
        "message": f"{station_name}{parameter_name}超标",
        "silenced": False,
    }


def canned_alerts() -> list[dict[str, Any]]:
    return [
        # 2025-07-14T08:05:00Z is 16:05 in Beijing.
        alert(
            TPQ,
            station_name="太浦河桥",
            jurisdiction="SH",
            parties=["SH", "JS", "TBA"],
            parameter="tp",
            parameter_name="总磷",
            unit="mg/L",
            state="firing",
            observed=0.21,
            limit=0.15,
            since="2025-07-14T08:05:00+00:00",
            tier=2,
        ),
        # 23:30 UTC on the 13th is already the 14th in Beijing; microseconds as Python writes them.
        alert(
            SHAZHU,
            station_name="沙渚",
            jurisdiction="JS",
            parties=["JS", "TBA"],
            parameter="codmn",
            parameter_name="高锰酸盐指数",
            unit="mg/L",
            state="acknowledged",
            observed=6.8,
            limit=6.0,
            since="2025-07-13T23:30:00.123456+00:00",
            acked_by="王芳",
            ack_note="已通知现场",
        ),
        alert(
            XUKOU,
            station_name="胥口",
            jurisdiction="JS",
            parties=["JS"],
            parameter="tn",
            parameter_name="总氮",
            unit="mg/L",
            state="pending",
            observed=2.1,
            limit=2.0,
            since="2025-07-14T09:00:00+00:00",
        ),
        alert(
            DONGBA,
            station_name="东坝",
            jurisdiction="JS",
            parties=["JS"],
            parameter="nh3n",
            parameter_name="氨氮",
            unit="mg/L",
            state="resolved",
            observed=0.9,
            limit=1.0,
            since="2025-07-14T02:00:00+00:00",
        ),
        alert(
            XINTANG,
            station_name="新塘",
            jurisdiction="ZJ",
            parties=["ZJ", "TBA"],
            parameter="do",
            parameter_name="溶解氧",
            unit="mg/L",
            state="firing",
            observed=2.5,
            limit=3.0,
            since="2025-07-14T03:10:00+00:00",
            severity="critical",
        ),
    ]


@dataclass
class FakeAlertApi:
    """The worker's alerts API as the console sees it; ``url`` once started."""

    alerts: list[dict[str, Any]] = field(default_factory=canned_alerts)
    silences: list[dict[str, Any]] = field(default_factory=list)
    gets: list[str] = field(default_factory=list)  # query strings of GET /alerts/
    posts: list[str] = field(default_factory=list)  # raw bodies of POST /alerts/ack/
    list_status: int | None = None  # answer GET /alerts/ with this error status
    ack_delay: float = 0.6  # seconds before an accepted acknowledgement shows
    unknown: set[str] = field(default_factory=set)  # ids the ack endpoint answers 404 for
    url: str = ""

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/console/", self.console)
        app.router.add_get("/alerts/", self.list_alerts)
        app.router.add_post("/alerts/ack/", self.ack)
        return app

    async def console(self, request: web.Request) -> web.StreamResponse:
        return web.Response(body=PAGE.read_bytes(), content_type="text/html", charset="utf-8")

    async def list_alerts(self, request: web.Request) -> web.Response:
        self.gets.append(request.query_string)
        if self.list_status is not None:
            return web.json_response(
                {"error": "告警存储不可用 alert store unavailable"}, status=self.list_status
            )
        jurisdiction = request.query.get("jurisdiction")
        alerts = [a for a in self.alerts if jurisdiction is None or jurisdiction in a["parties"]]
        return web.json_response({"alerts": alerts, "silences": self.silences})

    async def ack(self, request: web.Request) -> web.Response:
        raw = await request.text()
        self.posts.append(raw)
        try:
            body = json.loads(raw)
        except ValueError:
            return web.json_response({"error": "请求不是 JSON body is not JSON"}, status=400)
        if not isinstance(body, dict) or not str(body.get("by") or "").strip():
            return web.json_response({"error": "缺少确认人 by is required"}, status=400)
        target = next((a for a in self.alerts if a["id"] == body.get("id")), None)
        if target is None or target["id"] in self.unknown:
            return web.json_response({"error": "告警不存在 alert not found"}, status=404)
        asyncio.get_running_loop().call_later(
            self.ack_delay, self.apply_ack, target["id"], body["by"], body.get("note")
        )
        return web.json_response({"accepted": True}, status=202)

    def apply_ack(self, alert_id: str, by: str, note: str | None) -> None:
        for a in self.alerts:
            if a["id"] == alert_id and a["state"] == "firing":
                a.update(
                    state="acknowledged",
                    state_name="已确认",
                    acked_by=by,
                    ack_note=note or None,
                    acked_at=datetime.now(UTC).isoformat(),
                )


@pytest_asyncio.fixture
async def api() -> AsyncIterator[FakeAlertApi]:
    fake = FakeAlertApi()
    runner = web.AppRunner(fake.app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    fake.url = f"http://{host}:{port}"
    try:
        yield fake
    finally:
        await runner.cleanup()


ROWS = """[...document.querySelectorAll('#alert-rows tr[data-alert-id]')].map(tr => ({
    id: tr.dataset.alertId, state: tr.dataset.state, pending: tr.classList.contains('pending'),
    cells: Object.fromEntries([...tr.cells].map(td => [
        td.dataset.col, td.innerText.replace(/\\s+/g, ' ').trim()]))}))"""


def ack_button(alert_id: str) -> str:
    return f"button[data-ack={json.dumps(alert_id)}]"


def row_of(alert_id: str) -> str:
    return f"document.querySelector('tr[data-alert-id={json.dumps(alert_id)}]')"


async def rows(browser: Browser) -> list[dict[str, Any]]:
    found = await browser.evaluate(ROWS)
    assert isinstance(found, list)
    return found


async def loaded(browser: Browser) -> None:
    await browser.wait_for("document.querySelector('#updated').textContent !== ''")


@pytest.mark.asyncio
async def test_lists_the_firing_and_acknowledged_alerts_of_the_jurisdiction(
    api: FakeAlertApi, browser: Browser
) -> None:
    # The browser's own zone is far from Beijing: the page must convert, not use local time.
    await browser.emulate_timezone("America/New_York")
    await browser.open(f"{api.url}/console/?jurisdiction=JS")
    await loaded(browser)

    assert api.gets and set(api.gets) == {"jurisdiction=JS"}
    found = await rows(browser)
    assert [r["id"] for r in found] == [TPQ, SHAZHU, XUKOU]  # firing, acknowledged, pending
    assert [r["state"] for r in found] == ["firing", "acknowledged", "pending"]
    assert [r["pending"] for r in found] == [False, False, True]  # pending is greyed
    tpq, shazhu, xukou = (r["cells"] for r in found)

    assert tpq["station"] == "太浦河桥 SH-CJ-009"
    assert tpq["jurisdiction"].startswith("上海市 SH")
    assert "江苏省" in tpq["jurisdiction"] and "太湖流域管理局" in tpq["jurisdiction"]
    assert tpq["parameter"].startswith("总磷 tp")
    assert tpq["value"] == "0.21 / 0.15 mg/L"
    assert tpq["state"] == "告警中"
    assert tpq["since"] == "2025-07-14 16:05"  # 08:05 UTC in Beijing time
    assert tpq["tier"] == "2"
    assert "确认" in tpq["ack"]

    assert shazhu["station"] == "沙渚 JS-WX-001"
    assert shazhu["value"] == "6.8 / 6 mg/L"
    assert shazhu["state"] == "已确认"
    assert shazhu["since"] == "2025-07-14 07:30"  # 23:30 UTC the day before
    assert shazhu["ack"].startswith("王芳 已通知现场")
    assert await browser.evaluate(f"{row_of(SHAZHU)}.querySelector('button') === null")

    assert xukou["state"] == "待定"
    assert xukou["ack"] == "—"

    assert await browser.evaluate("document.querySelector('#jurisdiction').value") == "JS"
    count = await browser.evaluate(
        "(({count, firing, acknowledged, pending}) => [count, firing, acknowledged, pending])"
        "(document.querySelector('#count').dataset)"
    )
    assert count == ["3", "1", "1", "1"]
    assert await browser.evaluate("document.querySelector('#error').hidden") is True

    # The selector: Zhejiang sees its own firing alert, not the others; the URL follows.
    await browser.select("#jurisdiction", "ZJ")
    await browser.wait_for(f"{row_of(XINTANG)} !== null")
    assert [r["id"] for r in await rows(browser)] == [XINTANG]
    assert api.gets[-1] == "jurisdiction=ZJ"
    assert await browser.evaluate("location.search") == "?jurisdiction=ZJ"
    assert (await rows(browser))[0]["cells"]["since"] == "2025-07-14 11:10"
    assert browser.exceptions == []


@pytest.mark.asyncio
async def test_acknowledge_posts_id_by_note_and_the_row_turns_acknowledged(
    api: FakeAlertApi, browser: Browser
) -> None:
    await browser.open(f"{api.url}/console/?jurisdiction=JS")
    await loaded(browser)
    await browser.type("#name", "李明")
    await browser.type("#note", "已电话通知吴江站")
    await browser.wait_for(f"!document.querySelector('{ack_button(TPQ)}').disabled")

    await browser.click(ack_button(TPQ))

    # Applied asynchronously (0.6 s in the fake): the page polls until it shows, well before
    # its 5 s refresh.
    await browser.wait_for(f"{row_of(TPQ)}?.dataset.state === 'acknowledged'", timeout=4)
    assert len(api.posts) == 1
    body = json.loads(api.posts[0])
    assert body == {"id": TPQ, "by": "李明", "note": "已电话通知吴江站"}
    assert list(body) == ["id", "by", "note"]

    row = next(r for r in await rows(browser) if r["id"] == TPQ)
    assert row["cells"]["state"] == "已确认"
    assert row["cells"]["ack"].startswith("李明 已电话通知吴江站")
    assert await browser.evaluate(f"{row_of(TPQ)}.querySelector('button') === null")
    assert await browser.evaluate("document.querySelector('#error').hidden") is True
    assert await browser.evaluate("document.querySelector('#note').value") == ""

    # The name is remembered for the next visit; the note is not.
    await browser.open(f"{api.url}/console/?jurisdiction=SH")
    await loaded(browser)
    assert await browser.evaluate("document.querySelector('#name').value") == "李明"
    assert browser.exceptions == []


@pytest.mark.asyncio
async def test_the_acknowledge_button_is_disabled_without_a_name(
    api: FakeAlertApi, browser: Browser
) -> None:
    await browser.open(f"{api.url}/console/")
    await loaded(browser)
    assert await browser.evaluate("document.querySelector('#name').value") == ""
    assert await browser.evaluate(f"document.querySelector('{ack_button(TPQ)}').disabled")

    await browser.click(ack_button(TPQ))  # a real click on a disabled button does nothing
    await asyncio.sleep(0.3)
    assert api.posts == []

    await browser.type("#name", "   ")  # blanks are no name
    assert await browser.evaluate(f"document.querySelector('{ack_button(TPQ)}').disabled")
    await browser.type("#name", "赵强")
    assert not await browser.evaluate(f"document.querySelector('{ack_button(TPQ)}').disabled")
    await browser.type("#name", "")
    assert await browser.evaluate(f"document.querySelector('{ack_button(TPQ)}').disabled")
    assert api.posts == []
    assert browser.exceptions == []


@pytest.mark.asyncio
async def test_a_refused_acknowledgement_is_shown(api: FakeAlertApi, browser: Browser) -> None:
    gone = copy.deepcopy(api.alerts[0])
    gone.update(id=GONE, station="JS-WX-007", station_name="拖山", parties=["JS"])
    api.alerts.append(gone)
    api.unknown.add(GONE)
    await browser.open(f"{api.url}/console/?jurisdiction=JS")
    await loaded(browser)
    await browser.type("#name", "李明")
    await browser.click(ack_button(GONE))

    error = await browser.wait_for(
        "!document.querySelector('#error').hidden && document.querySelector('#error').textContent"
    )
    assert "告警不存在 alert not found" in error
    assert "404" in error
    assert json.loads(api.posts[0]) == {"id": GONE, "by": "李明", "note": ""}
    # The button is back for another try.
    assert not await browser.evaluate(f"document.querySelector('{ack_button(GONE)}').disabled")
    assert browser.exceptions == []


@pytest.mark.asyncio
async def test_an_error_line_when_the_api_fails_and_it_goes_when_it_recovers(
    api: FakeAlertApi, browser: Browser
) -> None:
    api.list_status = 503
    await browser.open(f"{api.url}/console/?jurisdiction=JS&refresh=1")
    error = await browser.wait_for(
        "!document.querySelector('#error').hidden && document.querySelector('#error').textContent"
    )
    assert "无法加载告警列表" in error
    assert "503" in error and "alert store unavailable" in error
    assert await rows(browser) == []

    api.list_status = None  # the next refresh (1 s here) loads and clears the line
    await browser.wait_for(f"{row_of(TPQ)} !== null", timeout=4)
    assert await browser.evaluate("document.querySelector('#error').hidden") is True
    assert browser.exceptions == []


@pytest.mark.asyncio
async def test_an_error_line_when_the_server_is_gone(browser: Browser) -> None:
    # A server of its own that stops answering altogether after the page is loaded.
    fake = FakeAlertApi()
    runner = web.AppRunner(fake.app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        await browser.open(f"http://{host}:{port}/console/?refresh=1")
        await loaded(browser)
        assert await browser.evaluate("document.querySelector('#error').hidden") is True
    finally:
        await runner.cleanup()

    error = await browser.wait_for(
        "!document.querySelector('#error').hidden && document.querySelector('#error').textContent",
        timeout=4,
    )
    assert "无法加载告警列表" in error and "network error" in error
    # The last list stays visible, marked stale.
    assert len(await rows(browser)) == 4
    assert await browser.evaluate("document.querySelector('#alerts').classList.contains('stale')")
    assert browser.exceptions == []
