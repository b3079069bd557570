"""Station passwords, named by the registry's ``password_ref`` and never stored in its YAML.

A reference such as ``hj212/JS-TH-001`` is looked up, in order:

- in a secrets directory: the file ``<dir>/hj212/JS-TH-001`` (its content, stripped);
- in a secrets file: a line ``hj212/JS-TH-001=<password>``;
- in the environment: ``BASIN_SECRET_HJ212_JS_TH_001`` (upper case, other characters ``_``).

Files must not be readable by group or others (mode 600 or stricter): a looser one is refused at
start-up. Passwords are :class:`~pydantic.SecretStr`; nothing here logs or prints them.
"""

from __future__ import annotations

import hmac
import os
import re
import stat
from collections.abc import Mapping
from pathlib import Path

from pydantic import SecretStr

from streams.errors import StreamsError
from streams.settings import SECRET_PREFIX


class SecretsError(StreamsError):
    """The secrets file or directory cannot be used (missing, unreadable, too open)."""


def env_name(ref: str) -> str:
    """The variable of a reference: ``hj212/JS-TH-001`` -> BASIN_SECRET_HJ212_JS_TH_001."""
    return SECRET_PREFIX + re.sub(r"[^A-Za-z0-9]", "_", ref).upper()


def _check_private(path: Path) -> None:
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise SecretsError(
            f"{path} is readable by others (mode {stat.S_IMODE(mode):o}); chmod 600 it"
        )


class Secrets:
    """Passwords by reference, from a directory, a file and the environment."""

    def __init__(self, path: Path | None = None, environ: Mapping[str, str] | None = None) -> None:
        self._path = path
        self._environ = dict(os.environ if environ is None else environ)
        self._file: dict[str, SecretStr] = {}
        if path is None:
            return
        if not path.exists():
            raise SecretsError(f"secrets path {path} does not exist")
        _check_private(path)
        if path.is_file():
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if not line.strip() or line.lstrip().startswith("#"):
                    continue
                ref, eq, value = line.partition("=")
                if not eq:
                    raise SecretsError(f"{path}:{number}: expected REF=password")
                self._file[ref.strip()] = SecretStr(value.strip())

    def get(self, ref: str) -> SecretStr | None:
        """The password of ``ref``; None when no source has it."""
        if ref in self._file:
            return self._file[ref]
        if self._path is not None and self._path.is_dir():
            candidate = (self._path / ref).resolve()
            if candidate.is_relative_to(self._path.resolve()) and candidate.is_file():
                _check_private(candidate)
                return SecretStr(candidate.read_text(encoding="utf-8").strip())
        value = self._environ.get(env_name(ref))
        return SecretStr(value) if value is not None else None

    def check(self, ref: str, given: str | None) -> bool:
        """Whether ``given`` is the password of ``ref`` (constant-time; False when unknown)."""
        expected = self.get(ref)
        if expected is None or given is None:
            return False
        return hmac.compare_digest(expected.get_secret_value().encode(), given.encode())
