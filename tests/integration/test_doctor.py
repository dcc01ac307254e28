"""`frames doctor` against real PostgreSQL and the Discord test server (on its own event loop
in a thread, since the CLI runs its own): every check, passing and failing, with its fix."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from typing import Any

import asyncpg
import pytest

from tests.cli import frames
from tests.conftest import create_test_database, truncate_all
from tests.fakes.discord_server import DiscordTestServer
from tests.fakes.threaded import ServerThread

GUILD, CHANNEL = 500000000000000001, 500000000000000002
OTHER_GUILD, OTHER_CHANNEL = 500000000000000003, 500000000000000004
GONE_CHANNEL = 500000000000000005
PORTAL = "the Developer Portal (https://discord.com/developers/applications) → your app → Bot"


@pytest.fixture
def discord(monkeypatch: pytest.MonkeyPatch) -> Iterator[DiscordTestServer]:
    server = DiscordTestServer(token="doctor-secret-token")
    with ServerThread(server, server.start, server.stop):
        monkeypatch.setenv("DISCORD_TOKEN", server.token)
        monkeypatch.setenv("DISCORD_API_BASE", server.api_base)
        monkeypatch.delenv("DISCORD_GATEWAY_URL", raising=False)
        yield server


async def execute(url: str, *statements: tuple[str, list[Any]]) -> None:
    connection = await asyncpg.connect(url)
    try:
        for sql, rows in statements:
            await connection.executemany(sql, rows)
    finally:
        await connection.close()


@pytest.fixture
def healthy(cli_env: str) -> str:
    """An organisation with one channel mapped in a guild the bot has recorded."""
    asyncio.run(truncate_all(cli_env))
    asyncio.run(
        execute(
            cli_env,
            ("INSERT INTO universities (id, name) VALUES ($1, $2)", [("uni", "Uni")]),
            (
                "INSERT INTO teams (id, name, university_id) VALUES ($1, $2, $3)",
                [("t1", "Team one", "uni")],
            ),
            (
                "INSERT INTO discord_channels (id, guild_id, kind, name) VALUES ($1, $2, 'text', $3)",
                [(CHANNEL, GUILD, "general")],
            ),
            (
                "INSERT INTO channel_mappings (guild_id, channel_id, team_id, university_id) "
                "VALUES ($1, $2, 't1', 'uni')",
                [(GUILD, CHANNEL)],
            ),
        )
    )
    return cli_env


def lines(output: str) -> list[str]:
    return output.splitlines()


def test_all_checks_pass(healthy: str, discord: DiscordTestServer) -> None:
    result = frames("doctor")
    assert result.exit_code == 0, result.stdout + result.stderr
    out = lines(result.stdout)
    assert out[0].startswith("✓ database: PostgreSQL ")
    assert out[1:] == [
        "✓ migrations: at head (" + out[1].split("(", 1)[1],
        "✓ pgvector: extension vector " + out[2].split("vector ", 1)[1],
        "✓ channel mappings: 1 channels mapped in 1 guilds (1 teams)",
        "✓ DISCORD_TOKEN: set",
        f"✓ Discord token: accepted: bot frames-bot ({discord.application_id})",
        "✓ message content intent: enabled",
        "✓ server members intent: enabled",
        "All 8 checks passed.",
    ]
    assert discord.token not in result.stdout + result.stderr
    asked = [(r.method, r.path) for r in discord.requests]
    assert asked == [("GET", "/api/v10/users/@me"), ("GET", "/api/v10/applications/@me")]


def test_missing_token_and_no_mappings(cli_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    asyncio.run(truncate_all(cli_env))
    monkeypatch.setenv("DISCORD_TOKEN", "")  # set but empty counts as not set (and beats .env)
    result = frames("doctor")
    assert result.exit_code == 1
    assert lines(result.stdout)[3:] == [
        "✗ channel mappings: no channels are mapped, so the bot captures nothing",
        "    fix: map channels: `frames channels map GUILD_ID CHANNEL_ID --team TEAM_ID`, a "
        "category with `--category CATEGORY_ID`, or `frames channels import FILE`",
        "✗ DISCORD_TOKEN: not set",
        f"    fix: copy the bot token from {PORTAL} → Reset Token, and set DISCORD_TOKEN",
        "2 of 5 checks failed.",
    ]


def test_rejected_token_is_reported_and_never_printed(
    healthy: str, discord: DiscordTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "a-wrong-token")
    result = frames("doctor")
    assert result.exit_code == 1
    assert lines(result.stdout)[4:] == [
        "✓ DISCORD_TOKEN: set",
        "✗ Discord token: Discord refused the token (401 Unauthorized)",
        f"    fix: reset the token in {PORTAL} and update DISCORD_TOKEN",
        "1 of 6 checks failed.",
    ]
    assert "a-wrong-token" not in result.stdout + result.stderr


def test_privileged_intents_switched_off(healthy: str, discord: DiscordTestServer) -> None:
    discord.application_flags = 0
    result = frames("doctor")
    assert result.exit_code == 1
    assert lines(result.stdout)[-5:] == [
        "✗ message content intent: not enabled (without it messages arrive with empty content)",
        f"    fix: switch on MESSAGE CONTENT INTENT in {PORTAL}",
        "✗ server members intent: not enabled (without it joins, leaves and role changes are "
        "not seen)",
        f"    fix: switch on SERVER MEMBERS INTENT in {PORTAL}",
        "2 of 8 checks failed.",
    ]
    # The verified bits count as well as the _LIMITED ones.
    discord.application_flags = (1 << 18) | (1 << 14)
    assert frames("doctor").exit_code == 0


def test_stale_mappings(healthy: str, discord: DiscordTestServer) -> None:
    asyncio.run(
        execute(
            healthy,
            (
                "INSERT INTO teams (id, name, university_id) VALUES ($1, $2, $3)",
                [("t2", "Team two", "uni")],
            ),
            ("INSERT INTO universities (id, name) VALUES ($1, $2)", [("other", "Other")]),
            (
                "INSERT INTO channel_mappings (guild_id, channel_id, team_id, university_id) "
                "VALUES ($1, $2, $3, $4)",
                [
                    (OTHER_GUILD, OTHER_CHANNEL, "t1", "uni"),
                    (GUILD, GONE_CHANNEL, "t2", "uni"),
                ],
            ),
            # Team two moved to another university after its channel was mapped.
            ("UPDATE teams SET university_id = $1 WHERE id = 't2'", [("other",)]),
        )
    )
    result = frames("doctor")
    assert result.exit_code == 1
    assert lines(result.stdout)[3:10] == [
        "✓ channel mappings: 3 channels mapped in 2 guilds (2 teams)",
        f"✗ mapped teams: 1 mappings are stale ({GONE_CHANNEL}: team's university changed "
        "since mapping)",
        "    fix: map them again with `frames channels map` (or `frames channels unmap`)",
        f"✗ mapped guilds: the bot has not seen guild {OTHER_GUILD}",
        "    fix: invite the bot (`frames bot invite-url`) and run `frames bot`",
        f"✗ mapped channels: not among the channels the bot sees in their guild: {GONE_CHANNEL}",
        "    fix: check the channel still exists and the bot may view it and read its history, "
        "or `frames channels unmap CHANNEL_ID`",
    ]
    assert lines(result.stdout)[-1] == "3 of 11 checks failed."


def test_unreachable_discord_and_database(cli_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("DISCORD_TOKEN", "some-token")
    monkeypatch.setenv("DISCORD_API_BASE", f"http://127.0.0.1:{port}/api/v10")
    monkeypatch.setenv("DATABASE_URL", f"postgresql://nobody@127.0.0.1:{port}/frames")
    result = frames("doctor")
    assert result.exit_code == 1
    out = lines(result.stdout)
    assert out[0].startswith(
        f"✗ database: cannot connect to PostgreSQL at postgresql+asyncpg://nobody@127.0.0.1:{port}"
        "/frames: "
    )
    assert out[1:] == [
        "    fix: set DATABASE_URL to a reachable PostgreSQL with pgvector (or unset it to use "
        "the embedded one)",
        "✓ DISCORD_TOKEN: set",
        f"✗ Discord token: cannot reach Discord at http://127.0.0.1:{port}/api/v10: ConnectError "
        "All connection attempts failed",
        "    fix: check the network (or DISCORD_API_BASE)",
        "2 of 3 checks failed.",
    ]
    assert "some-token" not in result.stdout + result.stderr


def test_database_without_migrations(
    postgres_url: str, discord: DiscordTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = asyncio.run(create_test_database(postgres_url, "template0"))
    monkeypatch.setenv("DATABASE_URL", url)
    result = frames("doctor")
    assert result.exit_code == 1
    out = lines(result.stdout)
    assert out[0].startswith("✓ database: PostgreSQL ")
    assert out[1].startswith("✗ migrations: the schema is at no revision, FRAMES needs ")
    assert out[2:6] == [
        "    fix: run `frames db upgrade`",
        "✗ pgvector: the server offers pgvector but this database has not created it",
        "    fix: run `frames db upgrade` (it creates the extension)",
        "✓ DISCORD_TOKEN: set",
    ]
    assert out[-1] == "2 of 7 checks failed."
