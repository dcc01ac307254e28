"""`frames channels map --category`, `unmap` and `list --unmapped` on real PostgreSQL, and
the live pipeline's counts of unmapped channels (no Discord here: records go straight in)."""

from __future__ import annotations

import asyncio
import datetime as dt
import textwrap
from pathlib import Path

import asyncpg
import pytest

from core.capture.pipeline import CapturePipeline
from core.capture.records import MessageRecord
from core.capture.sightings import GuildChannelRecord
from core.db.engine import Database
from tests.cli import frames, table_cells
from tests.conftest import truncate_all
from tests.sql import rows, rows_now

GUILD, OTHER_GUILD = 800000000000000001, 800000000000000002
CATEGORY, EMPTY_CATEGORY, FOREIGN_CATEGORY = (
    810000000000000001,
    810000000000000002,
    810000000000000003,
)
BUILD, TEST, VOICE, LOOSE, THREAD = (
    820000000000000001,
    820000000000000002,
    820000000000000003,
    820000000000000004,
    820000000000000005,
)
ROSTER = textwrap.dedent(
    """\
    university_id,person_id,display_name,role,team_id,team_name
    uni,p1,Ada,student,t1,Team one
    uni,p2,Bob,student,t2,Team two
    """
)
# What the bot records of a guild at GUILD_CREATE: channels with their category.
CHANNELS = [
    (CATEGORY, GUILD, None, "category", "Engineering"),
    (EMPTY_CATEGORY, GUILD, None, "category", "Archive"),
    (BUILD, GUILD, CATEGORY, "text", "build"),
    (TEST, GUILD, CATEGORY, "forum", "test-reports"),
    (VOICE, GUILD, CATEGORY, "voice", "standup"),
    (LOOSE, GUILD, None, "text", "lobby"),
    (THREAD, GUILD, BUILD, "thread", "a thread"),
    (FOREIGN_CATEGORY, OTHER_GUILD, None, "category", "Elsewhere"),
]


@pytest.fixture
def guild(cli_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """An organisation with two teams and a guild whose channels the bot has recorded."""
    monkeypatch.setenv("COLUMNS", "200")  # rich tables one row per line
    asyncio.run(truncate_all(cli_env))
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    assert frames("org", "import", str(roster)).exit_code == 0

    async def record() -> None:
        connection = await asyncpg.connect(cli_env)
        try:
            await connection.executemany(
                "INSERT INTO discord_channels (id, guild_id, parent_id, kind, name) "
                "VALUES ($1, $2, $3, $4, $5)",
                CHANNELS,
            )
        finally:
            await connection.close()

    asyncio.run(record())
    return cli_env


def mappings(url: str) -> list[tuple[object, ...]]:
    return rows_now(
        url,
        "SELECT guild_id, channel_id, team_id, university_id FROM channel_mappings "
        "ORDER BY channel_id",
    )


def test_map_a_whole_category(guild: str) -> None:
    result = frames("channels", "map", str(GUILD), "--category", str(CATEGORY), "--team", "t1")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"Category {CATEGORY}: 3 channels → team t1.",
        f"  {BUILD}",
        f"  {TEST}",
        f"  {VOICE}",
    ]
    # Threads follow their channel's mapping; the channel outside the category is untouched.
    assert mappings(guild) == [
        (GUILD, BUILD, "t1", "uni"),
        (GUILD, TEST, "t1", "uni"),
        (GUILD, VOICE, "t1", "uni"),
    ]
    audit = rows_now(
        guild,
        "SELECT actor LIKE 'cli:%', action, target_id FROM audit_logs WHERE action = 'channels.map'",
    )
    assert audit == [(True, "channels.map", f"category {CATEGORY}")]

    # Again, to another team: the mappings move, nothing is duplicated.
    again = frames("channels", "map", str(GUILD), "--category", str(CATEGORY), "--team", "t2")
    assert again.exit_code == 0, again.stderr
    assert [m[2] for m in mappings(guild)] == ["t2", "t2", "t2"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["999", "--category", str(CATEGORY), "--team", "t1"],
            "frames: error: guild 999 has not been seen by the bot; invite it (`frames bot "
            "invite-url`) and run `frames bot` once so it records the guild's channels",
        ),
        (
            [str(GUILD), "--category", "123", "--team", "t1"],
            f"frames: error: category 123 is not a category of guild {GUILD} that the bot has "
            "seen; `frames channels list --unmapped` shows channels with their category",
        ),
        (
            [str(GUILD), "--category", str(BUILD), "--team", "t1"],
            f"frames: error: category {BUILD} is not a category of guild {GUILD} that the bot "
            "has seen; `frames channels list --unmapped` shows channels with their category",
        ),
        (
            [str(GUILD), "--category", str(FOREIGN_CATEGORY), "--team", "t1"],
            f"frames: error: category {FOREIGN_CATEGORY} is not a category of guild {GUILD} "
            "that the bot has seen; `frames channels list --unmapped` shows channels with "
            "their category",
        ),
        (
            [str(GUILD), "--category", str(EMPTY_CATEGORY), "--team", "t1"],
            f"frames: error: category {EMPTY_CATEGORY} (Archive) holds no channels",
        ),
        (
            [str(GUILD), "--category", str(CATEGORY), "--team", "ghost"],
            "frames: error: unknown team 'ghost'; see `frames org show` for the known ids",
        ),
    ],
    ids=[
        "unknown-guild",
        "unknown-category",
        "channel-not-category",
        "other-guild",
        "empty",
        "team",
    ],
)
def test_map_category_refuses_what_it_cannot_find(
    guild: str, args: list[str], message: str
) -> None:
    result = frames("channels", "map", *args)
    assert result.exit_code == 1
    assert result.stderr.strip() == message
    assert mappings(guild) == []


