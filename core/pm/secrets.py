"""Secrets by reference: a connection names a variable; the value lives in the environment
or in the secrets file (``FRAMES_SECRETS_FILE``, ``KEY=VALUE`` lines), never in PostgreSQL.

Values are ``SecretStr`` from the moment they are read, so they stay out of reprs and logs;
errors name the reference, never the value.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from pydantic import SecretStr

from core.errors import ConfigurationError

REF_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")


def check_reference(ref: str, option: str) -> str:
    """A reference is a variable name; anything else is refused (it may be a pasted secret)."""
    if not REF_PATTERN.match(ref):
        raise ConfigurationError(
            f"{option} must name an environment variable or secrets-file key "
            "(letters, digits and underscores), not hold the secret itself"
        )
    return ref


def parse_secrets_file(path: Path) -> dict[str, str]:
    """``KEY=VALUE`` lines; blank lines and ``#`` comments ignored; values may be quoted."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"cannot read secrets file {path}: {exc.strerror}") from None
    values: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("export "):
            stripped = stripped[len("export ") :].lstrip()
        key, sep, value = stripped.partition("=")
        key = key.strip()
        if not sep or not REF_PATTERN.match(key):
            # The line may hold a secret: report where it is, not what it says.
            raise ConfigurationError(f"secrets file {path}, line {number}: expected KEY=VALUE")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key] = value
    return values


class SecretResolver:
    """Looks a reference up in the environment first, then in the secrets file."""

    def __init__(self, secrets_file: Path | None, environ: Mapping[str, str] | None = None) -> None:
        self.secrets_file = secrets_file
        self.environ = os.environ if environ is None else environ
        self._file_values: dict[str, str] | None = None

    def _file(self) -> dict[str, str]:
        if self._file_values is None:
            self._file_values = (
                parse_secrets_file(self.secrets_file) if self.secrets_file is not None else {}
            )
        return self._file_values

    def lookup(self, ref: str) -> SecretStr | None:
        value = self.environ.get(ref)
        if value is None:
            value = self._file().get(ref)
        return SecretStr(value) if value else None

    def resolve(self, ref: str | None, what: str) -> SecretStr:
        if not ref:
            raise ConfigurationError(f"{what} has no secret reference configured")
        secret = self.lookup(ref)
        if secret is None:
            where = "the environment"
            if self.secrets_file is not None:
                where += f" or {self.secrets_file}"
            raise ConfigurationError(f"{what}: secret {ref!r} is not set in {where}")
        return secret
