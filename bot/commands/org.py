"""``frames org`` and ``frames outcomes``: rosters, terms and outcomes."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from bot.commands.runtime import actor, configure_logging, console, database, load_settings, run
from core.db.models import University
from core.db.repositories.organisation import OrganisationRepository, TeamSummary
from core.org.outcomes import import_outcomes, parse_outcomes_csv
from core.org.roster import parse_roster
from core.org.service import RosterImportReport, import_roster

FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@click.group("org")
def org_group() -> None:
    """Universities, programs, teams and people."""


@org_group.command("import")
@click.argument("roster", type=FILE)
@click.option(
    "--terms", type=FILE, help="Academic terms CSV: university_id,term,starts_on,ends_on."
)
def org_import(roster: Path, terms: Path | None) -> None:
    """Import a roster CSV (idempotent upsert; a bad row refuses the whole file).

    Required columns: university_id, person_id, display_name, role. Optional: university_name,
    time_zone, consent_mode, program_id, program_name, project_id, project_name, team_id,
    team_name, discipline, email, graduation_term, joined_on, lifecycle, discord_user_id,
    discord_username, github_login, consent. See docs/organisation.md.
    """
    settings = load_settings()
    configure_logging(settings)
    parsed = parse_roster(roster, terms)

    async def go() -> RosterImportReport:
        async with database(settings) as db, db.transaction() as session:
            return await import_roster(session, parsed, actor=actor(), source=roster.name)

    report = run(go())
    console.print(
        f"Imported {report.people} people in {report.teams} teams, {report.universities} "
        f"universities, {report.programs} programs; {report.terms} terms, "
        f"{report.identities} accounts, {report.consent_changes} consent changes."
    )


@org_group.command("show")
@click.option("--university", help="Only this university.")
def org_show(university: str | None) -> None:
    """Show universities, teams, people and channel mappings."""
    settings = load_settings()
    configure_logging(settings)

    async def go() -> tuple[list[TeamSummary], dict[tuple[str, str], int], list[University]]:
        async with database(settings) as db, db.sessions() as session:
            repo = OrganisationRepository(session)
            return (
                await repo.team_summaries(university),
                await repo.people_counts(),
                list(await repo.universities()),
            )

    teams, people, universities = run(go())
    table = Table(title="Universities")
    for column in ("id", "name", "time zone", "consent mode", "students", "faculty"):
        table.add_column(column)
    for u in universities:
        if university and u.id != university:
            continue
        students, faculty = people.get((u.id, "student"), 0), people.get((u.id, "faculty"), 0)
        table.add_row(u.id, u.name, u.time_zone, u.consent_mode, str(students), str(faculty))
    console.print(table)
    teams_table = Table(title="Teams (TEAM_ID is the id column)")
    for column in ("id", "name", "university", "project", "members", "channels"):
        teams_table.add_column(column)
    for s in teams:
        teams_table.add_row(
            s.team.id,
            s.team.name,
            s.team.university_id,
            s.team.project_id or "",
            str(s.members),
            str(s.channels),
        )
    console.print(teams_table)
    if not universities:
        console.print("No organisation yet: run `frames org import ROSTER.csv`.")


@click.group("outcomes")
def outcomes_group() -> None:
    """Mission and program outcomes and failure events (the labels models learn from)."""


@outcomes_group.command("import")
@click.argument("file", type=FILE)
def outcomes_import(file: Path) -> None:
    """Import outcomes from a CSV (see docs/organisation.md for its columns)."""
    settings = load_settings()
    configure_logging(settings)
    records = parse_outcomes_csv(file)

    async def go() -> int:
        async with database(settings) as db, db.transaction() as session:
            return await import_outcomes(session, records, actor=actor(), source=file.name)

    console.print(f"Imported {run(go())} outcomes.")
