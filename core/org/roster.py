"""Parsing and validating roster and term files into typed records (no database access).

Roster columns (header names exactly; only the first four are required):

| column | meaning |
|---|---|
| university_id | short id of the university, e.g. ``cpp`` (required) |
| person_id | unique id of the person in FRAMES (required) |
| display_name | name as shown to faculty (required) |
| role | ``student``, ``faculty``, ``external`` or ``researcher`` (required) |
| university_name, time_zone | university attributes |
| consent_mode | ``opt-in`` (default), ``opt-out`` or ``metadata-only`` |
| program_id, program_name | the program the person's team belongs to |
| project_id, project_name | the mission or project of the team |
| team_id, team_name, discipline | the team (``team_id`` is the TEAM_ID that commands take) |
| email | lower-cased; links accounts on other tools automatically |
| graduation_term | e.g. ``2027-spring`` (a term in the terms file) |
| joined_on | ISO date the person joined the program |
| lifecycle | ``incoming``, ``established`` or ``outgoing``; blank = derived from terms |
| discord_user_id, discord_username | the person's Discord account (id preferred) |
| github_login | the person's GitHub login |
| consent | ``granted``, ``withdrawn`` or blank (unknown) |

Terms columns: ``university_id,term,starts_on,ends_on`` (ISO dates).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from core.csv_input import CsvRow, read_csv
from core.db.models.organisation import CONSENT_MODES, LIFECYCLES, PERSON_ROLES
from core.errors import InputError, InputProblem

ROSTER_REQUIRED = ("university_id", "person_id", "display_name", "role")
ROSTER_OPTIONAL = (
    "university_name",
    "time_zone",
    "consent_mode",
    "program_id",
    "program_name",
    "project_id",
    "project_name",
    "team_id",
    "team_name",
    "discipline",
    "email",
    "graduation_term",
    "joined_on",
    "lifecycle",
    "discord_user_id",
    "discord_username",
    "github_login",
    "consent",
)
TERMS_REQUIRED = ("university_id", "term", "starts_on", "ends_on")

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
_TERM = re.compile(r"^[0-9]{4}-(spring|summer|fall|winter)$")


@dataclass
class UniversityRecord:
    id: str
    name: str | None = None
    time_zone: str | None = None
    consent_mode: str | None = None


@dataclass
class ProgramRecord:
    id: str
    name: str | None = None
    lead_university_id: str | None = None


@dataclass
class ProjectRecord:
    id: str
    name: str | None
    program_id: str | None
    university_id: str


@dataclass
class TeamRecord:
    id: str
    name: str | None
    university_id: str
    program_id: str | None
    project_id: str | None
    discipline: str | None


@dataclass
class PersonRecord:
    id: str
    university_id: str
    display_name: str
    role: str
    email: str | None
    team_id: str | None
    discipline: str | None
    graduation_term: str | None
    joined_on: dt.date | None
    lifecycle: str | None
    discord_user_id: int | None
    discord_username: str | None
    github_login: str | None
    consent: str | None


@dataclass
class TermRecord:
    university_id: str
    name: str
    starts_on: dt.date
    ends_on: dt.date


@dataclass
class Roster:
    universities: dict[str, UniversityRecord] = field(default_factory=dict)
    programs: dict[str, ProgramRecord] = field(default_factory=dict)
    projects: dict[str, ProjectRecord] = field(default_factory=dict)
    teams: dict[str, TeamRecord] = field(default_factory=dict)
    people: dict[str, PersonRecord] = field(default_factory=dict)
    terms: list[TermRecord] = field(default_factory=list)


def _identifier(row: CsvRow, column: str, *, required: bool = False) -> str | None:
    value = row.text(column, required=required)
    if value is not None and not _ID.match(value):
        row.problem(column, f"{value!r} is not a valid id (letters, digits, '-', '_', '.', ':')")
        return None
    return value


def _agree(row: CsvRow, column: str, current: str | None, new: str | None, what: str) -> str | None:
    """Attributes repeated on many rows must agree; the first non-empty value wins."""
    if new is None:
        return current
    if current is not None and current != new:
        row.problem(column, f"{what} is {current!r} on an earlier line, {new!r} here")
        return current
    return new


def _parse_roster_row(row: CsvRow, roster: Roster, seen_lines: dict[str, int]) -> None:
    university_id = _identifier(row, "university_id", required=True)
    person_id = _identifier(row, "person_id", required=True)
    display_name = row.text("display_name", required=True)
    role = row.choice("role", PERSON_ROLES, required=True)
    consent_mode = row.choice("consent_mode", CONSENT_MODES)
    time_zone = row.time_zone("time_zone")
    program_id = _identifier(row, "program_id")
    project_id = _identifier(row, "project_id")
    team_id = _identifier(row, "team_id")
    email = row.email("email")
    joined_on = row.date("joined_on")
    lifecycle = row.choice("lifecycle", LIFECYCLES)
    discord_user_id = row.snowflake("discord_user_id")
    consent = row.choice("consent", ("granted", "withdrawn"))
    graduation_term = row.text("graduation_term")
    if graduation_term is not None and not _TERM.match(graduation_term):
        row.problem("graduation_term", f"{graduation_term!r} is not a term like 2027-spring")
        graduation_term = None
    if person_id is not None and person_id in seen_lines:
        row.problem(
            "person_id", f"duplicate id {person_id!r} (first on line {seen_lines[person_id]})"
        )
        return
    if row.problems or university_id is None or person_id is None:
        return
    assert display_name is not None and role is not None
    seen_lines[person_id] = row.line

    university = roster.universities.setdefault(university_id, UniversityRecord(university_id))
    university.name = _agree(
        row,
        "university_name",
        university.name,
        row.text("university_name"),
        "the university's name",
    )
    university.time_zone = _agree(
        row, "time_zone", university.time_zone, time_zone, "the university's time zone"
    )
    university.consent_mode = _agree(
        row, "consent_mode", university.consent_mode, consent_mode, "the university's consent mode"
    )

    if program_id is not None:
        program = roster.programs.setdefault(
            program_id, ProgramRecord(program_id, lead_university_id=university_id)
        )
        program.name = _agree(
            row, "program_name", program.name, row.text("program_name"), "the program's name"
        )
    if project_id is not None:
        project = roster.projects.get(project_id)
        if project is None:
            roster.projects[project_id] = ProjectRecord(
                project_id, row.text("project_name"), program_id, university_id
            )
        elif project.university_id != university_id:
            row.problem(
                "project_id",
                f"project {project_id!r} belongs to {project.university_id!r} on an earlier line",
            )
    if team_id is not None:
        team = roster.teams.get(team_id)
        if team is None:
            roster.teams[team_id] = TeamRecord(
                team_id,
                row.text("team_name"),
                university_id,
                program_id,
                project_id,
                row.text("discipline"),
            )
        elif team.university_id != university_id:
            row.problem(
                "team_id", f"team {team_id!r} belongs to {team.university_id!r} on an earlier line"
            )
        else:
            team.name = _agree(
                row, "team_name", team.name, row.text("team_name"), "the team's name"
            )

    roster.people[person_id] = PersonRecord(
        id=person_id,
        university_id=university_id,
        display_name=display_name,
        role=role,
        email=email,
        team_id=team_id,
        discipline=row.text("discipline"),
        graduation_term=graduation_term,
        joined_on=joined_on,
        lifecycle=lifecycle,
        discord_user_id=discord_user_id,
        discord_username=(row.text("discord_username") or "").lower() or None,
        github_login=row.text("github_login"),
        consent=consent,
    )


def parse_roster(path: Path, terms_path: Path | None = None) -> Roster:
    """Read a roster (and optionally a terms file); raise ``InputError`` listing every problem."""
    roster = Roster()
    problems: list[InputProblem] = []
    seen_lines: dict[str, int] = {}
    for row in read_csv(path, required=ROSTER_REQUIRED, optional=ROSTER_OPTIONAL):
        _parse_roster_row(row, roster, seen_lines)
        problems += row.problems
    emails: dict[str, str] = {}
    for person in roster.people.values():
        if person.email and emails.setdefault(person.email, person.id) != person.id:
            line = seen_lines[person.id]
            problems.append(
                InputProblem(
                    path.name,
                    line,
                    "email",
                    f"{person.email!r} is also {emails[person.email]!r}'s email",
                )
            )
    if terms_path is not None:
        roster.terms = parse_terms(terms_path, problems)
    if problems:
        raise InputError(problems)
    return roster


def parse_terms(path: Path, problems: list[InputProblem]) -> list[TermRecord]:
    terms: list[TermRecord] = []
    seen: dict[tuple[str, str], int] = {}
    for row in read_csv(path, required=TERMS_REQUIRED):
        university_id = _identifier(row, "university_id", required=True)
        name = row.text("term", required=True)
        starts_on = row.date("starts_on", required=True)
        ends_on = row.date("ends_on", required=True)
        if name is not None and not _TERM.match(name):
            row.problem("term", f"{name!r} is not a term like 2027-spring")
        if starts_on and ends_on and ends_on <= starts_on:
            row.problem("ends_on", f"the term ends ({ends_on}) before it starts ({starts_on})")
        if university_id and name:
            first = seen.setdefault((university_id, name), row.line)
            if first != row.line:
                row.problem("term", f"duplicate term {name!r} (first on line {first})")
        problems += row.problems
        if not row.problems and university_id and name and starts_on and ends_on:
            terms.append(TermRecord(university_id, name, starts_on, ends_on))
    return terms
