"""Universities, terms, programs, projects, teams, people, memberships, identities, consent."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.models import (
    AcademicTerm,
    ChannelMapping,
    Identity,
    Person,
    Program,
    Project,
    Team,
    TeamMembership,
    University,
)


@dataclass(frozen=True)
class TeamSummary:
    team: Team
    members: int
    channels: int


class OrganisationRepository:
    """Idempotent upserts: importing the same facts twice leaves the same rows."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _upsert(
        self,
        model: type[Any],
        rows: list[dict[str, Any]],
        keys: list[str],
        *,
        keep: Sequence[str] = (),
    ) -> None:
        """Insert rows, or update every column but ``keys`` and ``keep`` (NULLs don't overwrite)."""
        if not rows:
            return
        statement = insert(model)
        columns = [c for c in rows[0] if c not in keys and c not in keep]
        if columns:
            update = {
                c: func.coalesce(statement.excluded[c], model.__table__.c[c]) for c in columns
            }
            statement = statement.on_conflict_do_update(index_elements=keys, set_=update)
        else:
            statement = statement.on_conflict_do_nothing(index_elements=keys)
        await self.session.execute(statement, rows)

    # --- writes ---------------------------------------------------------------------------
    async def upsert_universities(self, rows: list[dict[str, Any]]) -> None:
        await self._upsert(University, rows, ["id"])

    async def upsert_terms(self, rows: list[dict[str, Any]]) -> None:
        await self._upsert(AcademicTerm, rows, ["university_id", "name"])

    async def upsert_programs(self, rows: list[dict[str, Any]]) -> None:
        await self._upsert(Program, rows, ["id"])

    async def upsert_projects(self, rows: list[dict[str, Any]]) -> None:
        await self._upsert(Project, rows, ["id"])

    async def upsert_teams(self, rows: list[dict[str, Any]]) -> None:
        await self._upsert(Team, rows, ["id"])

    async def upsert_people(self, rows: list[dict[str, Any]]) -> None:
        await self._upsert(Person, rows, ["id"])

    async def upsert_memberships(self, rows: list[dict[str, Any]]) -> None:
        await self._upsert(TeamMembership, rows, ["team_id", "person_id"])

    async def link_identities(self, rows: list[dict[str, Any]]) -> None:
        """Create or re-link accounts; a roster link is authoritative for its account."""
        await self._upsert(Identity, rows, ["provider", "external_id"])

    # --- reads ----------------------------------------------------------------------------
    async def existing_ids(self, model: type[Any], ids: Sequence[str]) -> set[str]:
        if not ids:
            return set()
        found = await self.session.scalars(select(model.id).where(model.id.in_(list(ids))))
        return set(found.all())

    async def get_team(self, team_id: str) -> Team | None:
        return await self.session.get(Team, team_id)

    async def teams_by_id(self, team_ids: set[str]) -> dict[str, Team]:
        if not team_ids:
            return {}
        query = select(Team).where(Team.id.in_(sorted(team_ids)))
        return {team.id: team for team in (await self.session.scalars(query)).all()}

    async def get_program(self, program_id: str) -> Program | None:
        return await self.session.get(Program, program_id)

    async def universities(self) -> list[University]:
        return list((await self.session.scalars(select(University).order_by(University.id))).all())

    async def terms(self, university_id: str | None = None) -> list[AcademicTerm]:
        query = select(AcademicTerm).order_by(AcademicTerm.university_id, AcademicTerm.starts_on)
        if university_id is not None:
            query = query.where(AcademicTerm.university_id == university_id)
        return list((await self.session.scalars(query)).all())

    async def programs(self) -> list[Program]:
        return list((await self.session.scalars(select(Program).order_by(Program.id))).all())

    async def team_summaries(self, university_id: str | None = None) -> list[TeamSummary]:
        members = (
            select(func.count())
            .where(TeamMembership.team_id == Team.id)
            .correlate(Team)
            .scalar_subquery()
        )
        channels = (
            select(func.count())
            .where(ChannelMapping.team_id == Team.id)
            .correlate(Team)
            .scalar_subquery()
        )
        query = select(Team, members, channels).order_by(Team.university_id, Team.id)
        if university_id is not None:
            query = query.where(Team.university_id == university_id)
        return [TeamSummary(t, m, c) for t, m, c in (await self.session.execute(query)).all()]

    async def people_counts(self) -> dict[tuple[str, str], int]:
        """(university, role) → number of people."""
        query = select(Person.university_id, Person.role, func.count()).group_by(
            Person.university_id, Person.role
        )
        return {(u, r): n for u, r, n in (await self.session.execute(query)).all()}

    async def people(self, university_id: str | None = None) -> list[Person]:
        query = select(Person).order_by(Person.id)
        if university_id is not None:
            query = query.where(Person.university_id == university_id)
        return list((await self.session.scalars(query)).all())

    async def identities_of(self, person_id: str) -> list[Identity]:
        query = select(Identity).where(Identity.person_id == person_id).order_by(Identity.provider)
        return list((await self.session.scalars(query)).all())
