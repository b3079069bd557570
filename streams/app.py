"""The Faust application, built from settings (never at import time)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import faust

from streams import health
from streams.settings import Settings


@dataclass(frozen=True)
class Topics:
    """The project's topics as Faust sees them. Values are raw bytes: decoding is the agents' job,
    so a message that cannot be decoded still reaches the agent and ends as a dead letter."""

    raw: Any
    assessed: Any
    rejected: Any
    breaches: Any
    alerts: Any
    commands: Any


def broker_credentials(options: dict[str, Any]) -> Any:
    """Faust's credentials for the connection options of :meth:`Settings.kafka_client_options`
    (the same TLS context and SASL login as every other client), or None for PLAINTEXT."""
    protocol = options["security_protocol"]
    context = options.get("ssl_context")
    if protocol.startswith("SASL_"):
        return faust.SASLCredentials(
            username=options["sasl_plain_username"],
            password=options["sasl_plain_password"],
            mechanism=options["sasl_mechanism"],
            ssl_context=context,
        )
    if context is not None:
        return faust.SSLCredentials(context)
    return None


def _faust_app(settings: Settings, app_id: str, web_port: int) -> tuple[faust.App, Topics]:
    """A Faust application on the configured brokers with the project's topics (raw bytes) and
    its ``/health`` view (:mod:`streams.health`)."""
    options = settings.kafka_client_options()
    app = faust.App(
        app_id,
        broker=[f"kafka://{server}" for server in options["bootstrap_servers"]],
        broker_credentials=broker_credentials(options),
        broker_client_id=options["client_id"],
        store=settings.worker_store,
        datadir=str(settings.worker_data_dir),
        topic_partitions=settings.topic_partitions,
        topic_replication_factor=settings.topic_replication_factor,
        consumer_auto_offset_reset="earliest",
        producer_acks=-1,
        broker_session_timeout=settings.worker_session_timeout_seconds,
        broker_heartbeat_interval=min(3.0, settings.worker_session_timeout_seconds / 3),
        web_enabled=True,
        web_bind=settings.worker_web_host,
        web_host=settings.worker_web_host,
        web_port=web_port,
        autodiscover=False,
    )
    health.register(app)

    def raw_topic(name: str) -> Any:
        return app.topic(
            name,
            key_type=bytes,
            value_type=bytes,
            key_serializer="raw",
            value_serializer="raw",
            partitions=settings.topic_partitions,
        )

    topics = Topics(
        raw=raw_topic(settings.topic_raw),
        assessed=raw_topic(settings.topic_assessed),
        rejected=raw_topic(settings.topic_rejected),
        breaches=raw_topic(settings.topic_breaches),
        alerts=raw_topic(settings.topic_alerts),
        commands=raw_topic(settings.topic_alert_commands),
    )
    return app, topics


def create_app(settings: Settings) -> tuple[faust.App, Topics]:
    """The worker's application: the check agent, the alert and notify agents, the alert clock
    and the alert web views. A wrong registry, rules or alerts file stops it here."""
    from alerts.config import load_alerts_config
    from alerts.notifiers import Notifiers
    from stations.assessment import Assessor
    from stations.quality.limits import load_qc_limits
    from stations.registry import load_registry
    from stations.rules.config import load_rules
    from stations.sharing.config import load_sharing
    from streams.agents import alert, check

    registry = load_registry(settings.registry_path)
    load_sharing(settings.sharing_path, registry=registry)  # a bad list stops the worker too
    assessor = Assessor(
        registry,
        load_qc_limits(settings.qc_path, registry=registry),
        load_rules(settings.rules_path, registry=registry),
        future_tolerance=timedelta(minutes=settings.future_tolerance_minutes),
    )
    app, topics = _faust_app(settings, settings.app_id, settings.worker_web_port)
    check.register(app, topics, assessor, reader_options=settings.kafka_client_options())
    alerts_config = load_alerts_config(settings.alerts_path)
    notifiers = Notifiers(alerts_config.smtp)
    alert.register(
        app,
        topics,
        registry,
        alerts_config,
        notifiers,
        settings.alerts_tick_seconds,
        reader_options=settings.kafka_client_options(),
    )

    async def close_notifiers(app: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        await notifiers.close()

    app.on_before_shutdown.connect(close_notifiers)
    return app, topics


def create_store_app(settings: Settings) -> tuple[faust.App, Topics]:
    """The store worker's application: assessed reports, rule events, alert changes and dead
    letters into InfluxDB. Its own consumer group, so an InfluxDB outage never holds up checks
    and alerts."""
    from stations.registry import load_registry
    from stations.sharing.config import load_sharing
    from streams.agents import store
    from streams.store.derive import Deriver
    from streams.store.influx import InfluxSender
    from streams.store.views import Router, selections
    from streams.store.writer import Backoff, BatchWriter

    token = settings.influx_token_value()
    registry = load_registry(settings.registry_path)
    sharing = load_sharing(settings.sharing_path, registry=registry)  # every problem, with lines
    app, topics = _faust_app(settings, settings.store_app_id, settings.store_web_port)
    bucket = settings.influx_bucket
    sender = InfluxSender(settings.influx_url, token, settings.influx_org, bucket)
    writer = BatchWriter(sender, Backoff(maximum=settings.store_retry_max_seconds))
    store.register(
        app,
        topics,
        writer,
        settings.store_batch_size,
        settings.store_flush_seconds,
        registry,
        reader_options=settings.kafka_client_options(),
        router=Router(sharing, bucket) if settings.store_views else None,
    )
    clients: list[Any] = []
    if settings.store_views:
        from influxdb_client import InfluxDBClient

        client = InfluxDBClient(
            url=settings.influx_url, token=token, org=settings.influx_org, timeout=300_000
        )
        clients.append(client)
        deriver = Deriver(selections(sharing), bucket, settings.influx_org)
        every, lookback = settings.views_derive_seconds, settings.views_lookback_hours
        store.register_deriver(app, deriver, client.query_api(), every, lookback)

    async def close_influx(app: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        await sender.close()
        for client in clients:
            client.close()

    app.on_before_shutdown.connect(close_influx)
    return app, topics
