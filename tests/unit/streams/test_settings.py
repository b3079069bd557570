from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import ValidationError

from streams.cli import main
from streams.settings import Settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("BASIN_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray .env


def test_defaults_are_the_local_stack() -> None:
    settings = Settings()
    assert settings.kafka_bootstrap_servers == "127.0.0.1:9092"
    assert settings.topics == (
        "wq.reports.raw",
        "wq.reports.assessed",
        "wq.reports.rejected",
        "wq.breaches",
        "wq.alerts",
        "wq.alerts.commands",
    )


def test_environment_variables_use_the_basin_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BASIN_TOPIC_PARTITIONS", "12")
    monkeypatch.setenv("BASIN_KAFKA_BOOTSTRAP_SERVERS", "k1:9092,k2:9092")
    settings = Settings()
    assert settings.topic_partitions == 12
    assert settings.kafka_client_options()["bootstrap_servers"] == ["k1:9092", "k2:9092"]


def test_a_dotenv_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("BASIN_APP_ID=basin-test\n")
    assert Settings().app_id == "basin-test"


def test_bad_values_and_unknown_variables_in_dotenv_fail(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="topic_partitions"):
        Settings(topic_partitions=0)
    (tmp_path / ".env").write_text("BASIN_TOPIC_PARTITONS=3\n")  # typo must not pass silently
    with pytest.raises(ValidationError, match="topic_partitons"):
        Settings()


def test_sasl_needs_mechanism_and_user() -> None:
    with pytest.raises(ValidationError, match="BASIN_KAFKA_SASL_MECHANISM"):
        Settings(kafka_security_protocol="SASL_SSL")


def test_production_refuses_placeholder_secret() -> None:
    sasl = {
        "kafka_security_protocol": "SASL_SSL",
        "kafka_sasl_mechanism": "SCRAM-SHA-512",
        "kafka_sasl_username": "basin",
        "kafka_sasl_password": "changeme",
    }
    assert Settings(**sasl).kafka_sasl_password is not None  # development allows it
    with pytest.raises(ValidationError, match="placeholder"):
        Settings(environment="production", **sasl)
    ok = Settings(environment="production", **(sasl | {"kafka_sasl_password": "s3cr3t-Real"}))
    assert ok.kafka_client_options()["sasl_plain_password"] == "s3cr3t-Real"


def test_config_show_hides_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BASIN_KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    monkeypatch.setenv("BASIN_KAFKA_SASL_MECHANISM", "PLAIN")
    monkeypatch.setenv("BASIN_KAFKA_SASL_USERNAME", "jsbureau")
    monkeypatch.setenv("BASIN_KAFKA_SASL_PASSWORD", "very-secret-1")
    result = CliRunner().invoke(main, ["config", "show"])
    assert result.exit_code == 0, result.output
    assert "very-secret-1" not in result.output
    assert "BASIN_KAFKA_SASL_PASSWORD\t**********" in result.output
    assert "BASIN_KAFKA_SASL_USERNAME\tjsbureau" in result.output


def test_cli_reports_invalid_settings_with_exit_1(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BASIN_TOPIC_PARTITIONS", "many")
    result = CliRunner().invoke(main, ["config", "show"])
    assert result.exit_code == 1
    assert "topic_partitions" in result.output
