"""`frames db backup` / `restore` with the wheel's pg_dump and pg_restore, on real PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg

from tests.cli import frames
from tests.integration.test_org import ROSTER, write


async def _query(url: str, sql: str) -> list[tuple[object, ...]]:
    connection = await asyncpg.connect(url)
    try:
        return [tuple(r) for r in await connection.fetch(sql)]
    finally:
        await connection.close()


def query(url: str, sql: str) -> list[tuple[object, ...]]:
    return asyncio.run(_query(url, sql))


def test_backup_then_restore_brings_back_the_data(cli_env: str, tmp_path: Path) -> None:
    assert frames("org", "import", str(write(tmp_path, "roster.csv", ROSTER))).exit_code == 0
    people = query(cli_env, "SELECT id, display_name FROM people ORDER BY id")
    assert len(people) == 4

    archive = tmp_path / "backups" / "frames.dump"
    result = frames("db", "backup", str(archive))
    assert result.exit_code == 0, result.stderr
    assert archive.stat().st_size > 0
    assert not archive.with_name("frames.dump.partial").exists()

    query(cli_env, "UPDATE people SET display_name = 'changed'")
    query(cli_env, "DELETE FROM team_memberships")

    result = frames("db", "restore", str(archive), "--yes")
    assert result.exit_code == 0, result.stderr
    assert query(cli_env, "SELECT id, display_name FROM people ORDER BY id") == people
    assert query(cli_env, "SELECT count(*) FROM team_memberships") == [(4,)]
    assert frames("db", "current").stdout.strip() != "none"
    actions = [a for (a,) in query(cli_env, "SELECT action FROM audit_logs ORDER BY id")]
    assert actions[-1] == "db.restore"


def test_restore_of_a_missing_file_is_a_clear_error(cli_env: str, tmp_path: Path) -> None:
    result = frames("db", "restore", str(tmp_path / "nope.dump"), "--yes")
    assert result.exit_code == 1
    assert "no such backup file" in result.stderr
