"""Crash and restart: ``frames bot`` as a real process, killed with SIGKILL in the middle of
a 20,000-message burst and started again, leaves the database equal to the Discord test
server's truth (no loss, no duplicate). And a PostgreSQL restart in the middle of a burst
(a server of its own, not the session's shared one) loses and duplicates nothing either."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from core.db.embedded import EmbeddedPostgres
from core.db.engine import Database, open_database
from core.errors import DatabaseError
from tests.conftest import settings_for
from tests.fakes.discord_server import DiscordTestServer
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

BURST = 20_000


async def test_kill_9_during_a_burst_then_restart_equals_the_servers_truth(
    db: Database, database_url: str, tmp_path: Path
) -> None:
    log = tmp_path / "bot.log"
    async with DiscordTestServer() as s:
        guild = s.add_guild("Lab")
        general = s.add_channel(guild, "general")
        ada = s.add_user("ada")
        s.add_member(guild, ada)
        await seed(
            db,
            tmp_path,
            [f"uni,Uni,opt-out,t1,Team one,p-ada,Ada,student,{ada},granted"],
            [(guild.id, general, "t1")],
        )
        count_sql = "SELECT count(*) FROM discord_messages"
        with reaped(bot_process(s, database_url, log)) as first:
            await wait_connected(s, first, log)
            await asyncio.sleep(2.5)  # discord.py's guild_ready_timeout, then the catch-up

            async def burst() -> None:
                for n in range(BURST):
                    await s.say(general, ada, f"burst message {n}")
                    if n % 100 == 99:
                        await asyncio.sleep(0.02)  # about 5,000 messages/s, like a busy program

            sender = asyncio.create_task(burst())
            await until(database_url, "SELECT count(*) > 2000 FROM discord_messages", True, 60)
            first.send_signal(signal.SIGKILL)
            killed_while_sending = not sender.done()
            await sender
            await asyncio.to_thread(first.wait, 10)
        assert killed_while_sending
        assert first.returncode == -signal.SIGKILL
        stored_when_killed = (await rows(database_url, count_sql))[0][0]
        assert 0 < stored_when_killed < BURST, "the kill must land inside the burst"
        s.requests.clear()

        with reaped(bot_process(s, database_url, log)) as second:
            await wait_connected(s, second, log)
            await until(database_url, count_sql, BURST, seconds=120)
            after = await s.say(general, ada, "after the restart")
            await until(
                database_url, f"SELECT count(*) FROM discord_messages WHERE id = {after}", 1
            )
            second.send_signal(signal.SIGTERM)  # graceful: the pipeline drains, exit 0
            assert await asyncio.to_thread(second.wait, 30) == 0, log.read_text()

        # The new process has a new gateway session: what the dead one missed came by backfill.
        pages = [r for r in s.requests if r.path.endswith(f"/channels/{general}/messages")]
        assert len(pages) >= (BURST - stored_when_killed) // 100
        expected = sorted((int(m["id"]), m["content"]) for m in s.channel_history(general))
        assert (
            await rows(database_url, "SELECT id, content FROM discord_messages ORDER BY id")
            == expected
        )
        assert await rows(
            database_url,
            "SELECT last_message_id FROM capture_checkpoints WHERE channel_id = $1",
            general,
        ) == [(after,)]
        assert await rows(database_url, "SELECT count(*) FROM capture_pending_changes") == [(0,)]


@asynccontextmanager
async def own_postgres(tmp_path: Path) -> AsyncIterator[tuple[EmbeddedPostgres, str]]:
    server = EmbeddedPostgres(tmp_path / "own-pg" / "pgdata")
    try:
        url = await asyncio.to_thread(server.start)
    except DatabaseError:
        # Seen once on a loaded 2-core machine: the wheel's first pg_ctl start gave up
        # early (its 10 s limit) while another cluster was busy; a second start succeeds.
        url = await asyncio.to_thread(server.start)
    try:
        async with open_database(settings_for(url), migrate=True):
            pass
        yield server, url
    finally:
        await asyncio.to_thread(server.stop)


async def test_a_postgresql_restart_mid_burst_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    async with (
        own_postgres(tmp_path) as (postgres, url),
        DiscordTestServer() as s,
        open_database(settings_for(url)) as db,
    ):
        guild = s.add_guild("Lab")
        general = s.add_channel(guild, "general")
        ada = s.add_user("ada")
        s.add_member(guild, ada)
        await seed(
            db,
            tmp_path,
            [f"uni,Uni,opt-out,t1,Team one,p-ada,Ada,student,{ada},granted"],
            [(guild.id, general, "t1")],
        )
        async with running_bot(s, db, url, retry_initial=0.05, retry_max=0.5) as bot:
            for n in range(3_000):
                await s.say(general, ada, f"burst message {n}")
                if n == 1_000:
                    await until(url, "SELECT count(*) > 0 FROM discord_messages", True)
                    await asyncio.to_thread(postgres.stop)
                if n == 2_000:
                    await asyncio.sleep(0.5)  # a while with the database gone
                    await asyncio.to_thread(postgres.start)
            await settle(s, bot, url, general, ada)
            assert bot.pipeline.metrics.retries > 0
            assert bot.pipeline.metrics.failed_items == 0
        expected = sorted((int(m["id"]), m["content"]) for m in s.channel_history(general))
        assert await rows(url, "SELECT id, content FROM discord_messages ORDER BY id") == expected
