"""The real discord.py bot against the Discord test server: messages in an unmapped channel
are counted (never stored) and `frames channels list --unmapped` shows the channel; the
category the bot recorded at GUILD_CREATE maps it at once, and capture starts."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from core.capture.status import snowflake_time
from core.db.engine import Database
from tests.cli import frames, table_cells
from tests.fakes.discord_server import DiscordTestServer, Guild
from tests.fakes.discord_server import payloads as p
from tests.fakes.discord_server.harness import rows, running_bot, seed, settle


@dataclass
class Lab:
    server: DiscordTestServer
    guild: Guild
    general: int
    social: int  # a category
    off_topic: int  # unmapped, in the category
    ada: int


@pytest.fixture
async def lab(db: Database, tmp_path: Path) -> AsyncIterator[Lab]:
    async with DiscordTestServer() as server:
        guild = server.add_guild("Lab")
        general = server.add_channel(guild, "general")
        social = server.add_channel(guild, "Social", kind=p.CATEGORY)
        off_topic = server.add_channel(guild, "off-topic", category=social)
        ada = server.add_user("ada")
        server.add_member(guild, ada)
        await seed(
            db,
            tmp_path,
            [f"uni,Uni,opt-in,t1,Team one,p-ada,Ada,student,{ada},granted"],
            [(guild.id, general, "t1")],
        )
        yield Lab(server, guild, general, social, off_topic, ada)


def minute(message_id: int) -> str:
    return snowflake_time(message_id).astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


async def cli(*args: str) -> tuple[int, str, str]:
    # The CLI runs its own event loop: give it a thread, as a user's shell would a process.
    result = await asyncio.to_thread(frames, *args)
    return result.exit_code, result.stdout, result.stderr


async def test_unmapped_channel_is_listed_with_its_count_then_mapped_by_category(
    lab: Lab, db: Database, database_url: str, cli_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    s = lab.server
    async with running_bot(s, db, database_url) as bot:
        said = [await s.say(lab.off_topic, lab.ada, f"chatter {n}") for n in range(3)]
        thread = await s.create_thread(lab.off_topic, lab.ada, "side talk")
        said.append(await s.say(thread, lab.ada, "in a thread of an unmapped channel"))
        await settle(s, bot, database_url, lab.general, lab.ada)

        code, out, err = await cli("channels", "list", "--unmapped")
        assert code == 0, err
        assert table_cells(out) == [
            ["guild", "channel", "name", "category", "messages", "first seen", "last seen"],
            [
                str(lab.guild.id),
                str(lab.off_topic),
                "off-topic",
                str(lab.social),
                "4",
                minute(said[0]),
                minute(said[-1]),
            ],
        ]
        # Counted, never stored: no message rows, no content anywhere.
        assert await rows(
            database_url,
            "SELECT count(*) FROM discord_messages WHERE channel_id = $1",
            lab.off_topic,
        ) == [(0,)]
        assert await rows(
            database_url,
            "SELECT channel_id, guild_id, name, message_count FROM unmapped_channels_seen",
        ) == [(lab.off_topic, lab.guild.id, "off-topic", 4)]

        # The bot recorded the category at GUILD_CREATE: map all of it at once.
        code, out, err = await cli(
            "channels", "map", str(lab.guild.id), "--category", str(lab.social), "--team", "t1"
        )
        assert code == 0, err
        assert out.splitlines() == [
            f"Category {lab.social}: 1 channels → team t1.",
            f"  {lab.off_topic}",
        ]
        code, out, err = await cli("channels", "list", "--unmapped")
        assert (code, out.strip()) == (0, "No unmapped channels seen.")

        # The running pipeline picks the mapping up (the harness refreshes it every batch).
        captured = await s.say(lab.off_topic, lab.ada, "now it is captured")
        await settle(s, bot, database_url, lab.general, lab.ada)
    assert await rows(
        database_url,
        "SELECT id, content, team_id FROM discord_messages WHERE channel_id = $1",
        lab.off_topic,
    ) == [(captured, "now it is captured", "t1")]
    assert await rows(database_url, "SELECT message_count FROM unmapped_channels_seen") == [(4,)]
