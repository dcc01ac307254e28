"""Channel mappings: which team or program each Discord channel belongs to; and the guild
channels and categories the bot has recorded, for mapping a whole category at once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, exists, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.models import ChannelMapping, DiscordChannel

# Kinds that are not channels of a category: threads hang off channels, DMs off no guild.
_NOT_IN_CATEGORY = ("thread", "category", "dm")


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

    async def remove(self, channel_ids: Sequence[int]) -> list[ChannelMapping]:
        """Delete these channels' mappings; returns what was removed (stored data stays)."""
        if not channel_ids:
            return []
        statement = (
            delete(ChannelMapping)
            .where(ChannelMapping.channel_id.in_(list(channel_ids)))
            .returning(ChannelMapping)
        )
        removed = (await self.session.scalars(statement)).all()
        return sorted(removed, key=lambda m: m.channel_id)

    async def all(self, university_id: str | None = None) -> list[ChannelMapping]:
        query = select(ChannelMapping).order_by(ChannelMapping.guild_id, ChannelMapping.channel_id)
        if university_id is not None:
            query = query.where(ChannelMapping.university_id == university_id)
        return list((await self.session.scalars(query)).all())

    async def for_channels(self, channel_ids: list[int]) -> dict[int, ChannelMapping]:
        query = select(ChannelMapping).where(ChannelMapping.channel_id.in_(channel_ids))
        return {m.channel_id: m for m in (await self.session.scalars(query)).all()}

    # --- what the bot recorded of its guilds --------------------------------------------
    async def guild_seen(self, guild_id: int) -> bool:
        """Whether the bot has recorded any channel of this guild."""
        query = select(exists().where(DiscordChannel.guild_id == guild_id))
        return bool(await self.session.scalar(query))

    async def recorded_channel(self, channel_id: int) -> DiscordChannel | None:
        return await self.session.get(DiscordChannel, channel_id)

    async def channels_in_category(self, category_id: int) -> list[DiscordChannel]:
        """The channels whose parent is this category, as last recorded by the bot."""
        query = (
            select(DiscordChannel)
            .where(
                DiscordChannel.parent_id == category_id,
                DiscordChannel.kind.not_in(_NOT_IN_CATEGORY),
            )
            .order_by(DiscordChannel.id)
        )
        return list((await self.session.scalars(query)).all())

    async def seen_guilds(self, guild_ids: Sequence[int]) -> set[int]:
        """Which of these guilds the bot has recorded channels of."""
        if not guild_ids:
            return set()
        query = (
            select(DiscordChannel.guild_id)
            .where(DiscordChannel.guild_id.in_(list(guild_ids)))
            .distinct()
        )
        return {g for g in (await self.session.scalars(query)).all() if g is not None}

    async def recorded_ids(self, channel_ids: Sequence[int]) -> set[int]:
        if not channel_ids:
            return set()
        query = select(DiscordChannel.id).where(DiscordChannel.id.in_(list(channel_ids)))
        return set((await self.session.scalars(query)).all())
