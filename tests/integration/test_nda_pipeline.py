"""The NDA engine on real PostgreSQL: rows inserted through the models, `frames nda` run on them.

CLI tests are plain functions (the CLI runs its own event loop); async tests use the ``db``
fixture directly.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import random
from collections.abc import Iterator

import asyncpg
import pytest

from core.db.engine import Database
from core.db.models import (
    AcademicTerm,
    DiscordInterface,
    DiscordMessage,
    Identity,
    ManualInterface,
    Person,
    Program,
    Team,
    TeamMembership,
    University,
)
from core.db.repositories.nda import NDARepository
from core.nda import DIMENSIONS
from core.nda.service import run_nda
from tests.cli import frames
from tests.conftest import settings_for, truncate_all

START = dt.datetime(2026, 9, 7, tzinfo=dt.UTC)  # a Monday: ISO week 2026-W37
WEEKS = 6
TEAMS = {"u1-eps": ("u1", 5), "u1-adcs": ("u1", 5), "u2-comms": ("u2", 4)}
PERSON_COUNT = sum(size for _, size in TEAMS.values())


def discord_id(person: str) -> int:
    return 10**17 + sum(ord(c) * 31**i for i, c in enumerate(person))


def people_of() -> dict[str, list[str]]:
    return {team: [f"{team}-p{i}" for i in range(size)] for team, (_, size) in TEAMS.items()}


def seed_objects() -> list[object]:
    """A small two-university program: three teams, six weeks of chat, one manual handoff."""
    rng = random.Random(5)
    objects: list[object] = [
        University(id="u1", name="University One"),
        University(id="u2", name="University Two"),
        Program(id="proves", name="PROVES", lead_university_id="u1"),
    ]
    for university in ("u1", "u2"):
        objects.append(
            AcademicTerm(
                university_id=university,
                name="2026-fall",
                starts_on=dt.date(2026, 8, 24),
                ends_on=dt.date(2026, 10, 16),
            )
        )
        objects.append(
            AcademicTerm(
                university_id=university,
                name="2027-spring",
                starts_on=dt.date(2027, 1, 18),
                ends_on=dt.date(2027, 5, 7),
            )
        )
    members = people_of()
    for team, (university, _) in TEAMS.items():
        objects.append(
            Team(
                id=team,
                name=team.upper(),
                university_id=university,
                program_id="proves",
                discipline=team.split("-")[1],
            )
        )
    for team, names in members.items():
        university = TEAMS[team][0]
        for index, person in enumerate(names):
            stage = ("outgoing", "established", "incoming")[index % 3]
            objects.append(
                Person(
                    id=person,
                    university_id=university,
                    display_name=f"Name {person}",
                    role="student",
                    lifecycle=stage,
                    graduation_term="2026-fall" if stage == "outgoing" else "2027-spring",
                )
            )
            objects.append(TeamMembership(team_id=team, person_id=person, university_id=university))
            objects.append(
                Identity(
                    provider="discord",
                    external_id=str(discord_id(person)),
                    person_id=person,
                    university_id=university,
                )
            )
    # A bot with an account: its interfaces must not count.
    objects.append(Person(id="bot", university_id="u1", display_name="CI bot", is_bot=True))
    objects.append(
        Identity(
            provider="discord", external_id=str(discord_id("bot")), person_id="bot", is_bot=True
        )
    )
    everyone = [p for names in members.values() for p in names]
    message_id = 10**15
    for day in range(WEEKS * 7):
        for team, names in members.items():
            for _ in range(3):
                asker = rng.choice(names)
                local = rng.random() < 0.75
                answerer = rng.choice([p for p in (names if local else everyone) if p != asker])
                at = START + dt.timedelta(days=day, hours=rng.randint(9, 18))
                message_id += 2
                question, answer = message_id - 1, message_id
                objects.append(
                    DiscordMessage(
                        id=question,
                        channel_id=1,
                        author_id=discord_id(asker),
                        timestamp=at,
                        message_type="question",
                        team_id=team,
                    )
                )
                answered_at = at + dt.timedelta(hours=rng.choice([1, 2, 3, 40]))
                objects.append(
                    DiscordMessage(
                        id=answer,
                        channel_id=1,
                        author_id=discord_id(answerer),
                        timestamp=answered_at,
                        message_type="answer",
                        team_id=team,
                        reference_id=question,
                    )
                )
                objects.append(
                    DiscordInterface(
                        from_user_id=discord_id(answerer),
                        to_user_id=discord_id(asker),
                        interaction_type="reply",
                        knowledge_transfer_score=0.8,
                        timestamp=answered_at,
                        message_ids=[answer, question],
                        source_message_id=answer,
                        team_id=team,
                        weight=1.0,
                    )
                )
                objects.append(
                    DiscordInterface(
                        from_user_id=discord_id("bot"),
                        to_user_id=discord_id(asker),
                        interaction_type="mention",
                        knowledge_transfer_score=0.5,
                        timestamp=at,
                        message_ids=[question],
                        source_message_id=question + 10**14,
                        weight=1.0,
                    )
                )
    objects.append(
        ManualInterface(
            from_person_id="u1-eps-p0",
            to_person_id="u1-eps-p2",
            interface_type="handoff",
            university_id="u1",
            timestamp=START + dt.timedelta(days=36),
            knowledge_transfer_score=0.9,
        )
    )
    return objects


async def seed(db: Database) -> None:
    async with db.transaction() as session:
        objects = seed_objects()
        # Parents first: universities, programs, terms, teams, people, then the rest.
        for kind in (University, Program, AcademicTerm, Team, Person):
            session.add_all([o for o in objects if isinstance(o, kind)])
            await session.flush()
        session.add_all(
            [
                o
                for o in objects
                if not isinstance(o, University | Program | AcademicTerm | Team | Person)
            ]
        )


async def fetch(url: str, query: str, *args: object) -> list[asyncpg.Record]:
    connection = await asyncpg.connect(url)
    try:
        return await connection.fetch(query, *args)
    finally:
        await connection.close()


async def test_run_stores_every_dimension_and_is_incremental(
    db: Database, database_url: str
) -> None:
    await seed(db)
    first = await run_nda(db, workers=2)
    weeks = [(START + dt.timedelta(weeks=k)).date() for k in range(WEEKS + 1)]
    # Answers on the last Sunday spill into the next week: that week has data too.
    assert first.weeks_computed == [w for w in weeks if w in first.weeks_considered]
    assert len(first.weeks_computed) >= WEEKS

    rows = await fetch(
        database_url,
        "SELECT scope_type, scope_id, week_start, dimension, raw_value, risk, band "
        "FROM nda_reports",
    )
    last_week = weeks[WEEKS - 1]
    team_rows = [r for r in rows if r["scope_type"] == "team" and r["week_start"] == last_week]
    assert {(r["scope_id"], r["dimension"]) for r in team_rows} == {
        (team, dimension) for team in TEAMS for dimension in (*DIMENSIONS, "energy_loss")
    }
    autonomy = {r["scope_id"]: r for r in team_rows if r["dimension"] == "actor_autonomy"}
    assert all(0 <= r["risk"] <= 100 and r["band"] for r in autonomy.values())
    # No project-tool tasks were inserted: emergent outputs must say so instead of guessing.
    emergent = [r for r in team_rows if r["dimension"] == "emergent_outputs"]
    assert all(r["raw_value"] is None and r["risk"] is None for r in emergent)
    assert {r["scope_id"] for r in rows if r["scope_type"] == "university"} == {"u1", "u2"}
    assert {r["scope_id"] for r in rows if r["scope_type"] == "program"} == {"proves"}

    # The bot is not a node and its interfaces count nowhere.
    bot_metrics = await fetch(
        database_url, "SELECT count(*) FROM activity_metrics WHERE scope_id = 'bot'"
    )
    assert bot_metrics[0][0] == 0
    people = await fetch(
        database_url,
        "SELECT count(DISTINCT scope_id) FROM activity_metrics WHERE scope_type = 'person'",
    )
    assert people[0][0] == PERSON_COUNT
    scores = await fetch(database_url, "SELECT count(*) FROM engagement_scores")
    assert scores[0][0] >= PERSON_COUNT * WEEKS

    run = await fetch(
        database_url,
        "SELECT engine_version, status, parameters, energy_loss_model_name FROM nda_runs",
    )
    assert [r["status"] for r in run] == ["succeeded"]
    assert json.loads(run[0]["parameters"])["window_weeks"] == 4
    assert run[0]["energy_loss_model_name"] == "prototype-defaults"

    # Nothing changed: nothing is recomputed.
    second = await run_nda(db, workers=1)
    assert second.up_to_date and second.run_id is None

    # New data in the fifth week: that week and the weeks that look back at it are recomputed.
    async with db.transaction() as session:
        session.add(
            DiscordInterface(
                from_user_id=discord_id("u1-eps-p1"),
                to_user_id=discord_id("u2-comms-p1"),
                interaction_type="mention",
                knowledge_transfer_score=0.4,
                timestamp=START + dt.timedelta(weeks=4, days=2),
                message_ids=[1],
                source_message_id=1,
                weight=1.0,
            )
        )
    third = await run_nda(db, workers=1)
    assert third.weeks_computed == [w for w in first.weeks_considered if w >= weeks[4]]
    count = await fetch(database_url, "SELECT count(DISTINCT run_id) FROM nda_reports")
    assert count[0][0] == 2


async def test_energy_model_change_recomputes_and_both_stay_queryable(db: Database) -> None:
    await seed(db)
    await run_nda(db, workers=1)
    async with db.transaction() as session:
        repo = NDARepository(session)
        active = await repo.active_energy_model()
        assert active is not None
        factors = json.loads(json.dumps(active.factors))
        factors["bond_strength"]["weak"] = 0.9
        factors["knowledge_type"]["institutional"] = 0.6
        changed = await repo.add_energy_model("test-heavier", factors, "test")
        await repo.activate_energy_model(changed.id)
    try:
        rerun = await run_nda(db, workers=1)
        assert rerun.weeks_computed == rerun.weeks_considered  # the model is in every fingerprint
        async with db.sessions() as session:
            series = await NDARepository(session).energy_loss_by_model("team", "u1-eps")
        by_model: dict[str, dict[dt.date, float | None]] = {}
        for name, week, value in series:
            by_model.setdefault(name, {})[week] = value
        assert set(by_model) == {"prototype-defaults", "test-heavier"}
        shared = set(by_model["prototype-defaults"]) & set(by_model["test-heavier"])
        assert shared
        for week in shared:
            old, new = by_model["prototype-defaults"][week], by_model["test-heavier"][week]
            assert old is not None and new is not None and new > old
    finally:
        # Migration-seeded rows survive truncation: put the default back.
        async with db.transaction() as session:
            repo = NDARepository(session)
            default = await repo.energy_model("prototype-defaults")
            assert default is not None
            await repo.activate_energy_model(default.id)
            await session.execute(
                __import__("sqlalchemy").text(
                    "DELETE FROM energy_loss_models WHERE name = 'test-heavier'"
                )
            )


@pytest.fixture
def seeded_cli(cli_env: str, database_url: str) -> Iterator[str]:
    async def go() -> None:
        from core.db.engine import open_database

        async with open_database(settings_for(database_url)) as database:
            await seed(database)

    asyncio.run(go())
    yield cli_env
    asyncio.run(truncate_all(database_url))


def test_cli_run_and_report(seeded_cli: str, database_url: str) -> None:
    result = frames("nda", "run", "--workers", "1")
    assert result.exit_code == 0, result.stderr
    assert "Computed" in result.stdout

    again = frames("nda", "run")
    assert again.exit_code == 0 and "up to date" in again.stdout

    as_json = frames("nda", "report", "--program", "--format", "json")
    assert as_json.exit_code == 0, as_json.stderr
    report = json.loads(as_json.stdout)  # stdout holds only the JSON
    assert {t["team_id"] for t in report["teams"]} == set(TEAMS)
    for team in report["teams"]:
        assert team["university_id"] == TEAMS[team["team_id"]][0]
        assert list(team["dimensions"]) == list(DIMENSIONS)
        for dimension in team["dimensions"].values():
            assert {"value", "risk", "band", "insufficient_data", "evidence"} <= set(dimension)
    assert report["program"]["program_id"] == "proves"

    team = frames("nda", "report", "--team", "u1-eps", "--format", "json")
    named = json.dumps(json.loads(team.stdout)["teams"][0]["dimensions"])
    assert "Name u1-" in named  # the operator's CLI shows names...
    hidden = frames("nda", "report", "--team", "u1-eps", "--format", "json", "--pseudonymise")
    assert (
        "Name u1-" not in hidden.stdout and "u1-eps-p" not in hidden.stdout
    )  # ...unless asked not to
    assert '"P-' in hidden.stdout

    text = frames("nda", "report", "--university", "u1")
    assert text.exit_code == 0 and "University One" in text.stdout and "autonomy" in text.stdout

    html = frames("nda", "report", "--team", "u1-eps", "--format", "html")
    assert html.stdout.startswith("<!doctype html>") and "Coupling degradation" in html.stdout

    bad = frames("nda", "report", "--team", "nope")
    assert bad.exit_code == 1 and "no team 'nope'" in bad.stderr
    both = frames("nda", "report", "--team", "u1-eps", "--program")
    assert both.exit_code != 0
    week = frames("nda", "run", "--week", "2026-W99")
    assert week.exit_code == 1 and "no week 99" in week.stderr
    empty_week = frames("nda", "run", "--week", "2025-W02")
    assert empty_week.exit_code == 1 and "has no captured data" in empty_week.stderr


def test_cli_energy_models(seeded_cli: str, database_url: str) -> None:
    assert frames("nda", "run", "--workers", "1").exit_code == 0
    try:
        listed = frames("nda", "models", "list")
        assert listed.exit_code == 0 and "prototype-defaults" in listed.stdout

        bad = frames("nda", "models", "create", "broken", "--set", "bond_strength.weak=two")
        assert bad.exit_code == 1 and "FACTOR.CATEGORY=NUMBER" in bad.stderr
        too_big = frames("nda", "models", "create", "broken", "--set", "bond_strength.weak=3")
        assert (
            too_big.exit_code == 1
            and "bond_strength.weak must be a number in 0..1" in too_big.stderr
        )

        created = frames(
            "nda",
            "models",
            "create",
            "cli-heavier",
            "--set",
            "weights.knowledge_type=2",
            "--activate",
        )
        assert created.exit_code == 0, created.stderr
        rerun = frames("nda", "run", "--workers", "1")
        assert rerun.exit_code == 0 and "cli-heavier" in rerun.stdout
        report = json.loads(frames("nda", "report", "--team", "u1-eps", "--format", "json").stdout)
        assert report["energy_loss_model"] == "cli-heavier"

        rows = asyncio.run(
            fetch(
                database_url,
                "SELECT m.name, count(*) FROM nda_reports r JOIN energy_loss_models m "
                "ON m.id = r.energy_loss_model_id WHERE r.dimension = 'energy_loss' GROUP BY 1",
            )
        )
        assert {r[0] for r in rows} == {"prototype-defaults", "cli-heavier"}
        audit = asyncio.run(fetch(database_url, "SELECT action FROM audit_logs ORDER BY id"))
        assert [r[0] for r in audit].count("nda.run") == 2
        assert "nda.model.create" in [r[0] for r in audit]
    finally:
        assert frames("nda", "models", "activate", "prototype-defaults").exit_code == 0
        asyncio.run(
            fetch(database_url, "DELETE FROM energy_loss_models WHERE name = 'cli-heavier'")
        )
