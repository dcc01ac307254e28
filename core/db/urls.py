"""Database URL handling: users give libpq-style URLs, FRAMES picks the driver."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from core.errors import ConfigurationError

_ACCEPTED_SCHEMES = ("postgresql", "postgres")


@dataclass(frozen=True)
class DatabaseURL:
    """One database location in the two spellings FRAMES needs."""

    libpq: str  # for pg_dump, pg_restore, psql and MLflow
    asyncpg: URL  # for SQLAlchemy's async engine

    @property
    def redacted(self) -> str:
        return self.asyncpg.render_as_string(hide_password=True)


def parse_database_url(raw: str) -> DatabaseURL:
    """Accept ``postgresql://`` and ``postgres://`` URLs (with or without a driver suffix).

    A Unix socket is given as ``?host=/dir``, which both libpq and asyncpg understand.
    """
    scheme, sep, rest = raw.partition("://")
    if not sep:
        raise ConfigurationError(
            "DATABASE_URL is not a URL; expected postgresql://user:password@host:port/dbname"
        )
    base_scheme = scheme.split("+", 1)[0].lower()
    if base_scheme not in _ACCEPTED_SCHEMES:
        raise ConfigurationError(
            f"DATABASE_URL scheme {scheme!r} is not supported; use postgresql:// (PostgreSQL only)"
        )
    try:
        url = make_url(f"postgresql+asyncpg://{rest}")
    except ArgumentError as exc:
        raise ConfigurationError(f"DATABASE_URL could not be parsed: {exc}") from None
    if not url.database:
        raise ConfigurationError("DATABASE_URL names no database; add /dbname after the host")
    return DatabaseURL(libpq=f"postgresql://{rest}", asyncpg=url)
