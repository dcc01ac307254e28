"""Organisation use cases: import a roster, record consent decisions.

Each function works inside the caller's session (one unit of work), validates everything
before writing, and leaves an audit entry.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.db.models.governance import RESEARCH_SCOPE
from core.db.repositories.audit import AuditRepository
from core.db.repositories.consents import ConsentRepository
from core.db.repositories.organisation import OrganisationRepository
from core.errors import InputError, InputProblem
from core.org.roster import Roster


@dataclass(frozen=True)
class RosterImportReport:
    universities: int
    programs: int
    projects: int
    teams: int
    people: int
    identities: int
    terms: int
    consent_changes: int


async def import_roster(
    session: AsyncSession, roster: Roster, *, actor: str, source: str
) -> RosterImportReport:
    """Upsert everything a validated roster names; idempotent."""
    repo = OrganisationRepository(session)
    await _check_terms(repo, roster, source)
    await repo.upsert_universities(
        [
            {
                "id": u.id,
                "name": u.name or u.id,
                "time_zone": u.time_zone,
                "consent_mode": u.consent_mode,
            }
            for u in roster.universities.values()
        ]
    )
    # Defaults only apply to new rows; NULL means "keep what is stored" in the upsert.
    await repo.upsert_terms(
        [
            {
                "university_id": t.university_id,
                "name": t.name,
                "starts_on": t.starts_on,
                "ends_on": t.ends_on,
            }
            for t in roster.terms
        ]
    )
    await repo.upsert_programs(
        [
            {"id": p.id, "name": p.name or p.id, "lead_university_id": p.lead_university_id}
            for p in roster.programs.values()
        ]
    )
    await repo.upsert_projects(
        [
            {
                "id": p.id,
                "name": p.name or p.id,
                "program_id": p.program_id,
                "university_id": p.university_id,
            }
            for p in roster.projects.values()
        ]
    )
    await repo.upsert_teams(
        [
            {
                "id": t.id,
                "name": t.name or t.id,
                "university_id": t.university_id,
                "program_id": t.program_id,
                "project_id": t.project_id,
                "discipline": t.discipline,
            }
            for t in roster.teams.values()
        ]
    )
    people = list(roster.people.values())
    await repo.upsert_people(
        [
            {
                "id": p.id,
                "university_id": p.university_id,
                "display_name": p.display_name,
                "role": p.role,
                "email": p.email,
                "discipline": p.discipline,
                "lifecycle": p.lifecycle,
                "graduation_term": p.graduation_term,
                "joined_on": p.joined_on,
            }
            for p in people
        ]
    )
    await repo.upsert_memberships(
        [
            {
                "team_id": p.team_id,
                "person_id": p.id,
                "university_id": p.university_id,
                "role": "advisor" if p.role == "faculty" else "member",
                "started_on": p.joined_on,
            }
            for p in people
            if p.team_id is not None
        ]
    )
    now = dt.datetime.now(dt.UTC)
    identities = []
    for p in people:
        link = {
            "person_id": p.id,
            "university_id": p.university_id,
            "link_source": "roster",
            "linked_at": now,
        }
        if p.discord_user_id is not None:
            identities.append(
                {
                    "provider": "discord",
                    "external_id": str(p.discord_user_id),
                    "username": p.discord_username,
                    "display_name": p.display_name,
                    **link,
                }
            )
        elif p.discord_username:
            # Matched to an account id when the bot or an import first sees this name.
            identities.append(
                {
                    "provider": "discord-name",
                    "external_id": p.discord_username,
                    "username": p.discord_username,
                    "display_name": p.display_name,
                    **link,
                }
            )
        if p.github_login:
            identities.append(
                {
                    "provider": "github",
                    "external_id": p.github_login.lower(),
                    "username": p.github_login,
                    "display_name": p.display_name,
                    **link,
                }
            )
        if p.email:
            identities.append(
                {
                    "provider": "email",
                    "external_id": p.email,
                    "username": None,
                    "display_name": p.display_name,
                    "email": p.email,
                    **link,
                }
            )
    for identity in identities:
        identity.setdefault("email", None)
    await repo.link_identities(identities)
    consent_changes = await record_consent_decisions(
        session,
        [
            {
                "person_id": p.id,
                "university_id": p.university_id,
                "status": p.consent,
                "scope": RESEARCH_SCOPE,
                "source": "roster",
            }
            for p in people
            if p.consent is not None
        ],
    )
    report = RosterImportReport(
        universities=len(roster.universities),
        programs=len(roster.programs),
        projects=len(roster.projects),
        teams=len(roster.teams),
        people=len(people),
        identities=len(identities),
        terms=len(roster.terms),
        consent_changes=consent_changes,
    )
    await AuditRepository(session).record(
        actor, "org.import", target_type="roster", target_id=source, details=report.__dict__
    )
    return report


async def _check_terms(repo: OrganisationRepository, roster: Roster, source: str) -> None:
    """A graduation term must be a term of the person's university, if any terms are known."""
    known: dict[str, set[str]] = {}
    stored = [(term.university_id, term.name) for term in await repo.terms()]
    for university_id, name in stored + [(t.university_id, t.name) for t in roster.terms]:
        known.setdefault(university_id, set()).add(name)
    problems = [
        InputProblem(
            source,
            None,
            "graduation_term",
            f"{p.id}: {p.graduation_term!r} is not a term of {p.university_id!r}",
        )
        for p in roster.people.values()
        if p.graduation_term
        and p.university_id in known
        and p.graduation_term not in known[p.university_id]
    ]
    if problems:
        raise InputError(problems)


async def record_consent_decisions(session: AsyncSession, rows: list[dict[str, Any]]) -> int:
    """Append consent decisions (``person_id``, ``university_id``, ``status``, ``scope``,
    ``source``, optionally ``recorded_at``); idempotent; returns how many were recorded.

    A decision without ``recorded_at`` is "as of now" (a roster's consent column): it is
    recorded only when it changes the person's current state. A dated decision is recorded
    unless the same decision at the same time is stored already, so re-importing a file
    changes nothing. The latest decision by ``recorded_at`` is what capture applies.
    """
    consents = ConsentRepository(session)
    dated = [row for row in rows if row.get("recorded_at") is not None]
    recorded = 0
    if dated:
        stored = await consents.stored_decisions(sorted({row["person_id"] for row in dated}))
        new: dict[tuple[str, str, str, dt.datetime], dict[str, Any]] = {}
        for row in dated:
            key = (
                row["person_id"],
                row.get("scope", RESEARCH_SCOPE),
                row["status"],
                row["recorded_at"],
            )
            if key not in stored:
                new.setdefault(key, row)
        await consents.add_decisions(list(new.values()))
        recorded += len(new)
    now_rows: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        if row.get("recorded_at") is None:
            clean = {k: v for k, v in row.items() if k != "recorded_at"}
            now_rows.setdefault((row["person_id"], row.get("scope", RESEARCH_SCOPE)), clean)
    recorded += await consents.record_consents(list(now_rows.values()))
    return recorded
