"""Roster, terms, channel mappings and outcomes on real PostgreSQL, through the CLI and core."""

from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path

import asyncpg
import pytest

from core.db.engine import Database
from core.db.repositories.consents import ConsentRepository
from core.db.repositories.organisation import OrganisationRepository
from core.org.roster import parse_roster
from core.org.service import import_roster
from tests.cli import frames
from tests.conftest import truncate_all

ROSTER = textwrap.dedent(
    """\
    university_id,university_name,time_zone,consent_mode,program_id,program_name,project_id,project_name,team_id,team_name,discipline,person_id,display_name,role,email,graduation_term,joined_on,discord_user_id,discord_username,github_login,consent
    cpp,Cal Poly Pomona,America/Los_Angeles,opt-in,proves,PROVES,cpp-sat,Bronco Sat,cpp-adcs,ADCS,aerospace,cpp-s001,Ana Ruiz,student,ana@cpp.edu,2027-spring,2024-09-01,100000000000000001,ana,anar,granted
    cpp,,,,proves,,cpp-sat,,cpp-adcs,,aerospace,cpp-s002,José Núñez,student,jose@cpp.edu,2026-fall,2023-09-01,100000000000000002,jose,,withdrawn
    cpp,,,,proves,,cpp-sat,,cpp-eps,EPS,electrical,cpp-f01,Dr. Lee,faculty,lee@cpp.edu,,,100000000000000003,drlee,,
    uci,UC Irvine,America/Los_Angeles,opt-out,proves,,uci-sat,Anteater Sat,uci-comms,Comms,electrical,uci-s001,Zoë Park,student,zoe@uci.edu,2028-spring,,,zoe,zoep,granted
    """
)
TERMS = textwrap.dedent(
    """\
    university_id,term,starts_on,ends_on
    cpp,2026-fall,2026-08-24,2026-12-12
    cpp,2027-spring,2027-01-19,2027-05-15
    uci,2028-spring,2028-03-28,2028-06-10
    """
)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


async def table_counts(url: str) -> dict[str, int]:
    connection = await asyncpg.connect(url)
    try:
        tables = [
            r[0]
            for r in await connection.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname='public' AND tablename <> 'alembic_version'"
            )
        ]
        return {t: await connection.fetchval(f'SELECT count(*) FROM "{t}"') for t in tables}
    finally:
        await connection.close()


async def dump(url: str, query: str) -> list[tuple[object, ...]]:
    connection = await asyncpg.connect(url)
    try:
        return [tuple(r) for r in await connection.fetch(query)]
    finally:
        await connection.close()


@pytest.fixture
def clean(cli_env: str) -> str:
    """Each CLI test starts from an empty (migrated) database."""
    asyncio.run(truncate_all(cli_env))
    return cli_env


def test_roster_import_creates_organisation_and_is_idempotent(clean: str, tmp_path: Path) -> None:
    roster, terms = write(tmp_path, "roster.csv", ROSTER), write(tmp_path, "terms.csv", TERMS)
    result = frames("org", "import", str(roster), "--terms", str(terms))
    assert result.exit_code == 0, result.stderr
    assert "4 people in 3 teams" in result.stdout

    people = asyncio.run(
        dump(
            clean,
            "SELECT id, university_id, role, lifecycle, graduation_term FROM people ORDER BY id",
        )
    )
    assert people == [
        ("cpp-f01", "cpp", "faculty", None, None),
        ("cpp-s001", "cpp", "student", None, "2027-spring"),
        ("cpp-s002", "cpp", "student", None, "2026-fall"),
        ("uci-s001", "uci", "student", None, "2028-spring"),
    ]
    universities = asyncio.run(
        dump(clean, "SELECT id, name, time_zone, consent_mode FROM universities ORDER BY id")
    )
    assert universities == [
        ("cpp", "Cal Poly Pomona", "America/Los_Angeles", "opt-in"),
        ("uci", "UC Irvine", "America/Los_Angeles", "opt-out"),
    ]
    identities = asyncio.run(
        dump(
            clean,
            "SELECT provider, external_id, person_id FROM identities ORDER BY provider, external_id",
        )
    )
    assert ("discord", "100000000000000001", "cpp-s001") in identities
    assert ("discord-name", "zoe", "uci-s001") in identities
    assert ("github", "anar", "cpp-s001") in identities
    memberships = asyncio.run(
        dump(clean, "SELECT team_id, person_id, role FROM team_memberships ORDER BY person_id")
    )
    assert ("cpp-eps", "cpp-f01", "advisor") in memberships
    consents = asyncio.run(dump(clean, "SELECT person_id, status FROM consents ORDER BY person_id"))
    assert consents == [("cpp-s001", "granted"), ("cpp-s002", "withdrawn"), ("uci-s001", "granted")]

    before = asyncio.run(table_counts(clean))
    assert frames("org", "import", str(roster), "--terms", str(terms)).exit_code == 0
    after = asyncio.run(table_counts(clean))
    assert {t: n for t, n in after.items() if t != "audit_logs"} == {
        t: n for t, n in before.items() if t != "audit_logs"
    }
    assert after["audit_logs"] == before["audit_logs"] + 1

    shown = frames("org", "show")
    assert shown.exit_code == 0 and "cpp-adcs" in shown.stdout and "UC Irvine" in shown.stdout


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            lambda text: text.replace("cpp-s002", "cpp-s001"),
            "line 3, column 'person_id': duplicate id 'cpp-s001' (first on line 2)",
        ),
        (
            lambda text: text.replace(",display_name,", ",name,", 1),
            "line 1, column 'display_name': the column is missing",
        ),
        (
            lambda text: text.replace("2024-09-01", "2024-13-01"),
            "line 2, column 'joined_on': '2024-13-01' is not a date",
        ),
        (
            lambda text: text.replace("America/Los_Angeles,opt-out", "Mars/Olympus,opt-out"),
            "line 5, column 'time_zone'",
        ),
        (
            lambda text: text.replace(",faculty,", ",wizard,"),
            "line 4, column 'role': 'wizard' is not one of",
        ),
    ],
    ids=["duplicate-id", "missing-column", "bad-date", "bad-time-zone", "bad-role"],
)
def test_bad_roster_is_refused_with_line_and_column_and_nothing_written(
    clean: str, tmp_path: Path, edit: object, expected: str
) -> None:
    assert callable(edit)
    roster = write(tmp_path, "roster.csv", edit(ROSTER))
    before = asyncio.run(table_counts(clean))
    result = frames("org", "import", str(roster))
    assert result.exit_code == 1
    assert expected in result.stderr
    assert result.stderr.count("\n") == 1  # one readable line, no traceback
    assert asyncio.run(table_counts(clean)) == before


