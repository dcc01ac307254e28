"""Live capture throughput and latency: the FRAMES bot against a naive bot, in one run.

    python benchmarks/capture.py [--messages 20000] [--baseline-messages 4000] [--seconds 5]

Both bots are real discord.py clients connected over loopback to the Discord test server
(``tests/fakes/discord_server``), one after the other, in this process's event loop (the
server shares that loop with each of them alike), writing to the same fresh embedded
PostgreSQL:

* FRAMES: ``BotComponent`` as ``frames bot`` runs it (capture cog → bounded queue →
  batched COPY + idempotent upsert, production flush and context settings);
* baseline: a minimal discord.py client that writes each message with the ORM, one session
  and one commit per message (metricity's shape).

For each bot: (1) a flood sent as fast as the server can: sustained messages per second =
messages / (last row committed − first message sent); (2) a paced load at half that rate
for ``--seconds``: p50 and p99 latency from the event leaving the server to its row being
visible (committed) in PostgreSQL, found by polling every 5 ms. Target: FRAMES ≥ 10× the
baseline's rate, FRAMES p99 < 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncpg
import discord

from bot.discord_bot import frames_intents
from core.db.embedded import EmbeddedPostgres
from core.db.engine import Database, open_database
from core.db.models import DiscordMessage
from core.org.channels import ChannelMappingRecord, map_channels
from core.org.roster import parse_roster
from core.org.service import import_roster
from core.settings import Settings
from tests.fakes.discord_server import DiscordTestServer
from tests.fakes.discord_server.harness import running_bot

ROSTER = (
    "university_id,university_name,consent_mode,team_id,team_name,person_id,display_name,"
    "role,discord_user_id,consent\n"
    "uni,Uni,opt-out,t1,Team one,p-ada,Ada,student,{ada},granted\n"
)


# --- the two bots, each started in this process's event loop ---------------------------------
@asynccontextmanager
async def frames_bot(server: DiscordTestServer, db: Database, url: str) -> AsyncIterator[None]:
    """The real FRAMES bot with its production pipeline settings."""
    async with running_bot(server, db, url, flush_seconds=0.1, context_ttl=5.0):
        yield


@asynccontextmanager
async def baseline_bot(server: DiscordTestServer, db: Database, url: str) -> AsyncIterator[None]:
    """A minimal discord.py client committing each message with the ORM, one session each."""
    client = discord.Client(intents=frames_intents(), guild_ready_timeout=0.1)
    settings = Settings(DATABASE_URL=url)
    # Handlers run concurrently; waiting here instead of on the pool keeps the naive bot
    # lossless (the pool's 30 s checkout timeout would drop messages under a flood).
    connections = asyncio.Semaphore(settings.db_pool_size + settings.db_max_overflow)

    @client.event
    async def on_message(message: discord.Message) -> None:
        async with connections, db.sessions() as session:
            session.add(
                DiscordMessage(
                    id=message.id,
                    channel_id=message.channel.id,
                    guild_id=message.guild.id if message.guild else None,
                    author_id=message.author.id,
                    content=message.content,
                    timestamp=message.created_at,
                    metadata_={},
                    source="baseline",
                )
            )
            await session.commit()

    task = asyncio.create_task(client.start(server.token), name="baseline-bot")
    try:
        while not client.is_ready():
            if task.done():
                task.result()
            await asyncio.sleep(0.05)
        yield
    finally:
        await client.close()
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await task


# --- the measuring side ---------------------------------------------------------------------
@dataclass
class Result:
    name: str
    rate: float
    p50: float
    p99: float
    paced_rate: float


class Watcher:
    """Polls for committed rows and stamps when each awaited message id became visible.

    The naive bot commits concurrently, out of id order, so the poll starts at the oldest
    id still awaited rather than after the newest one seen."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.seen: dict[int, float] = {}
        self.pending: set[int] = set()
        self.task: asyncio.Task[None] | None = None

    def expect(self, message_id: int) -> int:
        self.pending.add(message_id)
        return message_id

    async def run(self) -> None:
        connection = await asyncpg.connect(self.url)
        try:
            while True:
                if self.pending:
                    found = await connection.fetch(
                        "SELECT id FROM discord_messages WHERE id >= $1", min(self.pending)
                    )
                    now = time.perf_counter()
                    for row in found:
                        if row["id"] in self.pending:
                            self.pending.discard(row["id"])
                            self.seen[row["id"]] = now
                await asyncio.sleep(0.005)
        finally:
            await connection.close()

    async def until_all(self, ids: list[int], seconds: float = 600.0) -> float:
        """Until every id is visible; returns when the last of them became visible."""
        deadline = time.perf_counter() + seconds
        while any(i not in self.seen for i in ids):
            if self.task is not None and self.task.done():
                self.task.result()  # the poller failed: say why
            if time.perf_counter() > deadline:
                missing = sorted(i for i in ids if i not in self.seen)
                raise TimeoutError(
                    f"{len(missing)} of {len(ids)} messages not stored, first {missing[:3]}"
                )
            await asyncio.sleep(0.02)
        return max(self.seen[i] for i in ids)


def progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[int(q * (len(ordered) - 1))]


async def measure_bot(
    name: str,
    bot: Callable[[DiscordTestServer, Database, str], AbstractAsyncContextManager[None]],
    server: DiscordTestServer,
    db: Database,
    url: str,
    channel: int,
    author: int,
    messages: int,
    paced_seconds: float,
) -> Result:
    watcher = Watcher(url)
    polling = watcher.task = asyncio.create_task(watcher.run())
    try:
        async with bot(server, db, url):
            progress(f"{name}: ready")
            warm = [watcher.expect(await server.say(channel, author, "warm-up"))]
            await watcher.until_all(warm, 60)

            # (1) flood: as fast as the server sends
            sent: dict[int, float] = {}
            for n in range(messages):
                message_id = watcher.expect(await server.say(channel, author, f"{name} flood {n}"))
                sent[message_id] = time.perf_counter()
                if n % 200 == 199:
                    await asyncio.sleep(0)
            first = min(sent.values())
            last = await watcher.until_all(list(sent))
            rate = messages / (last - first)
            progress(f"{name}: flood of {messages} stored, {rate:,.0f} messages/s")

            # (2) paced at half the sustained rate: latency from event to committed row
            paced_rate = rate / 2
            paced: dict[int, float] = {}
            started = time.perf_counter()
            while (elapsed := time.perf_counter() - started) < paced_seconds:
                while len(paced) < int(elapsed * paced_rate):
                    message_id = watcher.expect(await server.say(channel, author, f"{name} paced"))
                    paced[message_id] = time.perf_counter()
                await asyncio.sleep(0.005)
            progress(f"{name}: {len(paced)} paced messages sent")
            await watcher.until_all(list(paced), 60)
        latencies = [watcher.seen[i] - t for i, t in paced.items()]
        return Result(
            name, rate, percentile(latencies, 0.5), percentile(latencies, 0.99), paced_rate
        )
    finally:
        polling.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await polling
        # Both runs start from the same empty tables.
        connection = await asyncpg.connect(url)
        try:
            await connection.execute(
                "TRUNCATE discord_messages, discord_interfaces, capture_checkpoints CASCADE"
            )
        finally:
            await connection.close()
        server.messages[channel].clear()


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="frames-bench-") as tmp:
        workdir = Path(tmp)
        with EmbeddedPostgres(workdir / "pgdata") as url:
            async with DiscordTestServer() as server:
                guild = server.add_guild("Lab")
                channel = server.add_channel(guild, "general")
                ada = server.add_user("ada")
                server.add_member(guild, ada)
                roster = workdir / "roster.csv"
                roster.write_text(ROSTER.format(ada=ada), encoding="utf-8")
                settings = Settings(DATABASE_URL=url)
                async with open_database(settings, migrate=True) as db:
                    async with db.transaction() as session:
                        await import_roster(
                            session, parse_roster(roster), actor="bench", source="roster"
                        )
                        await map_channels(
                            session,
                            [ChannelMappingRecord(guild.id, channel, "t1")],
                            actor="bench",
                            source="benchmark",
                        )
                    ours = await measure_bot(
                        "frames",
                        frames_bot,
                        server,
                        db,
                        url,
                        channel,
                        ada,
                        args.messages,
                        args.seconds,
                    )
                    base = await measure_bot(
                        "baseline",
                        baseline_bot,
                        server,
                        db,
                        url,
                        channel,
                        ada,
                        args.baseline_messages,
                        args.seconds,
                    )
    print(f"{'bot':<10} {'msg/s':>10} {'paced at':>10} {'p50 ms':>8} {'p99 ms':>8}")
    for r in (ours, base):
        print(
            f"{r.name:<10} {r.rate:>10,.0f} {r.paced_rate:>10,.0f} "
            f"{r.p50 * 1000:>8.1f} {r.p99 * 1000:>8.1f}"
        )
    ratio = ours.rate / base.rate
    print(f"ratio: FRAMES sustains {ratio:.1f}x the naive bot's rate (target >= 10x)")
    print(f"FRAMES p99 event-to-commit: {ours.p99 * 1000:.0f} ms (target < 1000 ms)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--baseline-messages", type=int, default=4_000)
    parser.add_argument("--seconds", type=float, default=5.0)
    asyncio.run(main(parser.parse_args()))
