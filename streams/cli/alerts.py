"""`basin alerts`: list, acknowledge and silence alerts through a worker's HTTP API, and a
local receiver that prints notifications (for the demo and for trying a configuration)."""

from __future__ import annotations

import contextlib
import json
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import click

from streams.cli.common import pass_settings, print_table
from streams.settings import Settings

BEIJING = ZoneInfo("Asia/Shanghai")


def _call(settings: Settings, path: str, body: dict[str, Any] | None = None) -> Any:
    """GET ``path`` of the worker's alert API (POST ``body`` when given); its JSON answer."""
    url = settings.alerts_base_url() + path
    data = None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(url, data=data, method="GET" if data is None else "POST")
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode("utf-8", "replace")
        with contextlib.suppress(ValueError):
            detail = json.loads(detail).get("error", detail)
        raise click.ClickException(f"{url}: HTTP {exc.code}: {detail}") from exc
    except urllib.error.URLError as exc:
        raise click.ClickException(
            f"no worker answers at {url} ({exc.reason}); start one with `basin worker` or set "
            "BASIN_ALERTS_URL"
        ) from exc


def _beijing(iso: str | None) -> str:
    if not iso:
        return ""
    return datetime.fromisoformat(iso).astimezone(BEIJING).strftime("%m-%d %H:%M")


@click.group()
def alerts() -> None:
    """Alerts: list, acknowledge, silence (through a worker's web server)."""


@alerts.command("list")
@click.option("--jurisdiction", default="", help="Only alerts this party is told of (JS, SH...).")
@click.option(
    "--state", default="pending,firing,acknowledged", show_default=True, help="States to show."
)
@click.option("--json", "as_json", is_flag=True, help="Print the API's JSON instead of a table.")
@pass_settings
def list_(settings: Settings, jurisdiction: str, state: str, as_json: bool) -> None:
    """The alerts a worker holds, firing first.

    \b
    Example:
      basin alerts list --jurisdiction SH
    """
    query = f"?state={state}" + (f"&jurisdiction={jurisdiction}" if jurisdiction else "")
    found = _call(settings, f"/alerts/{query}")
    if as_json:
        click.echo(json.dumps(found, ensure_ascii=False, indent=2))
        return
    rows = [
        (
            a["id"],
            f"{a['station_name']} ({a['jurisdiction_name']})",
            f"{a['parameter_name']} {a['observed']} / {a['limit']} {a['unit']}".strip(),
            a["state_name"],
            str(a["tier"]),
            _beijing(a["since"]),
            a.get("acked_by") or "",
        )
        for a in found["alerts"]
    ]
    columns = ("id", "站点 station", "参数 value/limit", "状态 state", "tier", "自 since", "确认人")
    print_table("告警 alerts", columns, rows)


@alerts.command("ack")
@click.argument("alert_id")
@click.option("--by", required=True, help="Who acknowledges (name of the person on call).")
@click.option("--note", default="", help="What is being done.")
@pass_settings
def ack(settings: Settings, alert_id: str, by: str, note: str) -> None:
    """Acknowledge a firing alert: no more repeats or escalation; everyone paged is told.

    \b
    Example:
      basin alerts ack SH-CJ-009:tpq-tp:tp --by 张三 --note "已通知现场核查"
    """
    _call(settings, "/alerts/ack/", {"id": alert_id, "by": by, "note": note})
    click.echo(f"acknowledgement of {alert_id} by {by} accepted")


@alerts.command("silences")
@pass_settings
def silences(settings: Settings) -> None:
    """The silences a worker holds (maintenance windows), one per station.

    \b
    Example:
      basin alerts silences
    """
    found = _call(settings, "/alerts/silences/")["silences"]
    rows = [
        (s["station"], s["station_name"], _beijing(s["start"]), _beijing(s["end"]),
         s["author"], s["reason"])
        for s in found
    ]  # fmt: skip
    print_table("静默 silences", ("station", "站点", "start", "end", "author", "reason"), rows)


def _list_silences(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    """``silence --list``: list (as ``silences`` does) and exit before the options of a new
    silence are asked for."""
    if value and not ctx.resilient_parsing:
        ctx.invoke(silences)
        ctx.exit()


@alerts.command("silence")
@click.option("--station", default="", help="One station id.")
@click.option("--jurisdiction", default="", help="Every station of a jurisdiction.")
@click.option("--hours", type=float, default=None, help="From now, this many hours.")
@click.option("--start", default="", help="ISO start time with offset (default now).")
@click.option("--end", default="", help="ISO end time with offset (or --hours).")
@click.option("--author", required=True, help="Who sets the silence.")
@click.option("--reason", required=True, help="Why (e.g. maintenance work).")
@click.option(
    "--list",
    is_flag=True,
    is_eager=True,
    expose_value=False,
    callback=_list_silences,
    help="List the silences instead (the same as `basin alerts silences`).",
)
@pass_settings
def silence(
    settings: Settings,
    station: str,
    jurisdiction: str,
    hours: float | None,
    start: str,
    end: str,
    author: str,
    reason: str,
) -> None:
    """Silence a station (a maintenance window): its alerts change state but page nobody.

    \b
    Example:
      basin alerts silence --station JS-TH-028 --hours 4 --author 李四 --reason "更换试剂"
    """
    begin = datetime.fromisoformat(start) if start else datetime.now(BEIJING)
    if hours is not None:
        finish = begin + timedelta(hours=hours)
    elif end:
        finish = datetime.fromisoformat(end)
    else:
        raise click.UsageError("give --hours or --end")
    body: dict[str, Any] = {
        "start": begin.isoformat(),
        "end": finish.isoformat(),
        "author": author,
        "reason": reason,
    }
    body |= {"station": station} if station else {"jurisdiction": jurisdiction}
    accepted = _call(settings, "/alerts/silences/", body)
    click.echo(f"{len(accepted['silences'])} station(s) silenced until {finish.isoformat()}")


@alerts.command("receiver")
@click.option("--port", default=9300, show_default=True, help="Port on 127.0.0.1.")
def receiver(port: int) -> None:
    """A local webhook receiver that prints every notification (demo, trying a config).

    \b
    Example:
      basin alerts receiver --port 9300
    """
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            try:
                doc = json.loads(body)
                text = doc.get("text") or json.dumps(doc, ensure_ascii=False)
            except ValueError:
                text = body.decode("utf-8", "replace")
            stamp = datetime.now(BEIJING).strftime("%H:%M:%S")
            click.echo(f"--- {stamp} {self.path}\n{text.rstrip()}\n", nl=True)
            payload = b'{"errcode":0,"errmsg":"ok"}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    click.echo(f"receiving notifications on http://127.0.0.1:{port}/ (Ctrl-C to stop)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
