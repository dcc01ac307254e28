"""`frames capture status` on real PostgreSQL: checkpoints, their time from the snowflake,
lag, stored counts per channel and thread, and the unmapped summary."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import textwrap
from pathlib import Path

import asyncpg
import pytest

from core.capture.status import human_duration, snowflake_time
from tests.cli import frames, table_cells
from tests.conftest import truncate_all
from tests.fakes.discord_server.snowflakes import snowflake_at as snowflake

GUILD = 600000000000000001
GENERAL, QUIET, SHARED, THREAD = (
    600000000000000010,
    600000000000000020,
    600000000000000030,
    600000000000000040,
)
ROSTER = textwrap.dedent(
    """\
    university_id,person_id,display_name,role,team_id,program_id
    uni,p1,Ada,student,t1,prog
    """
)


def test_snowflake_time_and_human_durations() -> None:
    at = dt.datetime(2026, 3, 1, 12, 30, 15, 250_000, tzinfo=dt.UTC)
    assert snowflake_time(snowflake(at, 4095)) == at
    assert [
        human_duration(dt.timedelta(seconds=s))
        for s in (-3, 0, 59, 60, 3_599, 3_600, 7_230, 86_399, 86_400, 3 * 86_400 + 4 * 3_600 + 59)
    ] == ["0 s", "0 s", "59 s", "1 min", "59 min", "1 h 0 min", "2 h 0 min", "23 h 59 min",
          "1 d 0 h", "3 d 4 h"]  # fmt: skip


async def seed(url: str, now: dt.datetime) -> dict[str, int]:
    newest = now - dt.timedelta(hours=2, seconds=30)
    in_thread = now - dt.timedelta(days=3, hours=4, minutes=10)
    ids = {
        "first": snowflake(newest - dt.timedelta(minutes=10), 1),
        "deleted": snowflake(newest - dt.timedelta(minutes=5), 2),
        "newest": snowflake(newest, 3),
        "thread_message": snowflake(in_thread, 4),
    }
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(
            """
            INSERT INTO channel_mappings (guild_id, channel_id, team_id, program_id, university_id)
            VALUES ($1, $2, 't1', NULL, 'uni'), ($1, $3, 't1', NULL, 'uni'),
                   ($1, $4, NULL, 'prog', NULL)
            """,
            GUILD,
            GENERAL,
            QUIET,
            SHARED,
        )
        await connection.executemany(
            "INSERT INTO discord_channels (id, guild_id, parent_id, kind, name) "
            "VALUES ($1, $2, $3, $4, $5)",
            [
                (GENERAL, GUILD, None, "text", "general"),
                (QUIET, GUILD, None, "text", "quiet"),
                (THREAD, GUILD, GENERAL, "thread", "thermal"),
            ],
        )
        await connection.executemany(
            "INSERT INTO discord_messages "
            "(id, channel_id, thread_id, author_id, content, timestamp, guild_id, deleted_at) "
            "VALUES ($1, $2, $3, 1, 'x', $4, $5, $6)",
            [
                (ids["first"], GENERAL, None, newest, GUILD, None),
                (ids["deleted"], GENERAL, None, newest, GUILD, now),
                (ids["newest"], GENERAL, None, newest, GUILD, None),
                (ids["thread_message"], GENERAL, THREAD, in_thread, GUILD, None),
            ],
        )
        await connection.executemany(
            "INSERT INTO capture_checkpoints (channel_id, guild_id, last_message_id) "
            "VALUES ($1, $2, $3)",
            [(GENERAL, GUILD, ids["newest"]), (THREAD, GUILD, ids["thread_message"])],
        )
        await connection.execute(
            """
            INSERT INTO unmapped_channels_seen
                (channel_id, guild_id, message_count, first_seen_at, last_seen_at)
            VALUES (1, $1, 5, now(), now()), (2, $1, 7, now(), now()), ($2, $1, 9, now(), now())
            """,
            GUILD,
            QUIET,  # counted before it was mapped: no longer unmapped
        )
    finally:
        await connection.close()
    return ids


@pytest.fixture
def seeded(cli_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    monkeypatch.setenv("COLUMNS", "250")
    asyncio.run(truncate_all(cli_env))
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    assert frames("org", "import", str(roster)).exit_code == 0
    return asyncio.run(seed(cli_env, dt.datetime.now(dt.UTC)))


def test_capture_status_json(seeded: dict[str, int]) -> None:
    result = frames("capture", "status", "--json")
    assert result.exit_code == 0, result.stderr
    status = json.loads(result.stdout)
    streams = status["streams"]
    lags = [s.pop("lag_seconds") for s in streams]
    assert lags[0] == pytest.approx(2 * 3600 + 30, abs=20)
    assert lags[1] == pytest.approx(3 * 86400 + 4 * 3600 + 600, abs=20)
    assert lags[2:] == [None, None]

    def at(name: str) -> str:
        return snowflake_time(seeded[name]).isoformat()

    assert streams == [
        {
            "stream_id": str(GENERAL),
            "kind": "channel",
            "parent_id": None,
            "guild_id": str(GUILD),
            "name": "general",
            "team_id": "t1",
            "program_id": None,
            "checkpoint": str(seeded["newest"]),
            "checkpoint_at": at("newest"),
            "lag": "2 h 0 min",
            "messages": 3,
            "deleted": 1,
        },
        {
            "stream_id": str(THREAD),
            "kind": "thread",
            "parent_id": str(GENERAL),
            "guild_id": str(GUILD),
            "name": "thermal",
            "team_id": "t1",
            "program_id": None,
            "checkpoint": str(seeded["thread_message"]),
            "checkpoint_at": at("thread_message"),
            "lag": "3 d 4 h",
            "messages": 1,
            "deleted": 0,
        },
        {
            "stream_id": str(QUIET),
            "kind": "channel",
            "parent_id": None,
            "guild_id": str(GUILD),
            "name": "quiet",
            "team_id": "t1",
            "program_id": None,
            "checkpoint": None,
            "checkpoint_at": None,
            "lag": None,
            "messages": 0,
            "deleted": 0,
        },
        {
            "stream_id": str(SHARED),
            "kind": "channel",
            "parent_id": None,
            "guild_id": str(GUILD),
            "name": None,
            "team_id": None,
            "program_id": "prog",
            "checkpoint": None,
            "checkpoint_at": None,
            "lag": None,
            "messages": 0,
            "deleted": 0,
        },
    ]
    assert status["unmapped"] == {"channels": 2, "messages": 12}


def test_capture_status_table(seeded: dict[str, int]) -> None:
    result = frames("capture", "status")
    assert result.exit_code == 0, result.stderr
    cells = table_cells(result.stdout)
    newest_at = snowflake_time(seeded["newest"]).strftime("%Y-%m-%d %H:%M:%S UTC")
    thread_at = snowflake_time(seeded["thread_message"]).strftime("%Y-%m-%d %H:%M:%S UTC")
    assert cells == [
        ["guild", "channel", "name", "team", "checkpoint", "checkpoint at", "lag", "messages",
         "deleted"],
        [str(GUILD), str(GENERAL), "general", "t1", str(seeded["newest"]), newest_at,
         "2 h 0 min", "3", "1"],
        [str(GUILD), f"└ {THREAD}", "thermal", "t1", str(seeded["thread_message"]), thread_at,
         "3 d 4 h", "1", "0"],
        [str(GUILD), str(QUIET), "quiet", "t1", "none yet", "", "", "0", "0"],
        [str(GUILD), str(SHARED), "", "program prog", "none yet", "", "", "0", "0"],
    ]  # fmt: skip
    assert result.stdout.splitlines()[-1] == (
        "Unmapped: 2 channels with 12 messages seen and not stored "
        "(`frames channels list --unmapped`)."
    )


def test_capture_status_with_nothing_mapped(cli_env: str) -> None:
    asyncio.run(truncate_all(cli_env))
    result = frames("capture", "status")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        "No channels are mapped, so nothing is captured; map some with `frames channels map`.",
        "Unmapped: no messages seen outside mapped channels.",
    ]
    assert json.loads(frames("capture", "status", "--json").stdout)["streams"] == []
