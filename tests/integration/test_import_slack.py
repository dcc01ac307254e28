"""`frames import slack` on a workspace export built here from Slack's documented structure."""

from __future__ import annotations

import asyncio
import json
import textwrap
import zipfile
from pathlib import Path

import pytest

from core.imports.slack import slack_message_id, slack_number
from tests.cli import frames
from tests.conftest import truncate_all
from tests.integration.test_import_discord import snapshot
from tests.sql import rows_now

ROSTER = textwrap.dedent(
    """\
    university_id,university_name,consent_mode,team_id,team_name,person_id,display_name,role,email,consent
    uni,Uni,opt-out,uni-eps,EPS,p-ana,Ana,student,ana@uni.edu,granted
    uni,,,uni-eps,,p-ben,Ben,student,ben@uni.edu,withdrawn
    """
)
USERS = [
    {
        "id": "U01ANA",
        "team_id": "T0TEAM",
        "name": "ana",
        "real_name": "Ana R",
        "profile": {"email": "Ana@uni.edu", "display_name": "ana"},
    },
    {
        "id": "U02BEN",
        "team_id": "T0TEAM",
        "name": "ben",
        "profile": {"email": "ben@uni.edu", "display_name": "Ben"},
    },
    {"id": "U03CAT", "team_id": "T0TEAM", "name": "cat", "profile": {"display_name": "Cat"}},
    {"id": "B01BOT", "team_id": "T0TEAM", "name": "github", "is_bot": True, "profile": {}},
]
CHANNELS = [{"id": "C01EPS", "name": "eps"}, {"id": "C02GEN", "name": "general"}]
EPS_DAY_1 = [
    {
        "type": "message",
        "subtype": "channel_join",
        "user": "U03CAT",
        "text": "<@U03CAT> has joined the channel",
        "ts": "1725000000.000100",
    },
    {
        "type": "message",
        "user": "U01ANA",
        "text": "how do I size the 3.3 V rail for the radio?",
        "ts": "1725000100.000200",
        "thread_ts": "1725000100.000200",
        "reply_count": 2,
    },
    {
        "type": "message",
        "user": "U03CAT",
        "text": "<@U01ANA> use the buck converter, see <https://docs.google.com/document/d/x|EPS doc>",
        "ts": "1725000200.000300",
        "thread_ts": "1725000100.000200",
        "parent_user_id": "U01ANA",
        "reactions": [{"name": "pray", "users": ["U01ANA"], "count": 1}],
    },
    {
        "type": "message",
        "user": "U01ANA",
        "text": "thanks <@U03CAT>!",
        "ts": "1725000300.000400",
        "thread_ts": "1725000100.000200",
        "parent_user_id": "U01ANA",
    },
]
EPS_DAY_2 = [
    {
        "type": "message",
        "user": "U02BEN",
        "text": "handing over the battery tests to <@U03CAT> before I graduate",
        "ts": "1725100000.000100",
        "edited": {"user": "U02BEN", "ts": "1725100050.000000"},
        "files": [{"name": "battery-tests.pdf", "size": 1200}],
    },
    {
        "type": "message",
        "subtype": "bot_message",
        "bot_id": "B01BOT",
        "username": "github",
        "text": "PR #12 merged",
        "ts": "1725100100.000200",
    },
]


def build_export(path: Path, *, broken_day: bool = False) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("users.json", json.dumps(USERS))
        archive.writestr("channels.json", json.dumps(CHANNELS))
        archive.writestr("eps/2024-08-30.json", json.dumps(EPS_DAY_1))
        archive.writestr("eps/2024-08-31.json", json.dumps(EPS_DAY_2))
        archive.writestr(
            "general/2024-08-30.json",
            json.dumps(
                [{"type": "message", "user": "U03CAT", "text": "hi all", "ts": "1725000050.000000"}]
            ),
        )
        if broken_day:
            archive.writestr("general/2024-09-01.json", "[{not json")
    return path


