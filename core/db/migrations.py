"""Alembic, driven programmatically over the application's own async engine."""

from __future__ import annotations

from collections.abc import Callable

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from alembic import command
from core.db.engine import Database
from core.errors import ConfigurationError
from core.settings import Settings


def alembic_config(settings: Settings) -> Config:
    if not (settings.alembic_dir / "env.py").exists():
        raise ConfigurationError(
            f"no Alembic migrations at {settings.alembic_dir}; set FRAMES_ALEMBIC_DIR"
        )
    config = Config()
    config.set_main_option("script_location", str(settings.alembic_dir))
    return config


async def _run(database: Database, settings: Settings, action: Callable[[Config], None]) -> None:
    config = alembic_config(settings)

    def run_with(connection: Connection) -> None:
        # env.py uses this connection instead of opening its own (connection sharing).
        config.attributes["connection"] = connection
        action(config)

    async with database.engine.begin() as connection:
        await connection.run_sync(run_with)


async def upgrade(database: Database, settings: Settings, revision: str = "heads") -> None:
    await _run(database, settings, lambda config: command.upgrade(config, revision))


async def downgrade(database: Database, settings: Settings, revision: str) -> None:
    await _run(database, settings, lambda config: command.downgrade(config, revision))


async def current_revision(database: Database) -> str | None:
    """The applied revision(s), comma-separated when branches are applied side by side."""
    async with database.engine.connect() as connection:
        heads = await connection.run_sync(
            lambda sync: MigrationContext.configure(sync).get_current_heads()
        )
    return ",".join(sorted(heads)) or None


def head_revision(settings: Settings) -> str | None:
    heads = ScriptDirectory.from_config(alembic_config(settings)).get_heads()
    return ",".join(sorted(heads)) or None
