"""Reading the database the way a test checks it: a short connection of its own per query,
outside whatever session or event loop the code under test uses."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg


async def rows(url: str, query: str, *args: object) -> list[tuple[Any, ...]]:
    connection = await asyncpg.connect(url)
    try:
        return [tuple(r) for r in await connection.fetch(query, *args)]
    finally:
        await connection.close()


def rows_now(url: str, query: str, *args: object) -> list[tuple[Any, ...]]:
    """``rows`` from synchronous code, such as a test running the ``frames`` CLI."""
    return asyncio.run(rows(url, query, *args))
