"""Gap-free backfill with the real discord.py bot against the Discord test server: what was
said while the bot was down, or while its gateway session was lost, is stored exactly once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from core.db.engine import Database
from tests.fakes.discord_server import DiscordTestServer, Guild
from tests.fakes.discord_server.gateway import IDENTIFY
from tests.fakes.discord_server.harness import rows, running_bot, seed, settle

HISTORY = r"/channels/\d+/messages$"


@dataclass
class Lab:
    server: DiscordTestServer
    guild: Guild
    general: int
    unmapped: int
    ada: int


@pytest.fixture
async def lab(db: Database, tmp_path: Path) -> AsyncIterator[Lab]:
    async with DiscordTestServer() as server:
        guild = server.add_guild("Lab")
        general = server.add_channel(guild, "general")
        unmapped = server.add_channel(guild, "off-topic")
        ada = server.add_user("ada")
        server.add_member(guild, ada)
        await seed(
            db,
            tmp_path,
            [f"uni,Uni,opt-out,t1,Team one,p-ada,Ada,student,{ada},granted"],
            [(guild.id, general, "t1")],
        )
        yield Lab(server, guild, general, unmapped, ada)


async def stored(database_url: str) -> list[tuple[int, int | None, str | None]]:
    """(id, thread, content) of every stored message but the test barriers."""
    return await rows(
        database_url,
        "SELECT id, thread_id, content FROM discord_messages "
        "WHERE content IS DISTINCT FROM 'barrier' ORDER BY id",
    )


def truth(server: DiscordTestServer, *streams: int) -> list[tuple[int, int | None, str]]:
    found = []
    for stream in streams:
        thread = (
            stream if stream in {t for g in server.guilds.values() for t in g.threads} else None
        )
        found += [
            (int(m["id"]), thread, m["content"])
            for m in server.channel_history(stream)
            if m["content"] != "barrier"
        ]
    return sorted(found)


def history_afters(server: DiscordTestServer, channel_id: int) -> list[int]:
    return [
        int(r.query["after"])
        for r in server.requests
        if r.method == "GET" and r.path.endswith(f"/channels/{channel_id}/messages")
    ]


async def test_what_was_said_while_the_bot_was_down_is_stored_once_after_restart(
    lab: Lab, db: Database, database_url: str
) -> None:
    s = lab.server
    # History from before FRAMES existed: no checkpoint, so it is backfilled from the start.
    before = s.seed_messages(lab.general, lab.ada, 150)
    s.seed_messages(lab.unmapped, lab.ada, 5)
    async with running_bot(s, db, database_url) as bot:
        assert history_afters(s, lab.general)[0] == 0
        live = [await s.say(lab.general, lab.ada, f"live {n}") for n in range(3)]
        await settle(s, bot, database_url, lab.general, lab.ada)
    assert [r[0] for r in await stored(database_url)] == sorted(before + live)
    (checkpoint,) = (
        await rows(
            database_url,
            "SELECT last_message_id FROM capture_checkpoints WHERE channel_id = $1",
            lab.general,
        )
    )[0]
    # Down: 230 messages, and a thread with its messages.
    missed = [await s.say(lab.general, lab.ada, f"missed {n}") for n in range(230)]
    thread = await s.create_thread(lab.general, lab.ada, "thermal")
    in_thread = [await s.say(thread, lab.ada, f"thread {n}") for n in range(3)]
    s.requests.clear()
    async with running_bot(s, db, database_url) as bot:
        assert history_afters(s, lab.general)[0] == checkpoint
        await settle(s, bot, database_url, lab.general, lab.ada)
        assert bot.backfill.metrics.messages_fetched >= len(missed) + len(in_thread)
    assert await stored(database_url) == truth(s, lab.general, thread)
    # Each page was asked for once, from the checkpoint on: nothing fetched twice.
    assert history_afters(s, lab.general)[:3] == [checkpoint, missed[99], missed[199]]
    assert await rows(
        database_url,
        "SELECT channel_id, last_message_id FROM capture_checkpoints ORDER BY channel_id",
    ) == [(lab.general, max(await _ids(database_url, thread_id=None))), (thread, in_thread[-1])]
    assert s.unknown_requests == []


async def _ids(database_url: str, *, thread_id: int | None) -> list[int]:
    found = await rows(
        database_url,
        "SELECT id FROM discord_messages WHERE thread_id IS NOT DISTINCT FROM $1",
        thread_id,
    )
    return [r[0] for r in found]


async def test_rate_limits_and_server_errors_on_history_still_end_exactly_once(
    lab: Lab, db: Database, database_url: str
) -> None:
    s = lab.server
    seeded = s.seed_messages(lab.general, lab.ada, 250)
    # The first page is rate limited twice, a later page fails with 502 once (discord.py
    # retries both), and the third page with 500 once.
    s.fail_rest("GET", HISTORY, 429, times=2, retry_after=0.05)
    async with running_bot(s, db, database_url) as bot:
        s.fail_rest("GET", HISTORY, 502, times=1)
        s.fail_rest("GET", HISTORY, 500, times=1)
        await s.drop_connections()  # RESUME: a catch-up runs again, through the faults
        await asyncio.sleep(0.3)
        await bot.backfill.wait_caught_up()
        live = await s.say(lab.general, lab.ada, "after the faults")
        await settle(s, bot, database_url, lab.general, lab.ada)
    statuses = [r.status for r in s.requests if r.path.endswith(f"/{lab.general}/messages")]
    assert statuses.count(429) == 2 and 502 in statuses and 500 in statuses
    assert [r[0] for r in await stored(database_url)] == sorted([*seeded, live])


async def test_a_thread_gone_from_discord_is_logged_and_skipped(
    lab: Lab, db: Database, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    s = lab.server
    async with running_bot(s, db, database_url) as bot:
        thread = await s.create_thread(lab.general, lab.ada, "doomed")
        await s.say(thread, lab.ada, "in the thread")
        await settle(s, bot, database_url, lab.general, lab.ada)
    s.remove_channel(thread)
    missed = [await s.say(lab.general, lab.ada, f"missed {n}") for n in range(3)]
    caplog.set_level(logging.WARNING, logger="core.capture.backfill")
    async with running_bot(s, db, database_url) as bot:
        assert bot.backfill.metrics.streams_skipped == 1
        await settle(s, bot, database_url, lab.general, lab.ada)
    assert set(missed) <= {r[0] for r in await stored(database_url)}
    assert f"backfill: {thread} skipped" in caplog.text
    assert [r for r in s.unknown_requests if "/threads/" not in r] == []


async def test_events_missed_between_gateway_sessions_are_backfilled(
    lab: Lab, db: Database, database_url: str
) -> None:
    s = lab.server
    async with running_bot(s, db, database_url) as bot:
        first = [await s.say(lab.general, lab.ada, f"first {n}") for n in range(5)]
        await settle(s, bot, database_url, lab.general, lab.ada)
        # The session ends for good: what is said until the bot identifies again never
        # reaches it over the gateway, and a live message after READY must not move the
        # checkpoint past that gap before backfill has filled it.
        await s.invalidate_sessions(resumable=False)
        gap = [await s.say(lab.general, lab.ada, f"gap {n}") for n in range(120)]
        for _ in range(300):
            if sum(f["op"] == IDENTIFY for _, f in s.gateway_frames) == 2 and s._live(0):
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the bot did not identify again")
        after = await s.say(lab.general, lab.ada, "after the gap")
        await bot.backfill.wait_caught_up()
        await settle(s, bot, database_url, lab.general, lab.ada)
    assert [r[0] for r in await stored(database_url)] == sorted([*first, *gap, after])
