"""The one settings object of basinwatch.

Every environment variable the system reads is a field here, named ``BASIN_<FIELD>`` (upper case),
with its default and a one-line description. A ``.env`` file in the working directory is read when
present. Secrets are ``SecretStr`` and never printed. Settings are built once, at start-up (the
``basin`` command builds them for all its subcommands, see :mod:`streams.cli.common`) and passed
in; nothing builds them at import time.

The ``BASIN_`` prefix belongs to the settings: a variable with it that is not a field is an error,
in ``.env`` and in the environment alike (a typo must not pass silently). The only others allowed
are those of the local tooling (:data:`TOOL_VARIABLES`: the deploy/local scripts, whose defaults
are in ``deploy/local/lib.sh``) and the secrets an alerts YAML names (its ``*_env`` keys).

Kafka connection options are built in one place, :meth:`Settings.kafka_client_options`, for every
client: kafka-python, aiokafka and, through :func:`streams.app.broker_credentials`, Faust.
"""

from __future__ import annotations

import difflib
import os
import ssl
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, FilePath, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]
TLS_PROTOCOLS = ("SSL", "SASL_SSL")

#: Values that must never be used as a real secret outside development.
PLACEHOLDER_SECRETS = frozenset({"", "changeme", "change-me", "secret", "password", "123456"})

PREFIX = "BASIN_"

#: Environment variables holding station passwords (streams.gateway.secrets): not settings.
SECRET_PREFIX = "BASIN_SECRET_"

#: Variables of the local tooling, read by the deploy/local scripts (defaults in
#: deploy/local/lib.sh and the scripts' headers) and the test harness, not by the settings. They
#: may be set in the environment of any basinwatch process.
TOOL_VARIABLES: Mapping[str, str] = {
    "BASIN_CACHE_DIR": "Downloaded and built servers (Kafka jars, influxd), one per machine.",
    "BASIN_KAFKA_PORT": "Port of the local Kafka broker (deploy/local/kafka.sh).",
    "BASIN_KAFKA_CONTROLLER_PORT": "Port of the local KRaft controller.",
    "BASIN_KAFKA_HEAP": "Java heap of the local broker.",
    "BASIN_KAFKA_START_TIMEOUT": "Seconds deploy/local/kafka.sh waits for the broker.",
    "BASIN_INFLUX_PORT": "Port of the local InfluxDB (deploy/local/influxdb.sh).",
    "BASIN_INFLUX_START_TIMEOUT": "Seconds deploy/local/influxdb.sh waits for InfluxDB.",
    "BASIN_INFLUX_USER": "Admin user of the local InfluxDB (in its credentials file).",
    "BASIN_INFLUX_PASSWORD": "Admin password of the local InfluxDB (in its credentials file).",
    "BASIN_DEMO_WATCH_SECONDS": "How long deploy/local/demo.sh shows `basin watch`.",
    "BASIN_CHROMIUM": "Chromium executable of the browser tests (tests/browser.py).",
}


#: The party views' read tokens, for Grafana's provisioning (written by `basin sharing apply`):
#: not settings, but may be in the environment of a shell that also runs `basin`.
VIEW_TOKEN_VARIABLES = tuple(f"BASIN_VIEW_TOKEN_{p}" for p in ("JS", "ZJ", "SH", "AH", "TBA"))


def default_state_dir() -> Path:
    """``~/.local/state/basinwatch``: the default of BASIN_STATE_DIR (deploy/local/lib.sh has
    the same; a unit test holds them equal)."""
    return Path.home() / ".local" / "state" / "basinwatch"


