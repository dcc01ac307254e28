"""Outcomes: mission and program results and failure events."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.models import Outcome


class OutcomeRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def upsert(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        statement = insert(Outcome)
        statement = statement.on_conflict_do_update(
            index_elements=["id"],
            set_={c: statement.excluded[c] for c in rows[0] if c != "id"},
        )
        await self.session.execute(statement, rows)

    async def counts_by_type(self) -> dict[str, int]:
        query = select(Outcome.outcome_type, func.count()).group_by(Outcome.outcome_type)
        return {kind: n for kind, n in (await self.session.execute(query)).all()}
