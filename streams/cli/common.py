"""Helpers shared by the CLI commands."""

from __future__ import annotations

import click
from pydantic import ValidationError

from streams.settings import Settings, SettingsError


def load_settings() -> Settings:
    """Build the settings or stop with a message that names the bad variable."""
    try:
        return Settings()
    except (ValidationError, SettingsError) as exc:
        raise click.ClickException(f"invalid settings: {exc}") from exc
