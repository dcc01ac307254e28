"""`frames consent mode` and `frames consent import` on real PostgreSQL, and consent applied
at the door by the live pipeline for what is captured after a withdrawal."""

from __future__ import annotations

import asyncio
import datetime as dt
import textwrap
from pathlib import Path

import pytest

from core.capture.pipeline import CapturePipeline
from core.capture.records import MessageRecord
from core.db.engine import Database
from tests.cli import frames
from tests.conftest import truncate_all
from tests.sql import rows, rows_now

ADA_DISCORD, BOB_DISCORD = 700000000000000001, 700000000000000002
GUILD, CHANNEL = 710000000000000001, 710000000000000002
ROSTER = textwrap.dedent(
    f"""\
    university_id,consent_mode,person_id,display_name,role,team_id,email,discord_user_id,consent
    uni,opt-in,p-ada,Ada,student,t1,ada@uni.edu,{ADA_DISCORD},
    uni,,p-bob,Bob,student,t1,bob@uni.edu,{BOB_DISCORD},granted
    uni,,p-cyd,Cyd,student,t1,cyd@uni.edu,,
    other,metadata-only,p-dan,Dan,student,t2,,,
    """
)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture
def org(cli_env: str, tmp_path: Path) -> str:
    asyncio.run(truncate_all(cli_env))
    assert frames("org", "import", str(write(tmp_path, "roster.csv", ROSTER))).exit_code == 0
    return cli_env


CONSENTS_SQL = (
    "SELECT person_id, university_id, scope, status, source, recorded_at FROM consents "
    "WHERE source = 'import' ORDER BY person_id, recorded_at"
)


def test_consent_mode_is_set_and_audited(org: str) -> None:
    result = frames("consent", "mode", "uni", "opt-out")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.strip() == (
        "University uni: consent mode opt-in → opt-out (applies to what is captured from now on)."
    )
    assert rows_now(org, "SELECT id, consent_mode FROM universities ORDER BY id") == [
        ("other", "metadata-only"),
        ("uni", "opt-out"),
    ]
    same = frames("consent", "mode", "uni", "opt-out")
    assert same.stdout.strip() == "University uni: consent mode is already opt-out."
    assert frames("consent", "mode", "other", "opt-in").exit_code == 0
    audit = rows_now(
        org,
        "SELECT target_id, university_id, details->>'from', details->>'to' FROM audit_logs "
        "WHERE action = 'consent.mode' ORDER BY id",
    )
    assert audit == [
        ("uni", "uni", "opt-in", "opt-out"),
        ("uni", "uni", "opt-out", "opt-out"),
        ("other", "other", "metadata-only", "opt-in"),
    ]


def test_consent_mode_refuses_unknown_university_and_mode(org: str) -> None:
    unknown = frames("consent", "mode", "mars", "opt-in")
    assert unknown.exit_code == 1
    assert unknown.stderr.strip() == (
        "frames: error: unknown university 'mars'; see `frames org show` for the known ids"
    )
    bad = frames("consent", "mode", "uni", "sometimes")
    assert bad.exit_code == 1
    assert bad.stderr.strip() == (
        "frames: error: MODE 'sometimes' is not one of opt-in, opt-out, metadata-only"
    )
    assert rows_now(org, "SELECT consent_mode FROM universities WHERE id = 'uni'") == [("opt-in",)]
    assert rows_now(org, "SELECT count(*) FROM audit_logs WHERE action = 'consent.mode'") == [(0,)]


def test_consent_import_is_validated_recorded_and_idempotent(org: str, tmp_path: Path) -> None:
    file = write(
        tmp_path,
        "consent.csv",
        f"""\
        person_id,discord_user_id,email,status,recorded_at,scope
        p-ada,,,granted,2026-01-10,
        ,{ADA_DISCORD},,withdrawn,2026-02-01T09:30:00+01:00,
        ,,CYD@uni.edu,granted,2026-01-15T12:00:00Z,research
        p-cyd,,cyd@uni.edu,granted,2026-01-15T12:00:00Z,
        p-dan,,,granted,2026-01-20,publication
        """,
    )
    result = frames("consent", "import", str(file))
    assert result.exit_code == 0, result.stderr
    # Cyd's decision is given twice (by email, then by id and email): recorded once.
    assert result.stdout.strip() == (
        "Recorded 4 consent decisions from consent.csv (1 rows added nothing new)."
    )
    at = dt.datetime
    assert rows_now(org, CONSENTS_SQL) == [
        ("p-ada", "uni", "research", "granted", "import", at(2026, 1, 10, tzinfo=dt.UTC)),
        ("p-ada", "uni", "research", "withdrawn", "import", at(2026, 2, 1, 8, 30, tzinfo=dt.UTC)),
        ("p-cyd", "uni", "research", "granted", "import", at(2026, 1, 15, 12, tzinfo=dt.UTC)),
        ("p-dan", "other", "publication", "granted", "import", at(2026, 1, 20, tzinfo=dt.UTC)),
    ]
    again = frames("consent", "import", str(file))
    assert again.exit_code == 0, again.stderr
    assert again.stdout.strip() == (
        "Recorded 0 consent decisions from consent.csv (5 rows added nothing new)."
    )
    assert len(rows_now(org, CONSENTS_SQL)) == 4
    audit = rows_now(
        org,
        "SELECT target_id, details->>'rows', details->>'recorded' FROM audit_logs "
        "WHERE action = 'consent.import' ORDER BY id",
    )
    assert audit == [("consent.csv", "5", "4"), ("consent.csv", "5", "0")]


