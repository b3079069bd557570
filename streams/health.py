"""``GET /health`` of the worker and the store worker, and the client that waits for it.

Both Faust applications serve the same document on their web port (``BASIN_WORKER_WEB_PORT``,
``BASIN_STORE_WEB_PORT``)::

    {"app": "basinwatch", "ready": true, "leader": true,
     "partitions": {"wq.alerts": [0, 1], "wq.reports.raw": [0, 1]},
     "lag": {"wq.alerts": {"0": 0, "1": 0}, "wq.reports.raw": {"0": 0, "1": 12}},
     "highwater": {"wq.alerts": {"0": 3, "1": 0}, "wq.reports.raw": {"0": 840, "1": 796}}}

- **ready**: the application has started, its partitions are assigned and their tables
  recovered, and no rebalance is under way. The answer is HTTP 200 when ready, 503 otherwise
  (the web server itself opens only after the first assignment and recovery).
- **partitions**: the partitions of the topics its agents read, by topic (Faust's own topics,
  the tables' changelogs and the leader election topic, are left out).
- **lag**: per partition, the highwater (the offset the next message will get) minus the
  consumer's position (the offset it fetches next); ``null`` when either is unknown. Messages
  fetched but still in Faust's stream buffers are not counted.
- **highwater**: per partition, the offset the next message will get (how many the partition
  has had), so ``highwater - lag`` is where the consumer stands.
- **leader**: whether this process is its group's leader (the worker's alert clock runs there).

:func:`wait_healthy` polls a ``/health`` URL until it answers 200: the deploy/local scripts, the
integration tests and the benchmarks wait for readiness with it (or with ``wait_healthy`` of
deploy/local/lib.sh) instead of reading the log.
"""

from __future__ import annotations

import asyncio
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from aiokafka.errors import ConsumerStoppedError, KafkaError

from streams.errors import NotHealthy

PATH = "/health"
#: How long one /health request waits for the offsets before it reports them unknown.
POSITION_TIMEOUT_SECONDS = 2.0
#: What the consumer raises when a partition was revoked meanwhile or the broker is slow.
_UNKNOWN = (TimeoutError, KafkaError, ConsumerStoppedError)


@dataclass(frozen=True)
class PartitionState:
    """One assigned partition: its highwater and the consumer's position (None: not known)."""

    topic: str
    partition: int
    highwater: int | None
    position: int | None

    @property
    def lag(self) -> int | None:
        if self.highwater is None or self.position is None:
            return None
        return max(self.highwater - self.position, 0)


def health_document(
    app_id: str, ready: bool, states: Iterable[PartitionState], *, leader: bool = False
) -> dict[str, Any]:
    """The JSON document of ``/health``: partitions by topic in order; lag and highwater by
    partition (JSON keys are strings)."""
    ordered = sorted(states, key=lambda s: (s.topic, s.partition))
    partitions: dict[str, list[int]] = {}
    lag: dict[str, dict[str, int | None]] = {}
    highwater: dict[str, dict[str, int | None]] = {}
    for state in ordered:
        partitions.setdefault(state.topic, []).append(state.partition)
        lag.setdefault(state.topic, {})[str(state.partition)] = state.lag
        highwater.setdefault(state.topic, {})[str(state.partition)] = state.highwater
    return {
        "app": app_id,
        "ready": ready,
        "leader": leader,
        "partitions": partitions,
        "lag": lag,
        "highwater": highwater,
    }


def http_status(document: Mapping[str, Any]) -> int:
    return 200 if document.get("ready") is True else 503


def is_ready(app: Any) -> bool:
    """Started with its first assignment recovered, and neither rebalancing nor recovering."""
    return bool(
        app.tables.recovery.completed.is_set() and not app.rebalancing and not app.in_recovery
    )


async def app_health(app: Any) -> dict[str, Any]:
    """Collect the ``/health`` document of a running Faust application."""
    ready = is_ready(app)
    consumer = app.consumer
    read = agent_topics(app)
    assigned = sorted(
        (tp for tp in consumer.assignment() if tp.topic in read),
        key=lambda tp: (tp.topic, tp.partition),
    )
    highwaters: Mapping[Any, int] = {}
    if assigned:
        try:
            highwaters = await asyncio.wait_for(
                consumer.highwaters(*assigned), POSITION_TIMEOUT_SECONDS
            )
        except _UNKNOWN:  # a rebalance or a broker hiccup: the lag is unknown, not an error
            highwaters = {}

    async def position(tp: Any) -> int | None:
        try:
            value = await asyncio.wait_for(consumer.position(tp), POSITION_TIMEOUT_SECONDS)
        except _UNKNOWN:  # revoked meanwhile, or no position yet
            return None
        return None if value is None else int(value)

    positions = await asyncio.gather(*(position(tp) for tp in assigned))
    states = [
        PartitionState(tp.topic, tp.partition, _offset(highwaters.get(tp)), pos)
        for tp, pos in zip(assigned, positions, strict=True)
    ]
    return health_document(app.conf.id, ready, states, leader=bool(app.is_leader()))


def agent_topics(app: Any) -> set[str]:
    """The names of the topics the application's agents read."""
    names: set[str] = set()
    for agent in app.agents.values():
        names.update(getattr(agent.channel, "topics", ()))
    return names


def _offset(value: Any) -> int | None:
    return None if value is None else int(value)


def register(app: Any) -> None:
    """Serve ``GET /health`` on the application's web server."""
    from faust import web

    @app.page(PATH)
    class Health(web.View):
        async def get(self, request: web.Request) -> web.Response:
            document = await app_health(app)
            return self.json(document, status=http_status(document))


def fetch_health(url: str, timeout: float = 5.0) -> tuple[int, dict[str, Any]]:
    """One ``GET`` of a ``/health`` URL: (HTTP status, document). OSError when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:  # 503: not ready, with the same document
        with exc:
            body = exc.read()
        return exc.code, json.loads(body) if body else {}


def wait_healthy(
    url: str,
    timeout: float = 90.0,
    *,
    alive: Callable[[], bool] = lambda: True,
    interval: float = 0.2,
) -> dict[str, Any]:
    """Poll ``url`` until it answers 200; its document. :class:`NotHealthy` when ``timeout``
    seconds pass first, or when ``alive()`` (e.g. "the process still runs") turns false."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while True:
        if not alive():
            raise NotHealthy(f"the process serving {url} exited before it was ready")
        try:
            status, document = fetch_health(url, timeout=min(5.0, timeout))
        except (OSError, ValueError) as exc:  # not listening yet, or a half-written answer
            last = f"no answer ({exc})"
        else:
            if status == 200:
                return document
            last = f"HTTP {status}: {json.dumps(document)}"
        if time.monotonic() >= deadline:
            raise NotHealthy(f"{url} was not ready within {timeout:g} s; last: {last}")
        time.sleep(interval)