class Settings(BaseSettings):
    """Effective configuration of a basinwatch process (worker, CLI, simulator)."""

    model_config = SettingsConfigDict(
        env_prefix="BASIN_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="forbid",
        frozen=True,
    )

    environment: Literal["development", "production"] = Field(
        "development",
        description="development allows placeholder secrets; production refuses them.",
    )

    state_dir: Path = Field(
        default_factory=default_state_dir,
        description="Data, logs, pid files and credentials of the local servers (deploy/local), "
        "one set per machine.",
    )

    # --- Kafka -------------------------------------------------------------------------------
    kafka_bootstrap_servers: str = Field(
        "127.0.0.1:9092", description="Comma-separated host:port list of Kafka brokers."
    )
    kafka_security_protocol: SecurityProtocol = Field(
        "PLAINTEXT", description="PLAINTEXT locally; SSL, SASL_PLAINTEXT or SASL_SSL in production."
    )
    kafka_sasl_mechanism: SaslMechanism | None = Field(
        None, description="SASL mechanism when the protocol is SASL_*: PLAIN or SCRAM-SHA-256/512."
    )
    kafka_sasl_username: str | None = Field(None, description="SASL user name.")
    kafka_sasl_password: SecretStr | None = Field(None, description="SASL password (secret).")
    kafka_ssl_cafile: FilePath | None = Field(
        None,
        description="CA bundle that signed the brokers' certificates (SSL, SASL_SSL); unset: "
        "the system's CAs.",
    )
    kafka_ssl_certfile: FilePath | None = Field(
        None, description="Client certificate (PEM) for mutual TLS; may hold the key too."
    )
    kafka_ssl_keyfile: FilePath | None = Field(
        None, description="Private key (PEM) of the client certificate."
    )
    kafka_client_id: str = Field(
        "basinwatch", description="Client id shown in broker logs and metrics."
    )

    # --- Topics ------------------------------------------------------------------------------
    topic_raw: str = Field(
        "wq.reports.raw", description="Incoming station reports (key = station id)."
    )
    topic_assessed: str = Field(
        "wq.reports.assessed", description="Validated, QC-flagged, classed reports."
    )
    topic_rejected: str = Field(
        "wq.reports.rejected", description="Dead letters: original bytes plus the reason."
    )
    topic_breaches: str = Field("wq.breaches", description="Rule breaches and recoveries.")
    topic_alerts: str = Field(
        "wq.alerts", description="Alert state changes and notification deliveries."
    )
    topic_alert_commands: str = Field(
        "wq.alerts.commands",
        description="Acknowledgements, silences and clock ticks for the alert agent.",
    )
    topic_partitions: int = Field(
        8, ge=1, le=1024, description="Partitions of each project topic (more workers need more)."
    )
    topic_replication_factor: int = Field(
        1, ge=1, le=16, description="Replication factor of each project topic (3 in production)."
    )
    topic_retention_hours: int = Field(
        24 * 30, ge=1, description="Retention of the report topics, in hours."
    )

    # --- Station configuration --------------------------------------------------------------
    registry_path: Path | None = Field(
        None, description="Station registry YAML; unset: the registry shipped in stations/data."
    )

    qc_path: Path | None = Field(
        None, description="QC limits YAML; unset: the limits shipped in stations/data."
    )
    rules_path: Path | None = Field(
        None, description="Breach rules YAML; unset: the rules shipped in stations/data."
    )
    sharing_path: Path | None = Field(
        None, description="Data-sharing list YAML; unset: the list shipped in stations/data."
    )
    future_tolerance_minutes: int = Field(
        10, ge=0, description="A report observed this long after it was received is rejected."
    )

    # --- Faust worker ------------------------------------------------------------------------
    app_id: str = Field(
        "basinwatch", description="Faust application id: consumer group and changelog prefix."
    )
    worker_data_dir: Path = Field(
        Path("var/worker"), description="Faust data directory (RocksDB tables live here)."
    )
    worker_store: str = Field("rocksdb://", description="Table store: rocksdb:// or memory://.")
    worker_web_host: str = Field("127.0.0.1", description="Address of the worker's web server.")
    worker_web_port: int = Field(
        6066, ge=1, le=65535, description="Port of the worker's web server."
    )
    worker_session_timeout_seconds: float = Field(
        60.0,
        gt=1,
        description="Kafka group session timeout: how long a dead worker keeps its partitions.",
    )
    worker_log_level: str = Field("info", description="Log level of the worker.")

    # --- InfluxDB and the store worker -------------------------------------------------------
    influx_url: str = Field("http://127.0.0.1:8086", description="InfluxDB 2.x base URL.")
    influx_org: str = Field("basinwatch", description="InfluxDB organisation.")
    influx_bucket: str = Field("basinwatch", description="InfluxDB bucket of all measurements.")
    influx_token: SecretStr | None = Field(
        None,
        description="InfluxDB API token (secret); unset: read from BASIN_INFLUX_CREDENTIALS_FILE.",
    )
    influx_credentials_file: Path = Field(
        default_factory=lambda data: data["state_dir"] / "influxdb" / "credentials.env",
        description="File with BASIN_INFLUX_TOKEN=... written by deploy/local/influxdb.sh "
        "(default: in BASIN_STATE_DIR).",
    )
    store_app_id: str = Field(
        "basinwatch-store", description="Faust application id of the store worker (its group)."
    )
    store_batch_size: int = Field(
        2000, ge=1, description="Points per InfluxDB write at most (also the memory bound)."
    )
    store_flush_seconds: float = Field(
        1.0, gt=0, description="Longest wait before a partial batch is written."
    )
    store_retry_max_seconds: float = Field(
        30.0, gt=0, description="Longest back-off between write attempts while InfluxDB is down."
    )
    store_web_port: int = Field(
        6067, ge=1, le=65535, description="Port of the store worker's web server."
    )
    store_views: bool = Field(
        False,
        description="Write the party views (BASIN_INFLUX_BUCKET-js, -zj, ...) as the sharing "
        "list says; set it once `basin sharing apply` has made them (docs/sharing.md).",
    )
    views_derive_seconds: float = Field(
        300.0, gt=0, description="How often the store derives the delayed and averaged views."
    )
    views_lookback_hours: int = Field(
        48, ge=1, description="How far back each derivation re-reads (late reports included)."
    )

    # --- HJ 212 gateway ----------------------------------------------------------------------
    gateway_host: str = Field("127.0.0.1", description="Address `basin gateway` listens on.")
    gateway_port: int = Field(
        9212, ge=1, le=65535, description="TCP port of `basin gateway` (HJ 212 loggers)."
    )
    gateway_metrics_port: int = Field(
        9213, ge=0, le=65535, description="HTTP port of the gateway's /metrics and /health."
    )
    gateway_secrets_path: Path | None = Field(
        None,
        description="Station passwords: a directory (one file per password_ref) or a file of "
        "REF=password lines, mode 600; unset: BASIN_SECRET_<REF> environment variables only.",
    )
    gateway_max_connections: int = Field(
        10000, ge=1, description="Open logger connections at most; more are refused."
    )
    gateway_max_frames_per_second: float = Field(
        50.0, gt=0, description="Frames per second one connection may send (more are slowed)."
    )
    gateway_max_pending_bytes: int = Field(
        16384, ge=1100, description="Bytes of unfinished frames a connection may buffer."
    )
    gateway_read_seconds: float = Field(
        30.0, gt=0, description="Longest time to finish a started frame (slowloris guard)."
    )
    gateway_idle_seconds: float = Field(
        600.0, gt=0, description="A connection silent this long is closed."
    )
    gateway_subpacket_seconds: float = Field(
        60.0, gt=0, description="Parts of a split upload not complete by then are rejected."
    )
    gateway_time_drift_seconds: float = Field(
        60.0,
        ge=0,
        description="Set a logger's clock (1012) when its QN is this far off on its "
        "first connection; 0: never.",
    )
    gateway_request_timeout_seconds: float = Field(
        10.0, gt=0, description="Wait this long for a logger's 9011/9012 before re-sending."
    )
    gateway_request_retries: int = Field(
        3, ge=0, description="Re-sends of an unanswered request before it is given up."
    )
    gateway_max_data: int = Field(
        1024,
        ge=1,
        le=9999,
        description="Longest HJ 212 data segment accepted (vendors exceed the standard's 1024).",
    )

    # --- Alerts ------------------------------------------------------------------------------
    alerts_path: Path | None = Field(
        None,
        description="Alerts YAML (receivers, rotas, timing); unset: the one in alerts/data.",
    )
    alerts_tick_seconds: float = Field(
        30.0, gt=0, description="How often the alert clock ticks (silence, repeat, escalation)."
    )
    alerts_url: str | None = Field(
        None,
        description="Base URL of a worker's web server for `basin alerts` (default: this "
        "worker's host and port).",
    )

    # --- Grafana -----------------------------------------------------------------------------
    grafana_url: str = Field(
        "http://127.0.0.1:3000", description="Grafana base URL for `basin boards push`."
    )
    grafana_token: SecretStr | None = Field(
        None,
        description="Grafana service account token (secret, role Admin) for `basin boards push`.",
    )

    @model_validator(mode="after")
    def _check_environment(self) -> Settings:
        unknown = unknown_variables(os.environ, self)
        if unknown:
            raise ValueError(
                f"unknown environment variable {', '.join(unknown)}: no setting has this name; "
                "unset it or fix the spelling (`basin config show` lists the settings)"
            )
        return self

    @model_validator(mode="after")
    def _check_security(self) -> Settings:
        protocol = self.kafka_security_protocol
        if protocol not in TLS_PROTOCOLS:
            for name in ("kafka_ssl_cafile", "kafka_ssl_certfile", "kafka_ssl_keyfile"):
                if getattr(self, name) is not None:
                    raise ValueError(
                        f"{PREFIX}{name.upper()} is set but BASIN_KAFKA_SECURITY_PROTOCOL="
                        f"{protocol} uses no TLS; use SSL or SASL_SSL"
                    )
        if self.kafka_ssl_keyfile is not None and self.kafka_ssl_certfile is None:
            raise ValueError("BASIN_KAFKA_SSL_KEYFILE needs BASIN_KAFKA_SSL_CERTFILE")
        if protocol.startswith("SASL_"):
            if self.kafka_sasl_mechanism is None or not self.kafka_sasl_username:
                raise ValueError(
                    f"BASIN_KAFKA_SECURITY_PROTOCOL={protocol} needs "
                    "BASIN_KAFKA_SASL_MECHANISM and BASIN_KAFKA_SASL_USERNAME"
                )
            password = (
                self.kafka_sasl_password.get_secret_value() if self.kafka_sasl_password else ""
            )
            if self.environment == "production" and password.lower() in PLACEHOLDER_SECRETS:
                raise ValueError(
                    "BASIN_KAFKA_SASL_PASSWORD is empty or a placeholder; set the real secret "
                    "(placeholders are allowed only with BASIN_ENVIRONMENT=development)"
                )
        return self

    def influx_token_value(self) -> str:
        """The InfluxDB token: BASIN_INFLUX_TOKEN, else the credentials file; an error naming
        both when neither has one."""
        if self.influx_token is not None and self.influx_token.get_secret_value():
            return self.influx_token.get_secret_value()
        path = self.influx_credentials_file
        if path.is_file():
            for line in path.read_text(encoding="utf-8").splitlines():
                name, _, value = line.partition("=")
                if name.strip() == "BASIN_INFLUX_TOKEN" and value.strip():
                    return value.strip()
        raise ValueError(
            f"no InfluxDB token: set BASIN_INFLUX_TOKEN or run deploy/local/influxdb.sh start "
            f"(it writes {path})"
        )

    @property
    def topics(self) -> tuple[str, ...]:
        """All project topics, in data-flow order."""
        return (
            self.topic_raw,
            self.topic_assessed,
            self.topic_rejected,
            self.topic_breaches,
            self.topic_alerts,
            self.topic_alert_commands,
        )

    def kafka_client_options(self) -> dict[str, Any]:
        """The connection options of every Kafka client, in the keyword form kafka-python and
        aiokafka both accept (Faust's credentials are made from them: streams.app).

        TLS (SSL, SASL_SSL) comes as an ``ssl_context`` that verifies the brokers against
        BASIN_KAFKA_SSL_CAFILE (else the system's CAs) and presents the client certificate, if
        any; SASL (PLAIN, SCRAM-SHA-256/512) as mechanism, user name and password."""
        protocol = self.kafka_security_protocol
        options: dict[str, Any] = {
            "bootstrap_servers": self.kafka_bootstrap_servers.split(","),
            "security_protocol": protocol,
            "client_id": self.kafka_client_id,
        }
        if protocol in TLS_PROTOCOLS:
            options["ssl_context"] = self.kafka_ssl_context()
        if protocol.startswith("SASL_"):
            options["sasl_mechanism"] = self.kafka_sasl_mechanism
            options["sasl_plain_username"] = self.kafka_sasl_username
            options["sasl_plain_password"] = (
                self.kafka_sasl_password.get_secret_value() if self.kafka_sasl_password else None
            )
        return options

    def kafka_ssl_context(self) -> ssl.SSLContext:
        """A client TLS context: hostname and certificate checked against the configured CA
        (else the system's), with the client certificate for mutual TLS when one is set."""
        cafile = str(self.kafka_ssl_cafile) if self.kafka_ssl_cafile else None
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=cafile)
        if self.kafka_ssl_certfile is not None:
            keyfile = str(self.kafka_ssl_keyfile) if self.kafka_ssl_keyfile else None
            context.load_cert_chain(str(self.kafka_ssl_certfile), keyfile)
        return context

    def alerts_base_url(self) -> str:
        """Where `basin alerts` finds a worker's alert API: BASIN_ALERTS_URL, else this worker's
        web server."""
        url = self.alerts_url or f"http://{self.worker_web_host}:{self.worker_web_port}"
        return url.rstrip("/")

    def described(self) -> list[tuple[str, str, str]]:
        """(environment variable, effective value, description) rows; secrets hidden."""
        rows = []
        for name, field in type(self).model_fields.items():
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                shown = "**********" if value.get_secret_value() else "(empty)"
            elif value is None:
                shown = "(unset)"
            else:
                shown = str(value)
            rows.append((f"BASIN_{name.upper()}", shown, field.description or ""))
        return rows


