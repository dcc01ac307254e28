"""Running the real FRAMES bot against the Discord test server: inside a test's event loop
(``running_bot``) or as ``frames bot`` processes (``bot_process``)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

from bot.discord_bot import BotComponent
from core.capture.pipeline import CapturePipeline
from core.db.engine import Database
from core.org.channels import ChannelMappingRecord, map_channels
from core.org.roster import parse_roster
from core.org.service import import_roster
from core.settings import Settings
from tests.fakes.discord_server.server import DiscordTestServer
from tests.sql import rows

ROSTER_HEADER = (
    "university_id,university_name,consent_mode,team_id,team_name,person_id,display_name,"
    "role,discord_user_id,consent\n"
)


async def _identify_now(shard_id: int, *, initial: bool = False) -> None:
    """Discord asks for 5 s between IDENTIFYs; the test server does not."""


def bot_settings(server: DiscordTestServer, database_url: str) -> Settings:
    return Settings(  # type: ignore[call-arg]
        DATABASE_URL=database_url,
        DISCORD_TOKEN=server.token,
        DISCORD_API_BASE=server.api_base,
        DISCORD_GATEWAY_URL=server.gateway_url,
    )


@asynccontextmanager
async def running_bot(
    server: DiscordTestServer,
    db: Database,
    database_url: str,
    *,
    shard_count: int | None = 1,
    shard_ids: list[int] | None = None,
    **pipeline_options: Any,
) -> AsyncIterator[BotComponent]:
    options = {"flush_seconds": 0.02, "context_ttl": 0.0, **pipeline_options}
    component = BotComponent(
        bot_settings(server, database_url),
        db,
        shard_count=shard_count,
        shard_ids=shard_ids,
        pipeline=CapturePipeline(db, **options),
        # Freezing would keep each test's cyclic garbage for the rest of the session; the
        # `frames bot` process tests run it as deployed.
        freeze_startup_objects=False,
        guild_ready_timeout=0.1,
    )
    component.bot.before_identify_hook = _identify_now  # type: ignore[method-assign]
    await component.start()
    try:
        await asyncio.wait_for(component.wait_until_ready(), 20)
        # The start-up catch-up (backfill) is part of starting: tests script from a known state.
        await asyncio.wait_for(component.backfill.wait_caught_up(), 20)
        yield component
    finally:
        await component.stop()


async def seed(
    db: Database, tmp_path: Path, roster_rows: list[str], mappings: list[tuple[int, int, str]]
) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER_HEADER + "\n".join(roster_rows) + "\n", encoding="utf-8")
    async with db.transaction() as session:
        await import_roster(session, parse_roster(roster), actor="test", source=roster.name)
        await map_channels(
            session,
            [ChannelMappingRecord(g, c, team) for g, c, team in mappings],
            actor="test",
            source="test",
        )


async def until(database_url: str, sql: str, expected: object, seconds: float = 15.0) -> None:
    """Poll ``sql`` until its single value equals ``expected`` (then the caller asserts rows)."""
    deadline = time.monotonic() + seconds
    value: object = None
    while time.monotonic() < deadline:
        value = (await rows(database_url, sql))[0][0]
        if value == expected:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{sql!r} stayed {value!r}, expected {expected!r}")


async def settle(
    server: DiscordTestServer,
    component: BotComponent,
    database_url: str,
    channel_id: int,
    author_id: int,
) -> None:
    """A barrier: every event dispatched before it on the channel's shard is committed once
    this message is (gateway order is kept through the cog and the pipeline's queue)."""
    barrier = await server.say(channel_id, author_id, "barrier")
    await until(database_url, f"SELECT count(*) FROM discord_messages WHERE id = {barrier}", 1)
    await component.pipeline.wait_idle()


# --- `frames bot` as a real process ---------------------------------------------------------
FRAMES = Path(sys.executable).parent / "frames"


def bot_process(
    server: DiscordTestServer,
    database_url: str,
    log: Path,
    *args: str,
    command: Sequence[str] = (str(FRAMES), "bot"),
    environment: Mapping[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """``frames bot [args]`` (or another bot's ``command``) with nothing but the token, the
    endpoints and the database set, plus ``environment``; its output is appended to ``log``."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DISCORD_TOKEN": server.token,
        "DISCORD_API_BASE": server.api_base,
        "DISCORD_GATEWAY_URL": server.gateway_url,
        "FRAMES_DATA_DIR": str(log.parent / "data"),
        **(environment or {}),
    }
    with log.open("ab") as out:
        return subprocess.Popen([*command, *args], env=env, stdout=out, stderr=out)


async def wait_connected(
    server: DiscordTestServer,
    process: subprocess.Popen[bytes],
    log: Path,
    shard_id: int = 0,
    seconds: float = 30.0,
) -> None:
    """Until the process has a live gateway session for ``shard_id``; its log is shown if it
    died or never connected."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server._live(shard_id):
            return
        if process.poll() is not None:
            output = await asyncio.to_thread(log.read_text)
            raise AssertionError(f"frames bot exited {process.returncode}:\n{output}")
        await asyncio.sleep(0.05)
    output = await asyncio.to_thread(log.read_text)
    raise AssertionError(f"frames bot never connected shard {shard_id}:\n{output}")


@contextmanager
def reaped(process: subprocess.Popen[bytes]) -> Iterator[subprocess.Popen[bytes]]:
    """Kills the process if the test leaves it running (a failed assertion)."""
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
