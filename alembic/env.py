"""Alembic environment: runs on a connection handed in by core.db.migrations, or its own."""

from __future__ import annotations

import asyncio

from sqlalchemy.engine import Connection

from alembic import context
from core.db.models import Base

target_metadata = Base.metadata

# Views and generated columns are managed by hand in revisions; keep autogenerate off them.
EXCLUDED_VIEWS = {"interfaces", "students", "faculty"}


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    return not (type_ == "table" and name in EXCLUDED_VIEWS)


def run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=include_object,
        compare_type=True,
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_standalone() -> None:
    """For developers running the ``alembic`` command directly (e.g. revision --autogenerate)."""
    from core.db.engine import open_database
    from core.settings import Settings

    async with open_database(Settings()) as database, database.engine.connect() as connection:
        await connection.run_sync(run_on)
        await connection.commit()


shared_connection = context.config.attributes.get("connection")
if shared_connection is not None:
    run_on(shared_connection)
elif context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run against a database")
else:
    asyncio.run(run_standalone())
