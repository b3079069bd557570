"""The alert and notify agents, the alert clock and the alert web views (thin shells).

- **alert** reads ``wq.reports.assessed`` (each report carries its evaluation's rule events) and
  ``wq.alerts.commands`` (acknowledgements, silences, clock ticks), both keyed by station, and
  keeps each station's :class:`~alerts.lifecycle.StationAlerts` in the ``alert-state`` table. The
  changes of one input go to ``wq.alerts`` as one ``changes`` document (grouping), and only then
  is the state stored: a crash in between repeats the same changes with the same ids.
- **notify** reads the ``changes`` documents of ``wq.alerts``, routes them to the receivers on
  duty, delivers (with retries) and writes a ``delivery`` document per receiver back to
  ``wq.alerts`` (failed ones too). Delivered (change id, receiver) pairs are remembered in the
  ``alert-notified`` table and flushed at once, so a restart or a replay pages nobody twice.
- the **clock** (on the leader only) sends a tick to every partition of the commands topic;
  each tick visits the stations whose state lives in that partition.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

import faust
from faust import web

from alerts import dispatch
from alerts.config import AlertsConfig
from alerts.lifecycle import AlertError, Change, StationAlerts, iso
from alerts.messages import render
from alerts.notifiers import Notifiers
from stations.errors import StationsError
from stations.registry import Registry
from streams.agents import dumps
from streams.deadletter import Source, dead_letter
from streams.gaps import GapGuard

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Partitioning:
    """Which stations live in which partition (Kafka's default partitioner: murmur2 of the key),
    so a clock tick read from partition p visits exactly the stations whose state is there."""

    by_partition: Mapping[int, tuple[str, ...]]

    @classmethod
    def of(cls, stations: Iterable[str], partitions: int) -> Partitioning:
        from kafka.partitioner.default import murmur2

        table: dict[int, list[str]] = {p: [] for p in range(partitions)}
        for station in stations:
            table[(murmur2(station.encode()) & 0x7FFFFFFF) % partitions].append(station)
        return cls({p: tuple(ids) for p, ids in table.items()})


def register(
    app: faust.App,
    topics: Any,
    registry: Registry,
    config: AlertsConfig,
    notifiers: Notifiers,
    tick_seconds: float,
    reader_options: dict[str, Any] | None = None,
) -> tuple[Any, Any]:
    """Declare the tables, agents, clock and web views; returns (state table, notified table).
    ``reader_options`` enable the gap guard (:mod:`streams.gaps`) of both agents."""
    policy = dispatch.policy_of(config)
    partitions = topics.raw.partitions
    stations = Partitioning.of((s.id for s in registry), partitions)
    assessed_name = topics.assessed.get_topic_name()
    state_table = app.Table(
        "alert-state",
        key_type=bytes,
        value_type=bytes,
        partitions=partitions,
        help="Alert lifecycle state per station.",
    )
    notified = app.Table(
        "alert-notified",
        key_type=bytes,
        value_type=bytes,
        partitions=partitions,
        help="(change id, receiver) pairs delivered per station.",
    )
    inputs = app.topic(
        assessed_name,
        topics.commands.get_topic_name(),
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
    )

    def load(station: str) -> StationAlerts:
        raw = state_table.get(station.encode())
        if raw is not None:
            return StationAlerts.from_json(raw)
        return dispatch.new_state(registry.get(station))

    async def emit(state: StationAlerts, group: str, changes: list[Change]) -> None:
        key = state.station.encode()
        if changes:
            doc = {
                "kind": "changes",
                "station": state.station,
                "station_name": state.name,
                "group": group,
                "at": changes[-1].at,
                "changes": [change.to_doc() for change in changes],
            }
            await (await topics.alerts.send(key=key, value=dumps(doc)))
        state_table[key] = state.to_json()

    async def on_report(value: bytes, timestamp: float) -> None:
        doc = json.loads(value)
        if doc.get("kind") not in ("water_quality", "hydrology") or "station" not in doc:
            return
        state = load(doc["station"])
        # the time the check agent assessed it: the alert clock is the time the system learned
        changes = state.evaluation(doc, timestamp, policy)
        await emit(state, f"{state.station}@{doc['observed_at']}", changes)

    async def on_command(command: dict[str, Any], partition: int) -> None:
        kind = command.get("kind")
        if kind == "tick":
            now = float(command["at"])
            for station in stations.by_partition.get(partition, ()):
                if state_table.get(station.encode()) is None:
                    continue  # never reported: cannot fall silent
                state = load(station)
                changes = state.tick(now, policy)
                if changes:
                    await emit(state, f"{station}@tick:{iso(now)}", changes)
            return
        state = load(str(command["station"]))
        if kind == "ack":
            changes = state.acknowledge(
                str(command["alert"]), str(command["by"]), str(command["note"]), command["at"]
            )
            await emit(state, f"{state.station}@ack:{iso(command['at'])}", changes)
        elif kind == "silence":
            state.add_silence(dispatch.silence_of(command))
            await emit(state, "", [])
        else:
            raise AlertError(f"unknown command kind {kind!r}")

    async def on_input(message: Any) -> None:
        try:
            if message.topic == assessed_name:
                await on_report(message.value, message.timestamp)
            else:
                await on_command(json.loads(message.value), message.partition)
        except (AlertError, StationsError, KeyError, TypeError, ValueError) as exc:
            source = Source(message.topic, message.partition, message.offset)
            log.warning("alert input %s refused: %s", source, exc)
            letter = dead_letter(message.value, message.key, source, "alert_input", str(exc))
            await topics.rejected.send(key=message.key, value=letter)

    alert_guard = GapGuard(app, reader_options)

    @app.agent(inputs, name="alert")
    async def alert(stream: Any) -> None:
        async for event in stream.events():
            for missed in await alert_guard.missed(event.message):
                await on_input(missed)
            await on_input(event.message)

    async def on_alerts(value: bytes) -> None:
        try:
            doc = json.loads(value)
        except ValueError:
            return  # only this project writes wq.alerts; the store reports bad documents
        if doc.get("kind") != "changes":
            return
        key = str(doc["station"]).encode()
        delivered: list[str] = json.loads(notified.get(key) or b"[]")
        for receiver, changes in dispatch.plan(doc, config):
            fresh = [
                c for c in changes if dispatch.delivery_key(c["id"], receiver.name) not in delivered
            ]
            if not fresh:
                continue
            message = render(fresh, receiver.name, config.board_url)
            results = await asyncio.gather(
                *(notifiers.deliver(receiver.name, ch, message) for ch in receiver.channels)
            )
            ok = any(result.ok for result in results)
            if ok:
                keys = [dispatch.delivery_key(c["id"], receiver.name) for c in fresh]
                delivered = dispatch.remember(delivered, keys)
                notified[key] = json.dumps(delivered).encode()
                await app.producer.flush()  # remembered before anything else happens
            record = {
                "kind": "delivery",
                "station": doc["station"],
                "group": doc["group"],
                "receiver": receiver.name,
                "receiver_name": config.display_name(receiver),
                "changes": [c["id"] for c in fresh],
                "title": message.title,
                "ok": ok,
                "at": iso(time.time()),
                "deliveries": [result.to_dict() for result in results],
            }
            await topics.alerts.send(key=key, value=dumps(record))

    notify_guard = GapGuard(app, reader_options)

    @app.agent(topics.alerts, name="notify")
    async def notify(stream: Any) -> None:
        async for event in stream.events():
            for missed in await notify_guard.missed(event.message):
                await on_alerts(missed.value or b"")
            await on_alerts(event.message.value)

    @app.timer(interval=tick_seconds, on_leader=True)
    async def clock() -> None:
        tick = dumps({"kind": "tick", "at": time.time()})
        for partition in range(partitions):
            await topics.commands.send(value=tick, partition=partition)

    _views(app, topics, registry, state_table)
    return state_table, notified


def _views(app: faust.App, topics: Any, registry: Registry, state_table: Any) -> None:
    """The HTTP API (list, acknowledge, silence) and the console page."""

    def everything() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        alerts: list[dict[str, Any]] = []
        silences: list[dict[str, Any]] = []
        for _key, raw in list(state_table.items()):
            station_alerts, station_silences = dispatch.station_views(StationAlerts.from_json(raw))
            alerts += station_alerts
            silences += station_silences
        return alerts, silences

    def bad(view: web.View, exc: Exception, status: int = 400) -> web.Response:
        return view.json({"error": f"请求无效 invalid request: {exc}"}, status=status)

    async def body_of(request: web.Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except ValueError as exc:
            raise dispatch.CommandError("the body must be a JSON object") from exc
        if not isinstance(body, dict):
            raise dispatch.CommandError("the body must be a JSON object")
        return body

    @app.page("/alerts/")
    class AlertList(web.View):
        async def get(self, request: web.Request) -> web.Response:
            alerts, silences = everything()
            jurisdiction = request.query.get("jurisdiction")
            states = request.query.get("state")
            if jurisdiction:
                alerts = [a for a in alerts if jurisdiction in a["parties"]]
                owned = {s.id for s in registry if jurisdiction in map(str, s.jurisdictions)}
                silences = [s for s in silences if s["station"] in owned]
            if states:
                alerts = [a for a in alerts if a["state"] in states.split(",")]
            alerts.sort(key=lambda a: (a["state"] != "firing", a["since"]), reverse=False)
            return self.json({"alerts": alerts, "silences": silences})

    @app.page("/alerts/ack/")
    class AlertAck(web.View):
        async def post(self, request: web.Request) -> web.Response:
            try:
                command = dispatch.ack_command(await body_of(request), time.time())
            except dispatch.CommandError as exc:
                return bad(self, exc)
            raw = state_table.get(command["station"].encode())
            known = StationAlerts.from_json(raw).alerts if raw else {}
            alert = known.get(command["alert"])
            if alert is None:
                return bad(self, ValueError(f"no alert {command['alert']}"), status=404)
            if alert.state not in ("firing", "acknowledged"):
                return bad(self, ValueError(f"alert {alert.id} is {alert.state}"), status=409)
            key = command["station"].encode()
            await (await topics.commands.send(key=key, value=dumps(command)))
            return self.json({"accepted": True, "command": command}, status=202)

    @app.page("/alerts/silences/")
    class AlertSilences(web.View):
        async def get(self, request: web.Request) -> web.Response:
            return self.json({"silences": everything()[1]})

        async def post(self, request: web.Request) -> web.Response:
            try:
                commands = dispatch.silence_commands(await body_of(request), registry, time.time())
            except dispatch.CommandError as exc:
                return bad(self, exc)
            for command in commands:
                key = command["station"].encode()
                await (await topics.commands.send(key=key, value=dumps(command)))
            return self.json({"accepted": True, "silences": commands}, status=202)

    page = resources.files("alerts").joinpath("console.html").read_text(encoding="utf-8")

    @app.page("/console/")
    class Console(web.View):
        async def get(self, request: web.Request) -> web.Response:
            return self.html(page)