def test_map_needs_a_channel_or_a_category(guild: str) -> None:
    both = frames(
        "channels", "map", str(GUILD), str(BUILD), "--category", str(CATEGORY), "--team", "t1"
    )
    neither = frames("channels", "map", str(GUILD), "--team", "t1")
    for result in (both, neither):
        assert result.exit_code == 2
        assert "give exactly one of CHANNEL_ID and --category CATEGORY_ID" in result.stderr
    bad = frames("channels", "map", str(GUILD), "--category", "abc", "--team", "t1")
    assert bad.exit_code == 2 and "'abc' is not a Discord id" in bad.stderr


def test_unmap_a_channel_and_a_category_keeps_stored_messages(guild: str) -> None:
    assert (
        frames("channels", "map", str(GUILD), "--category", str(CATEGORY), "--team", "t1").exit_code
        == 0
    )
    assert frames("channels", "map", str(GUILD), str(LOOSE), "--team", "t2").exit_code == 0
    rows_now(
        guild,
        "INSERT INTO discord_messages (id, channel_id, author_id, content, timestamp, guild_id) "
        "VALUES (1, $1, 7, 'kept', now(), $2)",
        LOOSE,
        GUILD,
    )

    one = frames("channels", "unmap", str(LOOSE))
    assert one.exit_code == 0, one.stderr
    assert (
        one.stdout.strip() == f"Channel {LOOSE} unmapped (was team t2); stored messages are kept."
    )
    assert [m[1] for m in mappings(guild)] == [BUILD, TEST, VOICE]
    assert rows_now(guild, "SELECT id, content FROM discord_messages") == [(1, "kept")]

    again = frames("channels", "unmap", str(LOOSE))
    assert again.exit_code == 1
    assert again.stderr.strip() == (
        f"frames: error: channel {LOOSE} is not mapped; `frames channels list` shows the mappings"
    )

    category = frames("channels", "unmap", "--category", str(CATEGORY))
    assert category.exit_code == 0, category.stderr
    assert category.stdout.splitlines() == [
        f"Channel {c} unmapped (was team t1); stored messages are kept."
        for c in (BUILD, TEST, VOICE)
    ]
    assert mappings(guild) == []
    none_left = frames("channels", "unmap", "--category", str(CATEGORY))
    assert none_left.exit_code == 1
    assert f"no channel of category {CATEGORY} is mapped" in none_left.stderr

    audit = rows_now(
        guild,
        "SELECT target_id, jsonb_array_length(details->'unmapped') FROM audit_logs "
        "WHERE action = 'channels.unmap' ORDER BY id",
    )
    assert audit == [(str(LOOSE), 1), (f"category {CATEGORY}", 3)]


