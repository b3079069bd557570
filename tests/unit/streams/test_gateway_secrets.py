"""Station passwords for the gateway: by reference, from a file, a directory or the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from streams.gateway.secrets import Secrets, SecretsError, env_name


def test_a_secrets_file_is_read_and_must_be_private(tmp_path: Path) -> None:
    path = tmp_path / "secrets"
    path.write_text("# station passwords\nhj212/JS-TH-001=abc123\n")
    path.chmod(0o644)
    with pytest.raises(SecretsError, match="chmod 600"):
        Secrets(path, environ={})
    path.chmod(0o600)
    secrets = Secrets(path, environ={})
    assert secrets.check("hj212/JS-TH-001", "abc123")
    assert not secrets.check("hj212/JS-TH-001", "abc124")
    assert not secrets.check("hj212/JS-TH-002", "abc123")  # unknown reference: refused
    assert "abc123" not in repr(secrets.get("hj212/JS-TH-001"))


def test_a_secrets_directory_holds_one_file_per_reference(tmp_path: Path) -> None:
    (tmp_path / "hj212").mkdir()
    secret = tmp_path / "hj212" / "JS-TH-001"
    secret.write_text("abc123\n")
    secret.chmod(0o600)
    tmp_path.chmod(0o700)
    secrets = Secrets(tmp_path, environ={})
    assert secrets.check("hj212/JS-TH-001", "abc123")
    assert secrets.get("../etc/passwd") is None
    secret.chmod(0o640)
    with pytest.raises(SecretsError):
        secrets.get("hj212/JS-TH-001")


def test_environment_variables_are_named_after_the_reference() -> None:
    assert env_name("hj212/JS-TH-001") == "BASIN_SECRET_HJ212_JS_TH_001"
    secrets = Secrets(None, environ={"BASIN_SECRET_HJ212_JS_TH_001": "xyz789"})
    assert secrets.check("hj212/JS-TH-001", "xyz789")
    assert not secrets.check("hj212/JS-TH-001", None)


def test_secret_variables_are_not_unknown_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    from streams.settings import Settings

    monkeypatch.setenv("BASIN_SECRET_HJ212_JS_TH_001", "xyz789")
    Settings(_env_file=None)  # type: ignore[call-arg]
    monkeypatch.setenv("BASIN_GATEWAY_PROT", "1")
    with pytest.raises(ValueError, match="BASIN_GATEWAY_PORT"):
        Settings(_env_file=None)  # type: ignore[call-arg]
