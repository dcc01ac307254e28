"""Consent decisions and consent modes: finding the people a consent file names, and
appending decisions without repeating ones already stored."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.models import Consent, Identity, Person, University
from core.db.models.governance import RESEARCH_SCOPE


@dataclass(frozen=True)
class PersonRef:
    person_id: str
    university_id: str


class ConsentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- consent modes ----------------------------------------------------------------------
    async def university(self, university_id: str) -> University | None:
        return await self.session.get(University, university_id)

    async def set_consent_mode(self, university_id: str, mode: str) -> None:
        await self.session.execute(
            update(University).where(University.id == university_id).values(consent_mode=mode)
        )

    # --- people -------------------------------------------------------------------------------
    async def people_by_id(self, person_ids: Sequence[str]) -> dict[str, PersonRef]:
        if not person_ids:
            return {}
        query = select(Person.id, Person.university_id).where(Person.id.in_(list(person_ids)))
        return {p: PersonRef(p, u) for p, u in (await self.session.execute(query)).all()}

    async def people_by_discord_id(self, user_ids: Sequence[int]) -> dict[int, PersonRef]:
        """Discord accounts linked to a person (by the roster, a name match or faculty)."""
        if not user_ids:
            return {}
        query = (
            select(Identity.external_id, Person.id, Person.university_id)
            .join(Person, Person.id == Identity.person_id)
            .where(
                Identity.provider == "discord",
                Identity.external_id.in_([str(u) for u in user_ids]),
            )
        )
        return {
            int(account): PersonRef(p, u) for account, p, u in (await self.session.execute(query))
        }

    async def people_by_email(self, emails: Sequence[str]) -> dict[str, PersonRef]:
        if not emails:
            return {}
        query = select(Person.email, Person.id, Person.university_id).where(
            func.lower(Person.email).in_([e.lower() for e in emails])
        )
        return {str(e).lower(): PersonRef(p, u) for e, p, u in (await self.session.execute(query))}

    # --- decisions ----------------------------------------------------------------------------
    async def stored_decisions(
        self, person_ids: Sequence[str]
    ) -> set[tuple[str, str, str, dt.datetime]]:
        """(person, scope, status, recorded_at) of every stored decision of these people."""
        if not person_ids:
            return set()
        query = select(Consent.person_id, Consent.scope, Consent.status, Consent.recorded_at).where(
            Consent.person_id.in_(list(person_ids))
        )
        return {(p, s, st, at) for p, s, st, at in (await self.session.execute(query)).all()}

    async def add_decisions(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            self.session.add_all([Consent(**row) for row in rows])
            await self.session.flush()

    async def record_consents(self, rows: list[dict[str, Any]]) -> int:
        """Append consent decisions that change a person's current state; return how many."""
        current = await self.current_consents([row["person_id"] for row in rows])
        changed = [
            row
            for row in rows
            if current.get((row["person_id"], row.get("scope", RESEARCH_SCOPE))) != row["status"]
        ]
        await self.add_decisions(changed)
        return len(changed)

    async def current_consents(self, person_ids: Sequence[str]) -> dict[tuple[str, str], str]:
        """Each person's latest decision per scope."""
        if not person_ids:
            return {}
        latest = (
            select(Consent.person_id, Consent.scope, Consent.status)
            .where(Consent.person_id.in_(person_ids))
            .ext(distinct_on(Consent.person_id, Consent.scope))
            .order_by(
                Consent.person_id, Consent.scope, Consent.recorded_at.desc(), Consent.id.desc()
            )
        )
        return {(p, s): status for p, s, status in (await self.session.execute(latest)).all()}
