"""Alembic owns the schema: upgrade → downgrade to base → upgrade works on real PostgreSQL.

CLI tests are plain functions: ``frames`` runs its own event loop, as it does for users.
"""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from core.db.models import Base
from tests.cli import frames
from tests.conftest import create_test_database

VIEWS = {"interfaces", "students", "faculty"}


@pytest.fixture
async def empty_database_url(postgres_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path) -> str:
    url = await create_test_database(postgres_url, "template0")
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("FRAMES_DATA_DIR", str(tmp_path))
    return url


def relations(url: str) -> tuple[set[str], set[str]]:
    return asyncio.run(_relations(url))


async def _relations(url: str) -> tuple[set[str], set[str]]:
    connection = await asyncpg.connect(url)
    try:
        tables = {
            r[0]
            for r in await connection.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname='public'"
            )
        }
        views = {
            r[0]
            for r in await connection.fetch(
                "SELECT viewname FROM pg_views WHERE schemaname='public'"
            )
        }
    finally:
        await connection.close()
    return tables, views


def test_upgrade_downgrade_upgrade_round_trip(empty_database_url: str) -> None:
    assert frames("db", "current").stdout.strip() == "none"

    result = frames("db", "upgrade")
    assert result.exit_code == 0, result.stderr
    head = frames("db", "current").stdout.strip()
    assert head and head != "none"
    tables, views = relations(empty_database_url)
    assert set(Base.metadata.tables) <= tables
    assert views == VIEWS

    result = frames("db", "downgrade", "base")
    assert result.exit_code == 0, result.stderr
    assert frames("db", "current").stdout.strip() == "none"
    tables, views = relations(empty_database_url)
    assert tables <= {"alembic_version"} and not views

    assert frames("db", "upgrade").exit_code == 0
    assert frames("db", "current").stdout.strip() == head
    tables, views = relations(empty_database_url)
    assert set(Base.metadata.tables) <= tables and views == VIEWS


async def test_schema_matches_models_after_upgrade(database_url: str) -> None:
    """Autogenerate finds nothing to do: the migration and the models agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy.ext.asyncio import create_async_engine

    from core.db.urls import parse_database_url

    engine = create_async_engine(parse_database_url(database_url).asyncpg)
    try:
        async with engine.connect() as connection:
            diff = await connection.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"compare_type": True}), Base.metadata
                )
            )
    finally:
        await engine.dispose()
    assert diff == []


async def test_required_storage_features(database_url: str) -> None:
    connection = await asyncpg.connect(database_url)
    try:
        assert await connection.fetchval(
            "SELECT extversion FROM pg_extension WHERE extname='vector'"
        )
        embedding_type = await connection.fetchval(
            "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
            "WHERE attrelid='embeddings'::regclass AND attname='embedding'"
        )
        assert embedding_type == "vector(384)"
        generated = await connection.fetchval(
            "SELECT is_generated FROM information_schema.columns "
            "WHERE table_name='discord_messages' AND column_name='search_vector'"
        )
        assert generated == "ALWAYS"
        index_methods = {
            r["indexname"]: r["indexdef"]
            for r in await connection.fetch(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname='public'"
            )
        }
        assert "USING gin (search_vector)" in index_methods["ix_discord_messages_search_vector"]
        assert "USING brin" in index_methods["ix_discord_messages_timestamp_brin"]
        naive = await connection.fetch(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema='public' AND data_type='timestamp without time zone'"
        )
        assert naive == []
        snowflakes = await connection.fetch(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name='discord_messages' AND column_name IN ('id','channel_id','author_id','guild_id')"
        )
        assert {r["data_type"] for r in snowflakes} == {"bigint"}
        tenant_tables = {
            r[0]
            for r in await connection.fetch(
                "SELECT table_name FROM information_schema.columns "
                "WHERE table_schema='public' AND column_name='university_id'"
            )
        }
        for table in (
            "discord_messages",
            "discord_interfaces",
            "pm_tasks",
            "people",
            "teams",
            "embeddings",
            "outcomes",
        ):
            assert table in tenant_tables
    finally:
        await connection.close()
