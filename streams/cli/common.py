"""Helpers shared by the CLI commands, and how they get the settings.

The ``basin`` group puts a :class:`SettingsInfo` in click's context (as Flask's CLI puts its
``ScriptInfo``); a command that needs the settings is decorated with :func:`pass_settings` and
receives them as its first argument. They are built on first use, once per invocation, so
``--help`` and the commands that need none work whatever the environment holds. Tests hand in
their own: ``CliRunner().invoke(main, args, obj=SettingsInfo(Settings(...)))``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Concatenate, ParamSpec, TypeVar

import click
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from stations.errors import RegistryError
from stations.registry import Registry, load_registry
from streams.settings import Settings

P = ParamSpec("P")
R = TypeVar("R")


class SettingsInfo:
    """The settings of one ``basin`` invocation: given (tests), or built from the environment and
    ``.env`` on first use and then kept."""

    def __init__(
        self, settings: Settings | None = None, create: Callable[[], Settings] = Settings
    ) -> None:
        self._settings = settings
        self._create = create

    def load(self) -> Settings:
        """The settings; exit 1 with a message naming the bad variable when they are invalid."""
        if self._settings is None:
            try:
                self._settings = self._create()
            except ValidationError as exc:
                raise click.ClickException(f"invalid settings: {exc}") from exc
        return self._settings


def settings_of(ctx: click.Context) -> Settings:
    """The settings of the invocation ``ctx`` belongs to."""
    return ctx.ensure_object(SettingsInfo).load()


def pass_settings(command: Callable[Concatenate[Settings, P], R]) -> Callable[P, R]:
    """Decorate a command to receive the invocation's settings as its first argument."""

    @click.pass_context
    def with_settings(ctx: click.Context, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return ctx.invoke(command, settings_of(ctx), *args, **kwargs)

    return functools.update_wrapper(with_settings, command)


def print_table(title: str, columns: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    """A rich table on a terminal; tab-separated lines with a header when piped (for scripts)."""
    console = Console()
    if not console.is_terminal:
        click.echo("\t".join(columns))
        for row in rows:
            click.echo("\t".join(row))
        return
    table = Table(*columns, title=title)
    for row in rows:
        table.add_row(*row)
    console.print(table)


#: ``--registry PATH`` for every command that needs the station registry.
registry_option = click.option(
    "--registry",
    "registry_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Station registry YAML (default: BASIN_REGISTRY_PATH, else the shipped registry).",
)


def open_registry(path: Path | None, settings: Settings | None = None) -> Registry:
    """The registry at ``path`` (else the configured or shipped one), or exit 1 listing problems."""
    try:
        return load_registry(path or (settings.registry_path if settings else None))
    except RegistryError as exc:
        raise click.ClickException(f"invalid station registry:\n{exc}") from exc
