"""Channel mappings: which team or program each Discord channel belongs to."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.models import ChannelMapping


class ChannelMappingRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def upsert(self, rows: list[dict[str, Any]]) -> None:
        """Map channels; mapping a channel again moves it (one mapping per channel)."""
        if not rows:
            return
        statement = insert(ChannelMapping)
        statement = statement.on_conflict_do_update(
            index_elements=["channel_id"],
            set_={
                column: statement.excluded[column]
                for column in ("guild_id", "team_id", "program_id", "university_id", "project_id")
            },
        )
        await self.session.execute(statement, rows)

    async def all(self, university_id: str | None = None) -> list[ChannelMapping]:
        query = select(ChannelMapping).order_by(ChannelMapping.guild_id, ChannelMapping.channel_id)
        if university_id is not None:
            query = query.where(ChannelMapping.university_id == university_id)
        return list((await self.session.scalars(query)).all())

    async def for_channels(self, channel_ids: list[int]) -> dict[int, ChannelMapping]:
        query = select(ChannelMapping).where(ChannelMapping.channel_id.in_(channel_ids))
        return {m.channel_id: m for m in (await self.session.scalars(query)).all()}