def unknown_variables(environ: Mapping[str, str], settings: Settings) -> list[str]:
    """The ``BASIN_`` variables of ``environ`` that nothing reads, each with the nearest known
    name when one is close (``BASIN_TOPIC_PARTITONS (did you mean BASIN_TOPIC_PARTITIONS?)``)."""
    fields = {f"{PREFIX}{name.upper()}" for name in type(settings).model_fields}
    known = fields | set(TOOL_VARIABLES) | set(VIEW_TOKEN_VARIABLES)
    candidates = [
        n
        for n in environ
        if n.upper().startswith(PREFIX)
        and n.upper() not in known
        and not n.upper().startswith(SECRET_PREFIX)
    ]
    if candidates:
        secrets = set(secret_names(settings.alerts_path))
        candidates = [name for name in candidates if name not in secrets]
    found = []
    for name in sorted(candidates):
        near = difflib.get_close_matches(name.upper(), sorted(known), n=1, cutoff=0.85)
        found.append(f"{name} (did you mean {near[0]}?)" if near else name)
    return found


def secret_names(alerts_path: Path | None) -> Iterable[str]:
    """The environment variables an alerts YAML names for its secrets (``*_env`` keys); none when
    it cannot be read (its loader reports that, with the line)."""
    try:
        if alerts_path is None:
            text = (resources.files("alerts") / "data" / "alerts.yaml").read_text("utf-8")
        else:
            text = alerts_path.read_text(encoding="utf-8")
        document = yaml.safe_load(text)
    except (OSError, yaml.YAMLError):
        return
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if isinstance(key, str) and key.endswith("_env") and isinstance(value, str):
                    yield value
                else:
                    stack.append(value)
        elif isinstance(node, list):
            stack.extend(node)
