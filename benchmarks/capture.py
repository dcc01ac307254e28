"""Live capture throughput and latency: the FRAMES bot against a naive bot, in one run.

    python benchmarks/capture.py [--messages 20000] [--baseline-messages 4000] [--seconds 5]

Both bots are real discord.py clients, each run as its own OS process (one after the other)
and connected over loopback to the Discord test server (``tests/fakes/discord_server``),
which runs in this process with the sender and the watcher, as Discord's servers would be
elsewhere. Both write to the same fresh embedded PostgreSQL:

* FRAMES: ``frames bot`` exactly as deployed (capture cog → bounded queue → batched COPY +
  idempotent upsert, production flush and context settings);
* baseline: a minimal discord.py client (``capture.py --naive-bot``) that writes each
  message with the ORM, one session and one commit per message (metricity's shape).

For each bot: (1) a flood sent as fast as the bot reads it: sustained messages per second =
messages / (last row committed − first message sent); (2) a paced load at half that rate
for ``--seconds``: p50 and p99 latency from the event leaving the server to its row being
visible (committed) in PostgreSQL, found by polling every 5 ms. Target: FRAMES ≥ 10× the
baseline's rate, FRAMES p99 < 1 s. The machine's load average is printed beside the
figures: other work on the machine moves them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
import tempfile
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncpg
import discord

from bot.discord_bot import configure_endpoints, frames_intents
from core.db.embedded import EmbeddedPostgres
from core.db.engine import open_database
from core.db.models import DiscordMessage
from core.org.channels import ChannelMappingRecord, map_channels
from core.org.roster import parse_roster
from core.org.service import import_roster
from core.settings import Settings
from tests.fakes.discord_server import DiscordTestServer
from tests.fakes.discord_server.harness import (
    FRAMES,
    bot_process,
    reaped,
    until,
    wait_connected,
)

ROSTER = (
    "university_id,university_name,consent_mode,team_id,team_name,person_id,display_name,"
    "role,discord_user_id,consent\n"
    "uni,Uni,opt-out,t1,Team one,p-ada,Ada,student,{ada},granted\n"
)


# --- the two bots, each an OS process ------------------------------------------------------
def bot_command(name: str) -> list[str]:
    if name == "frames":
        return [str(FRAMES), "bot"]  # as deployed: production pipeline settings
    return [sys.executable, str(Path(__file__).resolve()), "--naive-bot"]


async def naive_bot() -> None:
    """A minimal discord.py client committing each message with the ORM, one session each
    (the baseline's process; configured from the environment like ``frames bot``)."""
    settings = Settings()
    configure_endpoints(settings)
    assert settings.discord_token is not None
    async with open_database(settings) as db:
        client = discord.Client(intents=frames_intents())
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

        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        task = asyncio.create_task(client.start(settings.discord_token.get_secret_value()))
        await asyncio.wait({task, asyncio.create_task(stop.wait())}, return_when="FIRST_COMPLETED")
        await client.close()
        with contextlib.suppress(asyncio.CancelledError):
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
    id still awaited rather than after the newest one seen. The watcher shares this process
    with the server, so its own work is kept small (no rescans of everything awaited)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.seen: dict[int, float] = {}
        self.pending: set[int] = set()
        self._order: deque[int] = deque()  # awaited ids, oldest first (ids grow with time)
        self.task: asyncio.Task[None] | None = None

    def expect(self, message_id: int) -> int:
        self.pending.add(message_id)
        self._order.append(message_id)
        return message_id

    async def run(self) -> None:
        connection = await asyncpg.connect(self.url)
        try:
            while True:
                while self._order and self._order[0] not in self.pending:
                    self._order.popleft()
                if self._order:
                    found = await connection.fetch(
                        "SELECT id FROM discord_messages WHERE id >= $1", self._order[0]
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
        missing = [i for i in ids if i not in self.seen]
        while missing:
            if self.task is not None and self.task.done():
                self.task.result()  # the poller failed: say why
            if time.perf_counter() > deadline:
                raise TimeoutError(
                    f"{len(missing)} of {len(ids)} messages not stored, first {missing[:3]}"
                )
            await asyncio.sleep(0.02)
            missing = [i for i in missing if i not in self.seen]
        return max(self.seen[i] for i in ids)


def progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[int(q * (len(ordered) - 1))]


async def measure_bot(
    name: str,
    server: DiscordTestServer,
    url: str,
    channel: int,
    author: int,
    messages: int,
    paced_seconds: float,
    log: Path,
) -> Result:
    watcher = Watcher(url)
    polling = watcher.task = asyncio.create_task(watcher.run())
    process = bot_process(
        server, url, log, command=bot_command(name), environment={"FRAMES_LOG_LEVEL": "WARNING"}
    )
    try:
        with reaped(process):
            await wait_connected(server, process, log, seconds=120)
            warm = [watcher.expect(await server.say(channel, author, "warm-up"))]
            await watcher.until_all(warm, 60)
            if name == "frames":
                # Ready means caught up: the start-up backfill (after discord.py's guild-ready
                # wait) has read the channel and released its checkpoint. Flooding before that
                # would measure the catch-up re-reading the flood from history as well.
                checkpoint = (
                    "SELECT max(last_message_id) FROM capture_checkpoints "  # noqa: S608 - an id
                    f"WHERE channel_id = {channel}"
                )
                await until(url, checkpoint, warm[0], 60)
            progress(f"{name}: ready")

            # (1) flood: as fast as the bot reads (the socket's back-pressure paces the server)
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
            process.send_signal(signal.SIGTERM)
            if await asyncio.to_thread(process.wait, 60) != 0:
                raise RuntimeError(f"{name} bot exited {process.returncode}: see {log}")
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
                async with (
                    open_database(settings, migrate=True) as db,
                    db.transaction() as session,
                ):
                    await import_roster(
                        session, parse_roster(roster), actor="bench", source="roster"
                    )
                    await map_channels(
                        session,
                        [ChannelMappingRecord(guild.id, channel, "t1")],
                        actor="bench",
                        source="benchmark",
                    )
                load_before = os.getloadavg()
                ours = await measure_bot(
                    "frames",
                    server,
                    url,
                    channel,
                    ada,
                    args.messages,
                    args.seconds,
                    workdir / "frames.log",
                )
                base = await measure_bot(
                    "baseline",
                    server,
                    url,
                    channel,
                    ada,
                    args.baseline_messages,
                    args.seconds,
                    workdir / "baseline.log",
                )
                load_after = os.getloadavg()
    print(f"{'bot':<10} {'msg/s':>10} {'paced at':>10} {'p50 ms':>8} {'p99 ms':>8}")
    for r in (ours, base):
        print(
            f"{r.name:<10} {r.rate:>10,.0f} {r.paced_rate:>10,.0f} "
            f"{r.p50 * 1000:>8.1f} {r.p99 * 1000:>8.1f}"
        )
    ratio = ours.rate / base.rate
    print(f"ratio: FRAMES sustains {ratio:.1f}x the naive bot's rate (target >= 10x)")
    print(f"FRAMES p99 event-to-commit: {ours.p99 * 1000:.0f} ms (target < 1000 ms)")
    print(
        f"load average (1 min) {load_before[0]:.2f} before, {load_after[0]:.2f} after, "
        f"on {os.cpu_count()} CPUs"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--baseline-messages", type=int, default=4_000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--naive-bot", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    asyncio.run(naive_bot() if arguments.naive_bot else main(arguments))
