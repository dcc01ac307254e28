"""Shared fixtures: one embedded PostgreSQL per test session, a fresh database per module.

The schema is migrated once into a template database; each test module gets a copy made
with ``CREATE DATABASE ... TEMPLATE`` (milliseconds), and tables are truncated after each
test that asks for a clean database.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from core.db.embedded import EmbeddedPostgres
from core.db.engine import Database, open_database
from core.db.migrations import upgrade
from core.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
TEMPLATE = "frames_template"
_database_numbers = itertools.count()


def shared_data(*parts: str) -> Path:
    """A path under ../shared/data, or skip the test with the reason."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared test data not found at {path} (clone with ../shared beside it)")
    return path


def _replace_database(url: str, name: str) -> str:
    base, _, query = url.partition("?")
    return f"{base.rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else "")


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The admin URL of this session's embedded server (its ``frames`` database)."""
    pgdata = tmp_path_factory.mktemp("pg") / "pgdata"
    server = EmbeddedPostgres(pgdata)
    url = server.start()
    try:
        yield url
    finally:
        server.stop()


def settings_for(url: str, tmp_path: Path | None = None) -> Settings:
    values: dict[str, object] = {"DATABASE_URL": url}
    if tmp_path is not None:
        values["data_dir"] = tmp_path
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
async def template_url(postgres_url: str) -> str:
    """A database migrated to head, used as the template of every test database."""
    url = _replace_database(postgres_url, TEMPLATE)
    admin = await asyncpg.connect(postgres_url)
    try:
        await admin.execute(f"DROP DATABASE IF EXISTS {TEMPLATE}")
        await admin.execute(f"CREATE DATABASE {TEMPLATE}")
    finally:
        await admin.close()
    settings = settings_for(url)
    async with open_database(settings) as db:
        await upgrade(db, settings)
    return url


async def create_test_database(postgres_url: str, template: str) -> str:
    name = f"test_{os.getpid()}_{next(_database_numbers)}"
    admin = await asyncpg.connect(postgres_url)
    try:
        await admin.execute(f"CREATE DATABASE {name} TEMPLATE {template}")
    finally:
        await admin.close()
    return _replace_database(postgres_url, name)


@pytest.fixture(scope="module")
async def database_url(postgres_url: str, template_url: str) -> str:
    """A fresh, migrated database for this test module."""
    return await create_test_database(postgres_url, TEMPLATE)


@pytest.fixture(scope="module")
async def module_db(database_url: str) -> AsyncIterator[Database]:
    async with open_database(settings_for(database_url)) as database:
        yield database


# Seeded by migrations (registry defaults); tests that change them must restore them.
PRESERVED_TABLES = (
    "alembic_version",
    "assessment_layers",
    "assessment_categories",
    "energy_loss_models",
)


async def truncate_all(url: str) -> None:
    """Empty every table but the migration-seeded ones."""
    connection = await asyncpg.connect(url)
    try:
        tables = await connection.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND NOT (tablename = ANY($1::text[]))",
            list(PRESERVED_TABLES),
        )
        names = ", ".join(f'"{row[0]}"' for row in tables)
        await connection.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    finally:
        await connection.close()


@pytest.fixture
async def db(module_db: Database, database_url: str) -> AsyncIterator[Database]:
    """The module's database, emptied after the test."""
    yield module_db
    await truncate_all(database_url)


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, database_url: str, tmp_path: Path) -> str:
    """Environment for running ``frames`` commands against this module's database."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("FRAMES_DATA_DIR", str(tmp_path / "data"))
    return database_url
