"""``frames db``: migrations, backup and restore."""

from __future__ import annotations

from pathlib import Path

import click

from bot.commands.runtime import actor, configure_logging, console, load_settings, run
from core.db import backup as backups
from core.db import migrations
from core.db.engine import Database, open_database
from core.db.repositories.audit import AuditRepository


@click.group("db")
def db_group() -> None:
    """Schema migrations, backup and restore."""


async def _audit(db: Database, action: str, **details: object) -> None:
    async with db.transaction() as session:
        await AuditRepository(session).record(
            actor(), action, target_type="database", details=dict(details)
        )


@db_group.command("upgrade")
@click.argument("revision", default="heads")
def upgrade(revision: str) -> None:
    """Upgrade the schema to REVISION (default: the latest)."""
    settings = load_settings()
    configure_logging(settings)

    async def go() -> str | None:
        async with open_database(settings) as db:
            before = await migrations.current_revision(db)
            await migrations.upgrade(db, settings, revision)
            after = await migrations.current_revision(db)
            await _audit(db, "db.upgrade", before=before, after=after)
            return after

    console.print(f"Database at revision {run(go())}.")


@db_group.command("downgrade")
@click.argument("revision")
def downgrade(revision: str) -> None:
    """Downgrade the schema to REVISION (`base` removes every table)."""
    settings = load_settings()
    configure_logging(settings)

    async def go() -> str | None:
        async with open_database(settings) as db:
            # Recorded first: downgrading far enough drops the audit table itself.
            await _audit(
                db, "db.downgrade", before=await migrations.current_revision(db), to=revision
            )
            await migrations.downgrade(db, settings, revision)
            return await migrations.current_revision(db)

    console.print(f"Database at revision {run(go()) or 'base'}.")


@db_group.command("current")
def current() -> None:
    """Print the schema's current revision on stdout (`none` for an empty database)."""
    settings = load_settings()
    configure_logging(settings)

    async def go() -> str | None:
        async with open_database(settings) as db:
            return await migrations.current_revision(db)

    click.echo(run(go()) or "none")


@db_group.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def backup(file: Path) -> None:
    """Write a backup of the whole database to FILE (pg_dump custom format)."""
    settings = load_settings()
    configure_logging(settings)

    async def go() -> int:
        async with open_database(settings) as db:
            await _audit(db, "db.backup", file=str(file))
            return await backups.backup(db.url.libpq, file)

    size = run(go())
    console.print(f"Backup written to {file} ({size / 1e6:.1f} MB).")


@db_group.command("restore")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def restore(file: Path, yes: bool) -> None:
    """Replace the database's contents with the backup in FILE."""
    if not yes:
        click.confirm(f"Replace everything in the database with {file}?", abort=True)
    settings = load_settings()
    configure_logging(settings)

    async def go() -> None:
        async with open_database(settings) as db:
            await backups.restore(db.url.libpq, file)
            await _audit(db, "db.restore", file=str(file))

    run(go())
    console.print(f"Database restored from {file}.")
