"""Read-only counts for summaries (demo, doctor, panel front page)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql.selectable import ScalarSelect

from core.db.models import ChannelMapping, DiscordMessage, Person, Team, University


@dataclass(frozen=True)
class UniversityCounts:
    university_id: str
    teams: int
    people: int
    channels: int
    messages: int


class StatsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def per_university(self) -> list[UniversityCounts]:
        def count_of(column: InstrumentedAttribute[str | None]) -> ScalarSelect[int]:
            return (
                select(func.count())
                .where(column == University.id)
                .correlate(University)
                .scalar_subquery()
            )

        query = select(
            University.id,
            count_of(Team.university_id),
            count_of(Person.university_id),
            count_of(ChannelMapping.university_id),
            count_of(DiscordMessage.university_id),
        ).order_by(University.id)
        rows = (await self.session.execute(query)).all()
        return [UniversityCounts(*row) for row in rows]