def test_channel_mapping_to_unknown_team_is_refused(clean: str, tmp_path: Path) -> None:
    assert frames("org", "import", str(write(tmp_path, "roster.csv", ROSTER))).exit_code == 0
    result = frames(
        "channels", "map", "748545324524575035", "1012224565567721552", "--team", "nope"
    )
    assert result.exit_code == 1
    assert "unknown team 'nope'" in result.stderr

    ok = frames(
        "channels", "map", "748545324524575035", "1012224565567721552", "--team", "cpp-adcs"
    )
    assert ok.exit_code == 0, ok.stderr
    program = frames(
        "channels", "map", "900000000000000001", "900000000000000002", "--program", "proves"
    )
    assert program.exit_code == 0, program.stderr
    rows = asyncio.run(
        dump(
            clean,
            "SELECT guild_id, channel_id, team_id, program_id, university_id FROM channel_mappings ORDER BY channel_id",
        )
    )
    assert rows == [
        (900000000000000001, 900000000000000002, None, "proves", None),
        (748545324524575035, 1012224565567721552, "cpp-adcs", None, "cpp"),
    ]
    listed = frames("channels", "list")
    assert "1012224565567721552" in listed.stdout and "proves" in listed.stdout

    bad = write(
        tmp_path,
        "channels.csv",
        "guild_id,channel_id,team_id,program_id\n1,2,cpp-adcs,\n1,3,ghost,\n",
    )
    refused = frames("channels", "import", str(bad))
    assert (
        refused.exit_code == 1
        and "line 3, column 'team_id': unknown team 'ghost'" in refused.stderr
    )
    assert len(asyncio.run(dump(clean, "SELECT 1 FROM channel_mappings"))) == 2

    audit = asyncio.run(dump(clean, "SELECT action FROM audit_logs ORDER BY id"))
    assert [a for (a,) in audit] == ["org.import", "channels.map", "channels.map"]


def test_outcomes_import_validates_references(clean: str, tmp_path: Path) -> None:
    assert frames("org", "import", str(write(tmp_path, "roster.csv", ROSTER))).exit_code == 0
    header = "outcome_id,university_id,program_id,project_id,team_id,outcome_type,category,occurred_on,description\n"
    good = write(
        tmp_path,
        "outcomes.csv",
        header
        + "o1,cpp,proves,cpp-sat,,mission_success,,2027-05-01,Deployed\n"
        + "o2,cpp,,,cpp-eps,failure_event,new_cohort_could_not_operate,2026-10-01,New cohort lost\n",
    )
    assert frames("outcomes", "import", str(good)).exit_code == 0
    assert frames("outcomes", "import", str(good)).exit_code == 0  # idempotent
    assert len(asyncio.run(dump(clean, "SELECT 1 FROM outcomes"))) == 2
    bad = write(tmp_path, "bad.csv", header + "o3,cpp,,,ghost-team,mission_failure,,2027-01-01,\n")
    result = frames("outcomes", "import", str(bad))
    assert (
        result.exit_code == 1
        and "line 2, column 'team_id': unknown team 'ghost-team'" in result.stderr
    )


async def test_repository_reads(db: Database, tmp_path: Path) -> None:
    roster = parse_roster(
        write(tmp_path, "roster.csv", ROSTER), write(tmp_path, "terms.csv", TERMS)
    )
    async with db.transaction() as session:
        report = await import_roster(session, roster, actor="test", source="roster.csv")
    assert (report.people, report.teams, report.universities, report.terms) == (4, 3, 2, 3)
    async with db.sessions() as session:
        repo = OrganisationRepository(session)
        summaries = {s.team.id: s.members for s in await repo.team_summaries()}
        assert summaries == {"cpp-adcs": 2, "cpp-eps": 1, "uci-comms": 1}
        assert [t.name for t in await repo.terms("cpp")] == ["2026-fall", "2027-spring"]
        assert {i.provider for i in await repo.identities_of("cpp-s001")} == {
            "discord",
            "github",
            "email",
        }
        consents = await ConsentRepository(session).current_consents(["cpp-s001", "cpp-s002"])
        assert consents == {
            ("cpp-s001", "research"): "granted",
            ("cpp-s002", "research"): "withdrawn",
        }