def test_list_unmapped_shows_seen_channels_until_they_are_mapped(guild: str) -> None:
    first = dt.datetime(2026, 3, 2, 9, 15, tzinfo=dt.UTC)
    last = dt.datetime(2026, 3, 4, 17, 40, tzinfo=dt.UTC)
    rows_now(
        guild,
        "INSERT INTO unmapped_channels_seen "
        "(channel_id, guild_id, name, message_count, first_seen_at, last_seen_at) "
        "VALUES ($1, $2, NULL, 12, $3, $4), (830000000000000001, $2, 'gone', 3, $3, $3)",
        LOOSE,
        GUILD,
        first,
        last,
    )
    result = frames("channels", "list", "--unmapped")
    assert result.exit_code == 0, result.stderr
    cells = table_cells(result.stdout)
    assert cells[0] == [
        "guild",
        "channel",
        "name",
        "category",
        "messages",
        "first seen",
        "last seen",
    ]
    # Counted channels first (most messages first), then channels only listed at GUILD_CREATE.
    assert cells[1:] == [
        [str(GUILD), str(LOOSE), "lobby", "", "12", "2026-03-02 09:15 UTC", "2026-03-04 17:40 UTC"],
        [
            str(GUILD),
            "830000000000000001",
            "gone",
            "",
            "3",
            "2026-03-02 09:15 UTC",
            "2026-03-02 09:15 UTC",
        ],
        [str(GUILD), str(BUILD), "build", str(CATEGORY), "0", "", ""],
        [str(GUILD), str(TEST), "test-reports", str(CATEGORY), "0", "", ""],
        [str(GUILD), str(VOICE), "standup", str(CATEGORY), "0", "", ""],
    ]
    assert "--category CATEGORY_ID" in result.stdout

    assert frames("channels", "map", str(GUILD), str(LOOSE), "--team", "t1").exit_code == 0
    assert (
        frames("channels", "map", str(GUILD), "--category", str(CATEGORY), "--team", "t2").exit_code
        == 0
    )
    after = frames("channels", "list", "--unmapped")
    assert str(LOOSE) not in after.stdout and str(BUILD) not in after.stdout
    assert "830000000000000001" in after.stdout
    # Without --unmapped: the mappings, as before.
    listed = frames("channels", "list")
    assert (
        listed.exit_code == 0
        and str(LOOSE) in listed.stdout
        and "830000000000000001" not in listed.stdout
    )


def test_list_unmapped_when_nothing_was_seen(cli_env: str) -> None:
    asyncio.run(truncate_all(cli_env))
    result = frames("channels", "list", "--unmapped")
    assert result.exit_code == 0
    assert result.stdout.strip() == "No unmapped channels seen."
    assert frames("channels", "list").exit_code == 1  # no mappings: unchanged behaviour


def message(
    message_id: int,
    channel: int,
    at: dt.datetime,
    *,
    parent: int | None = None,
    edited: bool = False,
) -> MessageRecord:
    return MessageRecord(
        id=message_id,
        channel_id=channel,
        author_id=900,
        timestamp=at,
        content="not for us",
        guild_id=GUILD,
        parent_channel_id=parent,
        author_name="ada",
        edited_at=at + dt.timedelta(minutes=5) if edited else None,
    )


async def test_pipeline_counts_unmapped_messages_in_the_batch_transaction(
    db: Database, database_url: str
) -> None:
    """Counts and times only (no content, no message rows); a thread counts for its
    channel; an edit is the same message again; counts add up across batches."""
    t0 = dt.datetime(2026, 5, 1, 12, 0, tzinfo=dt.UTC)
    pipeline = CapturePipeline(db, flush_seconds=0.01, context_ttl=0.0)
    pipeline.start()
    try:
        await pipeline.put(GuildChannelRecord(LOOSE, GUILD, None, "text", "lobby"))
        await pipeline.put(message(1, LOOSE, t0))
        await pipeline.put(message(2, THREAD, t0 + dt.timedelta(minutes=1), parent=LOOSE))
        await pipeline.put(message(1, LOOSE, t0, edited=True))
        await pipeline.wait_idle()
        await pipeline.put(message(3, LOOSE, t0 - dt.timedelta(hours=1)))
        await pipeline.wait_idle()
    finally:
        await pipeline.stop()
    assert await rows(
        database_url,
        "SELECT channel_id, guild_id, name, message_count, first_seen_at, last_seen_at "
        "FROM unmapped_channels_seen",
    ) == [(LOOSE, GUILD, "lobby", 3, t0 - dt.timedelta(hours=1), t0 + dt.timedelta(minutes=5))]
    assert await rows(database_url, "SELECT count(*) FROM discord_messages") == [(0,)]
    assert await rows(
        database_url, "SELECT id, guild_id, parent_id, kind, name FROM discord_channels"
    ) == [(LOOSE, GUILD, None, "text", "lobby")]
    assert pipeline.metrics.unmapped == {LOOSE: 4}
