"""The one database gateway: engine, sessions, and the embedded server's life cycle."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from core.db.embedded import EmbeddedPostgres
from core.db.urls import DatabaseURL, parse_database_url
from core.errors import DatabaseError
from core.settings import Settings

log = logging.getLogger(__name__)

PGVECTOR_FIX = (
    "install pgvector on the server (https://github.com/pgvector/pgvector#installation; "
    "managed services: enable the 'vector' extension), or unset DATABASE_URL to use the "
    "embedded PostgreSQL, which ships it"
)


@dataclass
class Database:
    """Engine and session factory; one session per unit of work, never shared across tasks."""

    engine: AsyncEngine
    url: DatabaseURL
    embedded: bool

    def __post_init__(self) -> None:
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session whose work commits on success and rolls back on any error."""
        async with self.sessions() as session, session.begin():
            yield session


async def check_server(engine: AsyncEngine, url: DatabaseURL) -> None:
    """Fail early, with the fix named, when the server is unreachable or lacks pgvector."""
    try:
        async with engine.connect() as connection:
            available = await connection.scalar(
                text("SELECT count(*) FROM pg_available_extensions WHERE name = 'vector'")
            )
    except (OSError, OperationalError, DBAPIError) as exc:
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        raise DatabaseError(
            f"cannot connect to PostgreSQL at {url.redacted}: {reason}", url=url.redacted
        ) from exc
    if not available:
        raise DatabaseError(
            f"PostgreSQL at {url.redacted} has no pgvector extension; {PGVECTOR_FIX}",
            url=url.redacted,
        )


def create_engine(url: DatabaseURL, settings: Settings) -> AsyncEngine:
    return create_async_engine(
        url.asyncpg,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_pre_ping=True,
    )


@asynccontextmanager
async def open_database(settings: Settings, *, migrate: bool = False) -> AsyncIterator[Database]:
    """Open the configured database (starting the embedded one if needed) for a ``with`` block.

    ``migrate=True`` upgrades the schema to head first, which the embedded default does on
    every start; an external server is migrated only by ``frames db upgrade``.
    """
    embedded: EmbeddedPostgres | None = None
    if settings.database_url is None:
        embedded = EmbeddedPostgres(settings.pgdata_dir)
        raw_url = await asyncio.to_thread(embedded.start)
    else:
        raw_url = settings.database_url.get_secret_value()
    try:
        url = parse_database_url(raw_url)
        engine = create_engine(url, settings)
        try:
            await check_server(engine, url)
            database = Database(engine=engine, url=url, embedded=embedded is not None)
            if migrate:
                from core.db.migrations import upgrade

                await upgrade(database, settings)
            yield database
        finally:
            await engine.dispose()
    finally:
        if embedded is not None:
            await asyncio.to_thread(embedded.stop)