@pytest.fixture
def organisation(cli_env: str, tmp_path: Path) -> str:
    asyncio.run(truncate_all(cli_env))
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    assert frames("org", "import", str(roster)).exit_code == 0
    return cli_env


def test_slack_export_maps_to_the_same_records(organisation: str, tmp_path: Path) -> None:
    export = build_export(tmp_path / "export.zip", broken_day=True)
    eps = slack_number("C01EPS")
    workspace = slack_number("T0TEAM")
    assert frames("channels", "map", str(workspace), str(eps), "--team", "uni-eps").exit_code == 0

    result = frames("import", "slack", str(export), "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["messages_read"] == 7 and report["messages_written"] == 6
    assert report["unmapped_channels"] == {str(slack_number("C02GEN")): 1}
    assert report["channel_names"][str(slack_number("C02GEN"))] == "#general"
    assert list(report["bad_files"]) == ["general/2024-09-01.json"]

    root = slack_message_id("C01EPS", "1725000100.000200")
    answer = slack_message_id("C01EPS", "1725000200.000300")
    rows = rows_now(
        organisation,
        f"SELECT channel_id, thread_id, reference_id, message_type, content FROM discord_messages WHERE id = {answer}",
    )
    assert rows == [
        (
            eps,
            root,
            root,
            "answer",
            "@ana use the buck converter, see https://docs.google.com/document/d/x",
        )
    ]
    reply = rows_now(
        organisation,
        f"SELECT from_user_id, to_user_id FROM discord_interfaces WHERE interaction_type = 'reply' AND source_message_id = {answer}",
    )
    assert reply == [(slack_number("U03CAT"), slack_number("U01ANA"))]
    reaction = rows_now(
        organisation,
        "SELECT from_user_id, to_user_id FROM discord_interfaces WHERE interaction_type = 'reaction'",
    )
    assert reaction == [(slack_number("U01ANA"), slack_number("U03CAT"))]
    thanks = slack_message_id("C01EPS", "1725000300.000400")
    mentions = rows_now(
        organisation,
        f"SELECT to_user_id FROM discord_interfaces WHERE interaction_type = 'mention' AND source_message_id = {thanks}",
    )
    assert mentions == [(slack_number("U03CAT"),)]
    handoff = slack_message_id("C01EPS", "1725100000.000100")
    # Ben withdrew: opt-out university keeps metadata, not content.
    assert rows_now(
        organisation,
        f"SELECT message_type, content, edited_at IS NOT NULL FROM discord_messages WHERE id = {handoff}",
    ) == [("handoff", None, True)]
    bot = rows_now(
        organisation, "SELECT is_bot FROM discord_messages WHERE content = 'PR #12 merged'"
    )
    assert bot == [(True,)]

    linked = rows_now(
        organisation,
        "SELECT username, person_id, link_source FROM identities WHERE provider = 'slack' ORDER BY username",
    )
    assert ("ana", "p-ana", "email-match") in linked and ("cat", None, None) in linked
    people = rows_now(
        organisation,
        "SELECT DISTINCT from_person_id FROM interfaces WHERE from_person_id IS NOT NULL",
    )
    assert ("p-ana",) in people

    before = snapshot(organisation)
    again = json.loads(frames("import", "slack", str(export), "--json").stdout)
    assert again["messages_written"] == 0 and again["interfaces_written"] == 0
    assert snapshot(organisation) == before


def test_bad_slack_exports_are_refused_clearly(organisation: str, tmp_path: Path) -> None:
    not_zip = tmp_path / "x.zip"
    not_zip.write_text("hello")
    result = frames("import", "slack", str(not_zip))
    assert result.exit_code == 1 and "not a Slack export zip" in result.stderr
    incomplete = tmp_path / "incomplete.zip"
    with zipfile.ZipFile(incomplete, "w") as archive:
        archive.writestr("users.json", "[]")
    result = frames("import", "slack", str(incomplete))
    assert result.exit_code == 1 and "channels.json is missing from the export" in result.stderr
