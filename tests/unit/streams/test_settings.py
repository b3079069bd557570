from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import ValidationError

from streams.cli import main
from streams.cli.common import SettingsInfo
from streams.settings import TOOL_VARIABLES, VIEW_TOKEN_VARIABLES, Settings

REPO = Path(__file__).resolve().parents[3]


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


def test_config_show_hides_secrets() -> None:
    settings = Settings(
        kafka_security_protocol="SASL_PLAINTEXT",
        kafka_sasl_mechanism="PLAIN",
        kafka_sasl_username="jsbureau",
        kafka_sasl_password="very-secret-1",
    )
    result = CliRunner().invoke(main, ["config", "show"], obj=SettingsInfo(settings))
    assert result.exit_code == 0, result.output
    assert "very-secret-1" not in result.output
    assert "BASIN_KAFKA_SASL_PASSWORD\t**********" in result.output
    assert "BASIN_KAFKA_SASL_USERNAME\tjsbureau" in result.output


def test_cli_reports_invalid_settings_with_exit_1(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BASIN_TOPIC_PARTITIONS", "many")
    result = CliRunner().invoke(main, ["config", "show"])
    assert result.exit_code == 1
    assert "topic_partitions" in result.output


def test_an_unknown_basin_variable_in_the_environment_is_an_error_naming_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BASIN_TOPIC_PARTITONS", "3")  # typo: ignored until now
    with pytest.raises(ValidationError) as caught:
        Settings()
    message = str(caught.value)
    assert "unknown environment variable BASIN_TOPIC_PARTITONS" in message
    assert "did you mean BASIN_TOPIC_PARTITIONS?" in message
    monkeypatch.setenv("BASIN_TOPIC_PARTITONS", "")
    with pytest.raises(ValidationError, match="BASIN_TOPIC_PARTITONS"):
        Settings()  # set but empty: still a name nothing reads
    monkeypatch.delenv("BASIN_TOPIC_PARTITONS")
    monkeypatch.setenv("BASIN_WHATEVER", "1")
    with pytest.raises(ValidationError, match="unknown environment variable BASIN_WHATEVER: "):
        Settings()


def test_the_cli_stops_on_an_unknown_variable_with_exit_1_but_help_still_works(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BASIN_KAFKA_BOOTSTRAP_SERVER", "k1:9092")
    result = CliRunner().invoke(main, ["config", "show"])
    assert result.exit_code == 1
    assert "BASIN_KAFKA_BOOTSTRAP_SERVER (did you mean BASIN_KAFKA_BOOTSTRAP_SERVERS?)" in (
        result.output
    )
    assert CliRunner().invoke(main, ["config", "show", "--help"]).exit_code == 0


def test_tool_variables_and_the_secrets_an_alerts_file_names_are_allowed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in TOOL_VARIABLES:
        monkeypatch.setenv(name, "1")
    monkeypatch.setenv("BASIN_DT_SECRET", "s")
    with pytest.raises(ValidationError, match="BASIN_DT_SECRET"):
        Settings()  # the shipped alerts file names no such secret
    alerts = tmp_path / "alerts.yaml"
    alerts.write_text(
        "receivers:\n  js:\n    channels:\n"
        "      - {type: dingtalk, url: 'https://x', secret_env: BASIN_DT_SECRET}\n",
        encoding="utf-8",
    )
    assert Settings(alerts_path=alerts).alerts_path == alerts


def test_every_basin_variable_of_the_deploy_scripts_is_known_to_the_settings() -> None:
    fields = {f"BASIN_{name.upper()}" for name in Settings.model_fields}
    scripts = sorted((REPO / "deploy" / "local").glob("*.sh"))
    named = {m for path in scripts for m in re.findall(r"BASIN_[A-Z0-9_]+", path.read_text())}
    assert "BASIN_STATE_DIR" in named
    assert named - fields - set(TOOL_VARIABLES) - set(VIEW_TOKEN_VARIABLES) == set()


def test_the_state_dir_has_one_default_in_python_and_one_in_the_shell_library(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    shell = subprocess.run(
        ["bash", "-c", '. deploy/local/lib.sh && printf %s "$BASIN_STATE_DIR"'],
        cwd=REPO,
        env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    settings = Settings()
    assert Path(shell.stdout) == settings.state_dir == tmp_path / ".local/state/basinwatch"
    assert settings.influx_credentials_file == settings.state_dir / "influxdb/credentials.env"
    moved = Settings(state_dir=tmp_path / "elsewhere")
    assert moved.influx_credentials_file == tmp_path / "elsewhere/influxdb/credentials.env"


def test_the_view_tokens_of_the_parties_are_known_and_nothing_near_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BASIN_VIEW_TOKEN_ZJ", "zj-read-token")
    assert Settings().grafana_token is None
    monkeypatch.setenv("BASIN_VIEW_TOKEN_XJ", "typo")
    with pytest.raises(ValueError, match="BASIN_VIEW_TOKEN_XJ"):
        Settings()
