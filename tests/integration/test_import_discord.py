"""`frames import discord` on real PostgreSQL: the example export, broken files, idempotency."""

from __future__ import annotations

import asyncio
import json
import textwrap
from pathlib import Path

import pytest

from tests.cli import frames
from tests.conftest import shared_data, truncate_all
from tests.sql import rows_now

GUILD = "748545324524575035"
GENERAL = "1012224565567721552"
THREAD = "1060927310439657577"
ROSTER = textwrap.dedent(
    """\
    university_id,university_name,consent_mode,team_id,team_name,person_id,display_name,role,discord_user_id,consent
    demo,Demo University,opt-in,demo-team,Demo team,p-adam,Adam,student,521486476985155645,granted
    demo,,,demo-team,,p-thomas,Thomas,student,896568767994532880,granted
    demo,,,demo-team,,p-patrick,Patrick,student,627848643557663699,
    """
)


def snapshot(url: str) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every captured table, for a database diff."""
    tables = (
        "discord_messages",
        "discord_interfaces",
        "discord_reactions",
        "discord_channels",
        "capture_checkpoints",
        "identities",
        "channel_mappings",
    )
    return {t: sorted(map(repr, rows_now(url, f"SELECT * FROM {t}"))) for t in tables}  # type: ignore[misc]


@pytest.fixture
def example(cli_env: str, tmp_path: Path) -> Path:
    asyncio.run(truncate_all(cli_env))
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    assert frames("org", "import", str(roster)).exit_code == 0
    assert frames("channels", "map", GUILD, GENERAL, "--team", "demo-team").exit_code == 0
    return shared_data("discord-dce-example-guild")


def test_example_export_with_its_thread(example: Path, cli_env: str) -> None:
    result = frames("import", "discord", str(example), "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert (
        report["files"] == 2 and report["messages_read"] == 40 and report["messages_written"] == 40
    )
    assert report["unmapped_channels"] == {} and report["truncated_files"] == {}

    rows = rows_now(
        cli_env, "SELECT count(*), count(thread_id), count(content) FROM discord_messages"
    )
    # Opt-in university: content is kept only for people who consented. Patrick gave no
    # consent and one author is not on the roster, so their messages keep metadata only.
    withheld = rows_now(
        cli_env,
        "SELECT count(*) FROM discord_messages WHERE author_id NOT IN "
        "(521486476985155645, 896568767994532880)",
    )[0][0]
    assert withheld > 0 and report["content_withheld"] == withheld
    assert rows == [(40, 5, 40 - withheld)]
    thread = rows_now(
        cli_env,
        f"SELECT DISTINCT channel_id, thread_id, team_id FROM discord_messages WHERE thread_id = {THREAD}",
    )
    assert thread == [(int(GENERAL), int(THREAD), "demo-team")]
    assert rows_now(
        cli_env, f"SELECT parent_id, kind FROM discord_channels WHERE id = {THREAD}"
    ) == [(int(GENERAL), "thread")]

    reply = rows_now(
        cli_env,
        "SELECT from_user_id, to_user_id, message_ids FROM discord_interfaces "
        "WHERE interaction_type = 'reply' AND source_message_id = 1060926346089476176",
    )
    assert reply == [
        (521486476985155645, 896568767994532880, [1060926346089476176, 1060926317920538735])
    ]
    mention = rows_now(
        cli_env, "SELECT to_user_id FROM discord_interfaces WHERE interaction_type = 'mention'"
    )
    assert (896568767994532880,) in mention
    types = dict(
        rows_now(cli_env, "SELECT message_type, count(*) FROM discord_messages GROUP BY 1")
    )
    assert types["question"] >= 3 and types["other"] >= 4
    searched = rows_now(
        cli_env,
        "SELECT id FROM discord_messages WHERE search_vector @@ plainto_tsquery('english', 'book scanner')",
    )
    assert searched == [(1060927205481402388,)]
    checkpoint = rows_now(
        cli_env, f"SELECT last_message_id FROM capture_checkpoints WHERE channel_id = {GENERAL}"
    )
    assert checkpoint == [(1060928127137747099,)]


def test_reimport_changes_nothing(example: Path, cli_env: str) -> None:
    assert frames("import", "discord", str(example)).exit_code == 0
    before = snapshot(cli_env)
    again = frames("import", "discord", str(example), "--json")
    assert again.exit_code == 0
    report = json.loads(again.stdout)
    assert report["messages_written"] == 0 and report["interfaces_written"] == 0
    assert snapshot(cli_env) == before


def test_unmapped_channels_are_reported_and_can_be_mapped(cli_env: str, tmp_path: Path) -> None:
    asyncio.run(truncate_all(cli_env))
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    assert frames("org", "import", str(roster)).exit_code == 0
    example = shared_data("discord-dce-example-guild")
    result = frames("import", "discord", str(example), "--json")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["unmapped_channels"] == {GENERAL: 40}
    assert report["skipped"] == {"unmapped channel": 40}
    assert rows_now(cli_env, "SELECT count(*) FROM discord_messages") == [(0,)]

    dry = json.loads(
        frames(
            "import", "discord", str(example), "--map-unmapped", "demo-team", "--dry-run", "--json"
        ).stdout
    )
    assert dry["newly_mapped"] == [GENERAL] and dry["messages_written"] == 40
    assert rows_now(cli_env, "SELECT count(*) FROM discord_messages") == [(0,)]
    assert rows_now(cli_env, "SELECT count(*) FROM channel_mappings") == [(0,)]

    mapped = json.loads(
        frames("import", "discord", str(example), "--map-unmapped", "demo-team", "--json").stdout
    )
    assert mapped["messages_written"] == 40
    assert rows_now(cli_env, "SELECT team_id FROM channel_mappings") == [("demo-team",)]


def test_truncated_file_and_wrong_count(example: Path, cli_env: str, tmp_path: Path) -> None:
    source = example / "Example guild - Text Channels - general [1012224565567721552].json"
    data = source.read_bytes()
    cut = tmp_path / "cut.json"
    cut.write_bytes(data[: data.index(b"1060927205481402388") + 30])
    result = frames("import", "discord", str(cut), "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["truncated_files"] == {"cut.json": "after message 21 (the file is cut off)"}
    assert report["messages_written"] == 21

    wrong = tmp_path / "wrong.json"
    document = json.loads(data)
    document["messageCount"] = 99
    wrong.write_text(json.dumps(document), encoding="utf-8")
    result = frames("import", "discord", str(wrong), "--json")
    report = json.loads(result.stdout)
    assert report["count_mismatches"] == {"wrong.json": [99, 35]}
    assert report["messages_written"] == 14  # the 21 before the cut are already stored
    text = frames("import", "discord", str(wrong))
    assert "messageCount says 99, the file holds 35" in text.stdout


def test_missing_path_and_empty_directory(cli_env: str, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    result = frames("import", "discord", str(empty))
    assert result.exit_code == 1 and "no .json export files found" in result.stderr
    assert frames("import", "discord", str(tmp_path / "nope")).exit_code == 2


def test_dm_export_keeps_consenting_authors_and_derives_dm_interfaces(
    example: Path, cli_env: str, tmp_path: Path
) -> None:
    """A DM conversation exported by DCE: DM interfaces between its authors, and only the
    messages of people who consented (Patrick and the unknown author did not)."""
    source = example / "Example guild - Text Channels - general [1012224565567721552].json"
    document = json.loads(source.read_bytes())
    document["guild"] = {"id": "0", "name": "Direct Messages"}
    document["channel"] = {"id": "4242", "type": "DirectGroupTextChat", "name": "group"}
    dm_file = tmp_path / "dm.json"
    dm_file.write_text(json.dumps(document), encoding="utf-8")

    result = frames("import", "discord", str(dm_file), "--map-unmapped", "demo-team", "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["skipped"]["DM without consent"] == 7
    assert report["messages_written"] == 28
    assert rows_now(cli_env, "SELECT bool_and(is_dm), count(*) FROM discord_messages") == [
        (True, 28)
    ]
    pairs = rows_now(
        cli_env,
        "SELECT DISTINCT from_user_id::text, to_user_id::text FROM discord_interfaces "
        "WHERE interaction_type = 'dm' ORDER BY 1, 2",
    )
    # Each consenting author reaches everyone who wrote in the conversation before them.
    assert ("521486476985155645", "896568767994532880") in pairs
    assert ("896568767994532880", "521486476985155645") in pairs
    assert {p[0] for p in pairs} == {"521486476985155645", "896568767994532880"}
