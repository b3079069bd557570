"""Real headless Chromium for page tests, driven over the Chrome DevTools Protocol (CDP).

No WebDriver: chromium is started with ``--remote-debugging-port=0`` and a throwaway profile, the
port is read from ``DevToolsActivePort`` in the profile, and one websocket (aiohttp's client)
carries every command. Clicks and typing go through ``Input.*``, so they are real browser input:
a disabled button does not react to a click.

    async with Browser() as page:
        await page.open("http://127.0.0.1:8000/console/")
        await page.type("#name", "李明")
        await page.click("button[data-ack]")
        await page.wait_for("document.querySelector('#error').hidden")

The ``browser`` fixture gives one fresh browser per test. Chromium comes from Debian's package,
installed by ``deploy/local/chromium.sh install``; when it is missing the test fails (never skips).
``BASIN_CHROMIUM`` overrides the executable.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import aiohttp
import pytest
import pytest_asyncio

REPO = Path(__file__).resolve().parents[1]
CHROMIUM_SH = REPO / "deploy" / "local" / "chromium.sh"
INSTALL_HINT = "run: deploy/local/chromium.sh install"

# The flags the project starts chromium with; the harness adds only the DevTools port, the
# throwaway profile and the quiet first run.
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking")
HARNESS_FLAGS = ("--remote-debugging-port=0", "--no-first-run", "--no-default-browser-check")


class BrowserError(Exception):
    """Chromium could not do what was asked (start, navigate, find an element...)."""


class ChromiumMissing(BrowserError):
    """No chromium executable: ``deploy/local/chromium.sh install`` installs it."""


class JavaScriptError(BrowserError):
    """An expression evaluated in the page threw."""


class WaitTimeout(BrowserError, AssertionError):
    """A :meth:`Browser.wait_for` condition stayed false until the timeout."""


def find_chromium() -> str:
    """The chromium executable: ``$BASIN_CHROMIUM``, else ``deploy/local/chromium.sh path``."""
    override = os.environ.get("BASIN_CHROMIUM")
    if override:
        if os.access(override, os.X_OK) and Path(override).is_file():
            return override
        raise ChromiumMissing(
            f"BASIN_CHROMIUM={override} is not an executable file; unset it and {INSTALL_HINT}"
        )
    result = subprocess.run(
        [str(CHROMIUM_SH), "path"], capture_output=True, text=True, timeout=30, check=False
    )
    path = result.stdout.strip()
    if result.returncode != 0 or not path:
        raise ChromiumMissing(
            f"chromium is not installed ({result.stderr.strip() or 'no path'}); {INSTALL_HINT}"
        )
    return path


class Browser:
    """One headless Chromium process and one page (tab) in it.

    Use as ``async with Browser() as page`` or ``page = await Browser().start()`` then
    ``await page.close()``. ``console`` collects the page's console messages as
    ``(type, text)``; ``exceptions`` the uncaught JavaScript exceptions, as text.
    """

    def __init__(self, executable: str | None = None, *, start_timeout: float = 30.0) -> None:
        self.executable = executable or find_chromium()
        self.start_timeout = start_timeout
        self.console: list[tuple[str, str]] = []
        self.exceptions: list[str] = []
        self._profile: str | None = None
        self._log: IO[bytes] | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._http: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task[None] | None = None
        self._ids = itertools.count(1)
        self._calls: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._waiters: list[tuple[str, asyncio.Future[dict[str, Any]]]] = []
        self._session: str | None = None

    # ---- life cycle --------------------------------------------------------------------------

    async def __aenter__(self) -> Browser:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def start(self) -> Browser:
        """Start chromium, connect to it and open one blank page."""
        try:
            await self._launch()
            await self._attach()
        except BaseException:
            await self.close()
            raise
        return self

    async def _launch(self) -> None:
        self._profile = tempfile.mkdtemp(prefix="basin-chromium-")
        self._log = open(Path(self._profile) / "chromium.log", "wb")  # noqa: SIM115 (closed in close)
        argv = [
            self.executable,
            *FLAGS,
            *HARNESS_FLAGS,
            f"--user-data-dir={self._profile}",
            "about:blank",
        ]
        # A session of its own: close() can end chromium's helper processes with its group.
        self._process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        port_file = Path(self._profile) / "DevToolsActivePort"
        deadline = time.monotonic() + self.start_timeout
        while True:
            if self._process.poll() is not None:
                raise BrowserError(
                    f"chromium exited with status {self._process.returncode} while starting:\n"
                    + self.log_tail()
                )
            lines = port_file.read_text().split() if port_file.exists() else []
            if len(lines) >= 2:
                port, path = lines[0], lines[1]
                break
            if time.monotonic() > deadline:
                raise BrowserError(
                    f"chromium did not open its DevTools port within {self.start_timeout} s:\n"
                    + self.log_tail()
                )
            await asyncio.sleep(0.05)
        self._http = aiohttp.ClientSession()
        self._ws = await self._http.ws_connect(f"ws://127.0.0.1:{port}{path}", max_msg_size=0)
        self._reader = asyncio.get_running_loop().create_task(self._read())

    async def _attach(self) -> None:
        target = await self.send("Target.createTarget", {"url": "about:blank"}, page=False)
        attached = await self.send(
            "Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}, page=False
        )
        self._session = attached["sessionId"]
        await self.send("Page.enable")
        await self.send("Runtime.enable")

    async def close(self) -> None:
        """Close the browser and remove its profile. Idempotent."""
        if self._ws is not None and not self._ws.closed:
            with contextlib.suppress(BrowserError, TimeoutError, aiohttp.ClientError):
                await self.send("Browser.close", page=False, timeout=5)
            await self._ws.close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._http is not None:
            await self._http.close()
        self._ws = self._http = self._reader = None
        if self._process is not None:
            deadline = time.monotonic() + 10
            while self._process.poll() is None and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            # Whatever is left of the group this browser started (renderers, zygote...).
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait()
            self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._profile is not None:
            shutil.rmtree(self._profile, ignore_errors=True)
            self._profile = None

    def log_tail(self, lines: int = 30) -> str:
        """The last lines chromium wrote to stderr/stdout."""
        if self._profile is None:
            return ""
        log = Path(self._profile) / "chromium.log"
        if self._log is not None:
            self._log.flush()
        text = log.read_text(errors="replace") if log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    # ---- the protocol --------------------------------------------------------------------------

    async def send(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        *,
        page: bool = True,
        timeout: float = 30.0,
    ) -> dict[str, Any]:
        """One CDP command, to the page (``page=True``) or to the browser; returns its result."""
        if self._ws is None or self._ws.closed:
            raise BrowserError(f"{method}: the browser is not connected")
        call_id = next(self._ids)
        message: dict[str, Any] = {"id": call_id, "method": method, "params": params or {}}
        if page:
            if self._session is None:
                raise BrowserError(f"{method}: no page attached")
            message["sessionId"] = self._session
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._calls[call_id] = future
        try:
            await self._ws.send_str(json.dumps(message))
            reply = await asyncio.wait_for(future, timeout)
        except TimeoutError:
            raise BrowserError(f"{method}: no answer from chromium within {timeout} s") from None
        finally:
            self._calls.pop(call_id, None)
        if "error" in reply:
            raise BrowserError(f"{method}: {reply['error'].get('message')} ({reply['error']})")
        result: dict[str, Any] = reply.get("result", {})
        return result

    def _expect(self, method: str) -> asyncio.Future[dict[str, Any]]:
        """A future for the next event ``method`` of the page (register before causing it)."""
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiters.append((method, future))
        return future

    async def _read(self) -> None:
        assert self._ws is not None
        try:
            async for msg in self._ws:
                if msg.type != aiohttp.WSMsgType.TEXT:
                    continue
                data = json.loads(msg.data)
                if "id" in data:
                    future = self._calls.get(data["id"])
                    if future is not None and not future.done():
                        future.set_result(data)
                elif data.get("sessionId") == self._session:
                    self._event(data.get("method", ""), data.get("params", {}))
        finally:
            gone = BrowserError("the connection to chromium closed:\n" + self.log_tail())
            for future in [*self._calls.values(), *(f for _, f in self._waiters)]:
                if not future.done():
                    future.set_exception(gone)
                    future.exception()  # retrieved: no "never retrieved" warning if unused
            self._waiters.clear()

    def _event(self, method: str, params: dict[str, Any]) -> None:
        if method == "Runtime.consoleAPICalled":
            text = " ".join(_remote_text(arg) for arg in params.get("args", []))
            self.console.append((params.get("type", "log"), text))
        elif method == "Runtime.exceptionThrown":
            self.exceptions.append(_exception_text(params.get("exceptionDetails", {})))
        keep = []
        for waited, future in self._waiters:
            if waited == method and not future.done():
                future.set_result(params)
            elif not future.done():
                keep.append((waited, future))
        self._waiters = keep

    # ---- page actions --------------------------------------------------------------------------

    async def open(self, url: str, *, timeout: float = 15.0) -> None:
        """Navigate to ``url`` and wait for its load event."""
        loaded = self._expect("Page.loadEventFired")
        try:
            result = await self.send("Page.navigate", {"url": url}, timeout=timeout)
            if result.get("errorText"):
                raise BrowserError(f"navigating to {url}: {result['errorText']}")
            if "loaderId" in result:  # else a same-document navigation: no load event
                await asyncio.wait_for(loaded, timeout)
        except TimeoutError:
            raise BrowserError(f"{url} did not finish loading within {timeout} s") from None
        finally:
            if not loaded.done():
                loaded.cancel()
            self._waiters = [(m, f) for m, f in self._waiters if f is not loaded]

    async def evaluate(self, expression: str, *, timeout: float = 30.0) -> Any:
        """The value of a JavaScript expression in the page (promises are awaited), as JSON."""
        result = await self.send(
            "Runtime.evaluate",
            {
                "expression": expression,
                "returnByValue": True,
                "awaitPromise": True,
                "userGesture": True,
            },
            timeout=timeout,
        )
        if "exceptionDetails" in result:
            raise JavaScriptError(
                f"{expression!r} threw: {_exception_text(result['exceptionDetails'])}"
            )
        return result.get("result", {}).get("value")

    async def click(self, selector: str) -> None:
        """A real left click (mouse events) in the middle of the first element ``selector``."""
        box = await self.evaluate(
            f"""(() => {{
                const el = document.querySelector({json.dumps(selector)});
                if (!el) return null;
                el.scrollIntoView({{block: "center", inline: "center"}});
                const r = el.getBoundingClientRect();
                return {{x: r.left + r.width / 2, y: r.top + r.height / 2,
                         w: r.width, h: r.height}};
            }})()"""
        )
        if box is None:
            raise BrowserError(f"click: no element matches {selector!r}")
        if not box["w"] or not box["h"]:
            raise BrowserError(f"click: {selector!r} is not visible (empty box)")
        point = {"x": box["x"], "y": box["y"]}
        await self.send("Input.dispatchMouseEvent", {"type": "mouseMoved", **point})
        for kind in ("mousePressed", "mouseReleased"):
            await self.send(
                "Input.dispatchMouseEvent",
                {"type": kind, **point, "button": "left", "buttons": 1, "clickCount": 1},
            )

    async def type(self, selector: str, text: str, *, clear: bool = True) -> None:
        """Focus ``selector`` and type ``text`` into it as keyboard/IME input (input events fire).

        With ``clear`` the current content is selected first, so it is replaced.
        """
        focused = await self.evaluate(
            f"""(() => {{
                const el = document.querySelector({json.dumps(selector)});
                if (!el) return null;
                el.focus();
                if ({json.dumps(clear)} && typeof el.select === "function") el.select();
                return document.activeElement === el;
            }})()"""
        )
        if focused is None:
            raise BrowserError(f"type: no element matches {selector!r}")
        if not focused:
            raise BrowserError(f"type: {selector!r} cannot take the focus")
        if text:
            await self.send("Input.insertText", {"text": text})
        elif clear:  # delete the selection as the Delete key would (an input event fires)
            await self.evaluate('document.execCommand("delete")')

    async def select(self, selector: str, value: str) -> None:
        """Choose the option ``value`` of a ``<select>`` as a user would (input + change events)."""
        ok = await self.evaluate(
            f"""(() => {{
                const el = document.querySelector({json.dumps(selector)});
                if (!el) return "missing";
                if (![...el.options].some(o => o.value === {json.dumps(value)})) return "no option";
                el.focus();
                el.value = {json.dumps(value)};
                el.dispatchEvent(new Event("input", {{bubbles: true}}));
                el.dispatchEvent(new Event("change", {{bubbles: true}}));
                return "ok";
            }})()"""
        )
        if ok != "ok":
            raise BrowserError(f"select {value!r} in {selector!r}: {ok}")

    async def text(self, selector: str) -> str | None:
        """The whitespace-normalised text of the first element ``selector`` (None if none)."""
        value = await self.evaluate(
            f"""(() => {{
                const el = document.querySelector({json.dumps(selector)});
                return el ? el.textContent.replace(/\\s+/g, " ").trim() : null;
            }})()"""
        )
        return None if value is None else str(value)

    async def wait_for(
        self, condition: str, timeout: float = 5.0, *, interval: float = 0.05
    ) -> Any:
        """Poll the JavaScript ``condition`` until it is truthy; return its value.

        An exception in the condition counts as false (the element may not exist yet). On
        timeout :class:`WaitTimeout` (an AssertionError) says the last value or error.
        """
        deadline = time.monotonic() + timeout
        last: str = "never evaluated"
        while True:
            try:
                value = await self.evaluate(condition)
                if value:
                    return value
                last = f"last value {value!r}"
            except JavaScriptError as err:
                last = f"last error {err}"
            if time.monotonic() >= deadline:
                raise WaitTimeout(
                    f"still false after {timeout} s: {condition}\n  ({last})" + self._page_report()
                )
            await asyncio.sleep(interval)

    async def emulate_timezone(self, timezone: str) -> None:
        """Run the page's clock in another IANA time zone (``Emulation.setTimezoneOverride``)."""
        await self.send("Emulation.setTimezoneOverride", {"timezoneId": timezone})

    def _page_report(self) -> str:
        lines = [f"  exception: {e}" for e in self.exceptions[-5:]]
        lines += [f"  console.{kind}: {text}" for kind, text in self.console[-10:]]
        return ("\n" + "\n".join(lines)) if lines else ""


def _remote_text(arg: dict[str, Any]) -> str:
    if "value" in arg:
        return str(arg["value"])
    return str(arg.get("description") or arg.get("unserializableValue") or arg.get("type"))


def _exception_text(details: dict[str, Any]) -> str:
    exception = details.get("exception") or {}
    text = exception.get("description") or details.get("text") or "exception"
    where = f" at line {details.get('lineNumber')}:{details.get('columnNumber')}"
    return f"{text}{where}"


def chromium_or_fail() -> str:
    """The chromium executable, or a failed test saying how to install it (never a skip)."""
    try:
        return find_chromium()
    except ChromiumMissing as err:
        missing = str(err)
    pytest.fail(f"headless-browser tests need chromium: {missing}", pytrace=False)


@pytest_asyncio.fixture
async def browser() -> AsyncIterator[Browser]:
    """A fresh headless Chromium with one blank page; closed after the test."""
    async with Browser(chromium_or_fail()) as page:
        yield page
