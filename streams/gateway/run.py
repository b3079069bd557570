"""Running the gateway: the Kafka producer, the metrics endpoint, signals."""

from __future__ import annotations

import asyncio
import logging
import signal

from aiohttp import web
from aiokafka import AIOKafkaProducer

from stations.registry import Registry
from streams.gateway.metrics import Metrics, metrics_app
from streams.gateway.secrets import Secrets
from streams.gateway.server import Gateway
from streams.settings import Settings

log = logging.getLogger(__name__)


def make_producer(settings: Settings) -> AIOKafkaProducer:
    """The gateway's producer: a write counts once all in-sync replicas have it, and a retried
    send is not written twice (idempotence)."""
    return AIOKafkaProducer(
        **settings.kafka_client_options(),
        acks="all",
        enable_idempotence=True,
        linger_ms=2,
    )


async def run_gateway(settings: Settings, registry: Registry, port: int | None = None) -> None:
    """Serve until SIGTERM or SIGINT, then stop gracefully and flush the producer."""
    secrets = Secrets(settings.gateway_secrets_path)
    producer = make_producer(settings)
    await producer.start()

    async def publish(
        topic: str, value: bytes, key: bytes | None, headers: list[tuple[str, bytes]]
    ) -> None:
        await producer.send_and_wait(topic, value, key=key, headers=headers)

    metrics = Metrics()
    gateway = Gateway(settings, registry, secrets, publish, metrics)
    runner: web.AppRunner | None = None
    try:
        if settings.gateway_metrics_port:
            runner = web.AppRunner(metrics_app(metrics))
            await runner.setup()
            await web.TCPSite(runner, settings.gateway_host, settings.gateway_metrics_port).start()
        await gateway.start(port)
        print(f"gateway listening on {settings.gateway_host}:{gateway.port}", flush=True)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await stop.wait()
        log.info("stopping: answering what is in flight")
        await gateway.stop()
    finally:
        await producer.stop()  # flushes what is pending
        if runner is not None:
            await runner.cleanup()
    log.info("gateway stopped: %s", metrics.document())
