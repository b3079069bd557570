"""Counters of the gateway, served as Prometheus text on /metrics (and as JSON on /health)."""

from __future__ import annotations

from collections import Counter

from aiohttp import web

#: Where a frame ended: published on raw, dead-lettered (by reason), or a protocol exchange only.
OUTCOMES = ("raw", "rejected", "exchange")


class Metrics:
    """Frame outcomes and connection events; every frame is counted in exactly one outcome."""

    def __init__(self) -> None:
        self.frames: Counter[tuple[str, str]] = Counter()  # (outcome, reason or kind) -> count
        self.events: Counter[str] = Counter()  # connections opened, refused, cut ...
        self.open_connections = 0

    def frame(self, outcome: str, label: str) -> None:
        self.frames[(outcome, label)] += 1

    def event(self, name: str) -> None:
        self.events[name] += 1

    def total(self, outcome: str) -> int:
        return sum(n for (o, _), n in self.frames.items() if o == outcome)

    def prometheus(self) -> str:
        lines = [
            "# HELP basin_gateway_frames_total HJ 212 frames by outcome (raw, rejected, exchange).",
            "# TYPE basin_gateway_frames_total counter",
        ]
        for (outcome, label), count in sorted(self.frames.items()):
            lines.append(
                f'basin_gateway_frames_total{{outcome="{outcome}",label="{label}"}} {count}'
            )
        lines += [
            "# HELP basin_gateway_events_total Connection events (opened, refused, cut_*).",
            "# TYPE basin_gateway_events_total counter",
        ]
        lines += [
            f'basin_gateway_events_total{{event="{name}"}} {count}'
            for name, count in sorted(self.events.items())
        ]
        lines += [
            "# HELP basin_gateway_open_connections Logger connections open now.",
            "# TYPE basin_gateway_open_connections gauge",
            f"basin_gateway_open_connections {self.open_connections}",
        ]
        return "\n".join(lines) + "\n"

    def document(self) -> dict[str, object]:
        return {
            "status": "ok",
            "open_connections": self.open_connections,
            "frames": {f"{o}:{label}": n for (o, label), n in sorted(self.frames.items())},
            "events": dict(sorted(self.events.items())),
        }


def metrics_app(metrics: Metrics) -> web.Application:
    async def prometheus(_request: web.Request) -> web.Response:
        return web.Response(text=metrics.prometheus(), content_type="text/plain")

    async def health(_request: web.Request) -> web.Response:
        return web.json_response(metrics.document())

    app = web.Application()
    app.router.add_get("/metrics", prometheus)
    app.router.add_get("/health", health)
    return app