def test_undated_decisions_change_the_current_state_once(org: str, tmp_path: Path) -> None:
    """Like the roster's consent column: "as of now", recorded only when it changes the
    person's current state (Bob is granted by the roster already)."""
    file = write(
        tmp_path,
        "now.csv",
        """\
        email,status
        bob@uni.edu,granted
        ada@uni.edu,withdrawn
        ada@uni.edu,withdrawn
        """,
    )
    first = frames("consent", "import", str(file))
    assert first.exit_code == 0, first.stderr
    assert first.stdout.strip() == (
        "Recorded 1 consent decisions from now.csv (2 rows added nothing new)."
    )
    assert [(p, s) for p, _, _, s, _, _ in rows_now(org, CONSENTS_SQL)] == [("p-ada", "withdrawn")]
    second = frames("consent", "import", str(file))
    assert second.stdout.startswith("Recorded 0 consent decisions")


def test_bad_consent_rows_are_all_reported_with_lines(org: str, tmp_path: Path) -> None:
    file = write(
        tmp_path,
        "bad.csv",
        f"""\
        person_id,discord_user_id,email,status,recorded_at,scope
        p-ada,,,granted,,
        p-ghost,,,granted,,
        ,123,,granted,,
        p-bob,,,maybe,,
        ,,,granted,,
        p-cyd,,,withdrawn,2026-13-01,
        p-cyd,,,withdrawn,2999-01-01,
        p-ada,{BOB_DISCORD},,granted,,
        ,,nobody@uni.edu,granted,,
        p-cyd,,,granted,,Research Use
        p-dan,,,granted,2026-01-01,
        p-dan,,,withdrawn,2026-01-01,
        """,
    )
    result = frames("consent", "import", str(file))
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "bad.csv, line 3, column 'person_id': no person 'p-ghost' (import the roster first)",
        "bad.csv, line 4, column 'discord_user_id': Discord account 123 is not linked to a "
        "person (give it in the roster's discord_user_id column)",
        "bad.csv, line 5, column 'status': 'maybe' is not one of granted, withdrawn",
        "bad.csv, line 6: name the person: person_id, discord_user_id or email",
        "bad.csv, line 7, column 'recorded_at': '2026-13-01' is not a date or date-time "
        "(e.g. 2026-03-01T14:30Z)",
        "bad.csv, line 8, column 'recorded_at': '2999-01-01' is in the future",
        "bad.csv, line 9: the columns name different people "
        "(person_id → 'p-ada', discord_user_id → 'p-bob')",
        "bad.csv, line 10, column 'email': no person has the email 'nobody@uni.edu'",
        "bad.csv, line 11, column 'scope': 'research use' is not a scope "
        "(lower-case letters, digits, -, _)",
        "bad.csv, line 13, column 'status': 'p-dan' is granted on line 12 and withdrawn here, "
        "both as of 2026-01-01T00:00:00+00:00",
        "frames: error: 10 problems in bad.csv; nothing was imported",
    ]
    assert rows_now(org, CONSENTS_SQL) == []
    assert rows_now(org, "SELECT count(*) FROM audit_logs WHERE action = 'consent.import'") == [
        (0,)
    ]

    header = write(tmp_path, "header.csv", "person,status\np-ada,granted\n")
    wrong = frames("consent", "import", str(header))
    assert wrong.exit_code == 1
    assert wrong.stderr.splitlines()[0] == (
        "header.csv, line 1, column 'person': unknown column; expected status, person_id, "
        "discord_user_id, email, recorded_at, scope"
    )


async def test_withdrawal_applies_to_what_is_captured_after_it(
    org: str, db: Database, tmp_path: Path
) -> None:
    """Ada consents, says something (kept), withdraws, says something else (metadata only);
    what was stored before the withdrawal stays as it was."""
    assert (
        await asyncio.to_thread(frames, "channels", "map", str(GUILD), str(CHANNEL), "--team", "t1")
    ).exit_code == 0
    granted = write(
        tmp_path, "granted.csv", "person_id,status,recorded_at\np-ada,granted,2026-01-10\n"
    )
    withdrawn = write(tmp_path, "withdrawn.csv", "person_id,status\np-ada,withdrawn\n")
    assert (await asyncio.to_thread(frames, "consent", "import", str(granted))).exit_code == 0
    now = dt.datetime.now(dt.UTC)

    def said(message_id: int, content: str) -> MessageRecord:
        return MessageRecord(
            id=message_id,
            channel_id=CHANNEL,
            author_id=ADA_DISCORD,
            timestamp=now + dt.timedelta(seconds=message_id),
            content=content,
            guild_id=GUILD,
            author_name="ada",
        )

    pipeline = CapturePipeline(db, flush_seconds=0.01, context_ttl=0.0)
    pipeline.start()
    try:
        await pipeline.put(said(1, "before the withdrawal"))
        await pipeline.wait_idle()
        result = await asyncio.to_thread(frames, "consent", "import", str(withdrawn))
        assert result.exit_code == 0, result.stderr
        await pipeline.put(said(2, "after the withdrawal"))
        await pipeline.wait_idle()
    finally:
        await pipeline.stop()
    assert await rows(org, "SELECT id, content FROM discord_messages ORDER BY id") == [
        (1, "before the withdrawal"),
        (2, None),
    ]
