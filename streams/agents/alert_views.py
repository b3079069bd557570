"""The alert HTTP API and the console page, on the worker's web server.

- ``GET /alerts/?jurisdiction=&state=``: the alerts and silences this worker holds;
- ``POST /alerts/ack/ {"id", "by", "note"}``: 202 once the command is on ``wq.alerts.commands``
  (400 for a bad body, 404 for an alert this worker does not hold, 409 for one not firing);
- ``GET|POST /alerts/silences/``: the silences; a new one (station or jurisdiction);
- ``GET /console/``: the console page (alerts/console.html).

The views read the ``alert-state`` table and send commands; the alert agent applies them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from importlib import resources
from typing import Any

import faust
from faust import web

from alerts.commands import ack_command, silence_commands
from alerts.errors import CommandError
from alerts.lifecycle import StationAlerts
from alerts.records import AlertState, encode, to_builtins
from alerts.views import everything, listing
from stations.registry import Registry


def register(
    app: faust.App, commands: Any, registry: Registry, states: Mapping[bytes, bytes]
) -> None:
    """Declare the views; ``commands`` is the commands topic, ``states`` the state table."""

    def all_states() -> Iterator[StationAlerts]:
        for _key, raw in list(states.items()):
            yield StationAlerts.from_json(raw)

    def bad(view: web.View, exc: Exception, status: int = 400) -> web.Response:
        return view.json({"error": f"请求无效 invalid request: {exc}"}, status=status)

    async def body_of(request: web.Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except ValueError as exc:
            raise CommandError("the body must be a JSON object") from exc
        if not isinstance(body, dict):
            raise CommandError("the body must be a JSON object")
        return body

    async def send(station: str, command: Any) -> None:
        await (await commands.send(key=station.encode(), value=encode(command)))

    @app.page("/alerts/")
    class AlertList(web.View):
        async def get(self, request: web.Request) -> web.Response:
            query = request.query
            found = listing(all_states(), registry, query.get("jurisdiction"), query.get("state"))
            return self.json(found)

    @app.page("/alerts/ack/")
    class AlertAck(web.View):
        async def post(self, request: web.Request) -> web.Response:
            try:
                command = ack_command(await body_of(request), time.time())
            except CommandError as exc:
                return bad(self, exc)
            raw = states.get(command.station.encode())
            known = StationAlerts.from_json(raw).alerts if raw else {}
            alert = known.get(command.alert)
            if alert is None:
                return bad(self, ValueError(f"no alert {command.alert}"), status=404)
            if alert.state not in (AlertState.FIRING, AlertState.ACKNOWLEDGED):
                return bad(self, ValueError(f"alert {alert.id} is {alert.state}"), status=409)
            await send(command.station, command)
            return self.json({"accepted": True, "command": to_builtins(command)}, status=202)

    @app.page("/alerts/silences/")
    class AlertSilences(web.View):
        async def get(self, request: web.Request) -> web.Response:
            return self.json({"silences": everything(all_states())[1]})

        async def post(self, request: web.Request) -> web.Response:
            try:
                found = silence_commands(await body_of(request), registry, time.time())
            except CommandError as exc:
                return bad(self, exc)
            for command in found:
                await send(command.station, command)
            return self.json({"accepted": True, "silences": to_builtins(found)}, status=202)

    page = resources.files("alerts").joinpath("console.html").read_text(encoding="utf-8")

    @app.page("/console/")
    class Console(web.View):
        async def get(self, request: web.Request) -> web.Response:
            return self.html(page)
