"""Sharding, gateway faults and command-sync election, with the real discord.py bot against
the Discord test server and the real PostgreSQL: every message is stored exactly once, with
two shards in one process, two bots in one loop, and two `frames bot` OS processes."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest

from core.db.engine import Database
from tests.fakes.discord_server import DiscordTestServer, Guild
from tests.fakes.discord_server.gateway import IDENTIFY, RESUME
from tests.fakes.discord_server.harness import (
    bot_process,
    reaped,
    rows,
    running_bot,
    seed,
    settle,
    until,
    wait_connected,
)


@dataclass
class TwoGuilds:
    server: DiscordTestServer
    guilds: list[Guild]
    channels: list[int]
    ada: int


@pytest.fixture
async def two_guilds(db: Database, tmp_path: Path) -> AsyncIterator[TwoGuilds]:
    async with DiscordTestServer() as server:
        guilds = [server.add_guild(f"G{n}", shard_id=n, shard_count=2) for n in (0, 1)]
        channels = [server.add_channel(g, "general") for g in guilds]
        ada = server.add_user("ada")
        for guild in guilds:
            server.add_member(guild, ada)
        await seed(
            db,
            tmp_path,
            [f"uni,Uni,opt-out,t1,Team one,p-ada,Ada,student,{ada},granted"],
            [(g.id, c, "t1") for g, c in zip(guilds, channels, strict=True)],
        )
        yield TwoGuilds(server, guilds, channels, ada)


def identifies(server: DiscordTestServer) -> list[list[int]]:
    return sorted(f["d"]["shard"] for _, f in server.gateway_frames if f["op"] == IDENTIFY)


async def stored_ids(database_url: str) -> list[int]:
    found = await rows(
        database_url,
        "SELECT id FROM discord_messages WHERE content IS DISTINCT FROM 'barrier' ORDER BY id",
    )
    return [r[0] for r in found]


async def test_two_shards_in_one_process_store_every_guild_once(
    two_guilds: TwoGuilds, db: Database, database_url: str
) -> None:
    s, ada = two_guilds.server, two_guilds.ada
    async with running_bot(s, db, database_url, shard_count=2) as bot:
        assert identifies(s) == [[0, 2], [1, 2]]
        assert sorted(g.id for g in bot.bot.guilds) == sorted(g.id for g in two_guilds.guilds)
        sent = [
            await s.say(channel, ada, f"message {n} in guild {i}")
            for n in range(20)
            for i, channel in enumerate(two_guilds.channels)
        ]
        for channel in two_guilds.channels:
            await settle(s, bot, database_url, channel, ada)
    assert await stored_ids(database_url) == sorted(sent)
    # Each guild's events travelled only on its own shard's connection.
    for session in s.sessions:
        for _, frame in session.history:
            guild_id = frame["d"].get("guild_id") if isinstance(frame["d"], dict) else None
            if guild_id:
                assert (int(guild_id) >> 22) % 2 == session.shard_id


async def test_two_bots_with_shard_ranges_in_one_loop_store_every_guild_once(
    two_guilds: TwoGuilds, db: Database, database_url: str
) -> None:
    s, ada = two_guilds.server, two_guilds.ada
    async with AsyncExitStack() as stack:
        bots = [
            await stack.enter_async_context(
                running_bot(s, db, database_url, shard_count=2, shard_ids=[n])
            )
            for n in (0, 1)
        ]
        assert [sorted(g.id for g in b.bot.guilds) for b in bots] == [
            [two_guilds.guilds[0].id],
            [two_guilds.guilds[1].id],
        ]
        sent = [
            await s.say(channel, ada, f"burst {n}")
            for n in range(30)
            for channel in two_guilds.channels
        ]
        for bot, channel in zip(bots, two_guilds.channels, strict=True):
            await settle(s, bot, database_url, channel, ada)
    assert await stored_ids(database_url) == sorted(sent)
    syncs = [r for r in s.requests if r.method == "PUT" and r.path.endswith("/commands")]
    assert len(syncs) == 1, "exactly one bot (the advisory-lock holder) syncs commands"


async def test_two_frames_bot_processes_split_the_shards_and_only_one_syncs_commands(
    two_guilds: TwoGuilds, database_url: str, tmp_path: Path
) -> None:
    """`frames bot --shard-count 2 --shard-ids 0` and `... --shard-ids 1` as OS processes."""
    s, ada = two_guilds.server, two_guilds.ada
    logs = [tmp_path / f"shard-{n}.log" for n in (0, 1)]
    with (
        reaped(
            bot_process(s, database_url, logs[0], "--shard-count", "2", "--shard-ids", "0")
        ) as first,
        reaped(
            bot_process(s, database_url, logs[1], "--shard-count", "2", "--shard-ids", "1")
        ) as second,
    ):
        processes = [first, second]
        for shard, (process, log) in enumerate(zip(processes, logs, strict=True)):
            await wait_connected(s, process, log, shard_id=shard)
        # Each shard is ready once its start-up catch-up has read its guild's channel.
        await until_requested(s, [f"/channels/{c}/messages" for c in two_guilds.channels])

        sent = [
            await s.say(channel, ada, f"burst {n}")
            for n in range(40)
            for channel in two_guilds.channels
        ]
        await until(database_url, "SELECT count(*) FROM discord_messages", len(sent), 60)

        for process in processes:
            process.send_signal(signal.SIGTERM)  # graceful: gateway closed, pipeline drained
        for process, log in zip(processes, logs, strict=True):
            assert await asyncio.to_thread(process.wait, 30) == 0, log.read_text()

    assert await stored_ids(database_url) == sorted(sent)
    # One IDENTIFY per process, each for its own shard, and each session carried only the
    # guilds that shard owns.
    assert identifies(s) == [[0, 2], [1, 2]]
    assert sorted(session.shard_id for session in s.sessions) == [0, 1]
    for session, guild in zip(
        sorted(s.sessions, key=lambda x: x.shard_id), two_guilds.guilds, strict=True
    ):
        guild_ids = {
            int(frame["d"]["guild_id"] if "guild_id" in frame["d"] else frame["d"]["id"])
            for _, frame in session.history
            if frame["t"] in ("GUILD_CREATE", "MESSAGE_CREATE")
        }
        assert guild_ids == {guild.id}
        assert session.closed, "a SIGTERM closes the gateway cleanly (the session ends)"
    syncs = [r for r in s.requests if r.method == "PUT" and r.path.endswith("/commands")]
    assert len(syncs) == 1, "exactly one process (the advisory-lock holder) syncs commands"
    assert s.unknown_requests == []


async def until_requested(server: DiscordTestServer, paths: list[str], seconds: float = 30) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        seen = {r.path for r in server.requests if r.method == "GET"}
        if all(any(p.endswith(path) for p in seen) for path in paths):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never requested all of {paths}")


async def test_resume_replays_what_the_session_missed(
    two_guilds: TwoGuilds, db: Database, database_url: str
) -> None:
    s, ada = two_guilds.server, two_guilds.ada
    channel = two_guilds.channels[0]
    async with running_bot(s, db, database_url, shard_count=2) as bot:
        before = [await s.say(channel, ada, f"before {n}") for n in range(5)]
        await s.drop_connections(shard_id=0)
        # Dispatched while shard 0 is disconnected: buffered in its session, replayed on RESUME.
        missed = [await s.say(channel, ada, f"missed {n}") for n in range(5)]
        await until(
            database_url,
            f"SELECT count(*) FROM discord_messages WHERE id = ANY(ARRAY{missed}::bigint[])",
            5,
        )
        await s.send_reconnect(shard_id=0)
        after = [await s.say(channel, ada, f"after {n}") for n in range(5)]
        await asyncio.sleep(0.3)  # lets the op 7 reconnect finish before the barrier
        await settle(s, bot, database_url, channel, ada)
    resumes = [f for shard, f in s.gateway_frames if f["op"] == RESUME]
    assert len(resumes) >= 2
    assert await stored_ids(database_url) == sorted(before + missed + after)


async def test_invalid_session_reidentifies_and_capture_continues(
    two_guilds: TwoGuilds, db: Database, database_url: str
) -> None:
    s, ada = two_guilds.server, two_guilds.ada
    channel = two_guilds.channels[1]
    async with running_bot(s, db, database_url, shard_count=2) as bot:
        first = await s.say(channel, ada, "first")
        await s.invalidate_sessions(shard_id=1, resumable=False)
        await until(database_url, "SELECT count(*) FROM discord_messages", 1)

        for _ in range(300):  # up to 15 s for the fresh IDENTIFY of shard 1
            if identifies(s).count([1, 2]) == 2 and s._live(1):
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("shard 1 did not identify again after INVALID_SESSION")
        await asyncio.sleep(0.3)  # READY and GUILD_CREATE of the new session
        second = await s.say(channel, ada, "second")
        await settle(s, bot, database_url, channel, ada)
    assert await stored_ids(database_url) == [first, second]


async def test_rate_limited_command_sync_is_retried(
    two_guilds: TwoGuilds, db: Database, database_url: str
) -> None:
    s = two_guilds.server
    s.fail_rest("PUT", r"/applications/\d+/commands$", 429, retry_after=0.1)
    async with running_bot(s, db, database_url, shard_count=2):
        syncs = [r.status for r in s.requests if r.method == "PUT"]
    assert syncs == [429, 200]
    assert s.unknown_requests == []
