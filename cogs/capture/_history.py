"""Channel history over discord.py, for ``core.capture.backfill`` (a ``HistorySource``)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

import discord

from cogs.capture._cog import message_record, thread_record
from core.capture.backfill import StreamUnavailable
from core.capture.records import MessageRecord, ThreadRecord

if TYPE_CHECKING:
    from bot.discord_bot import FramesBot

log = logging.getLogger(__name__)

PAGE = 100  # Discord's largest history page


class DiscordHistory:
    def __init__(self, bot: FramesBot) -> None:
        self.bot = bot

    def is_local(self, guild_id: int | None) -> bool:
        if guild_id is None:
            return False  # DMs are not backfilled: the bot sees only DMs sent to it, live
        count = self.bot.shard_count or 1
        local = self.bot.shard_ids if self.bot.shard_ids is not None else range(count)
        return (guild_id >> 22) % count in local

    async def _channel(self, channel_id: int) -> discord.abc.GuildChannel | discord.Thread:
        channel = self.bot.get_channel(channel_id)
        if channel is None:
            try:
                channel = await self.bot.fetch_channel(channel_id)
            except (discord.NotFound, discord.Forbidden) as exc:
                raise StreamUnavailable(f"channel {channel_id}: {exc.text or exc}") from None
        if not isinstance(channel, discord.abc.GuildChannel | discord.Thread):
            raise StreamUnavailable(f"channel {channel_id} is not a guild channel or thread")
        return channel

    async def threads(self, channel_id: int, guild_id: int) -> list[ThreadRecord]:
        channel = await self._channel(channel_id)
        if not isinstance(channel, discord.TextChannel | discord.ForumChannel):
            return []
        found = {t.id: t for t in channel.threads}
        try:
            async for thread in channel.archived_threads(limit=None):
                found.setdefault(thread.id, thread)
        except (discord.NotFound, discord.Forbidden) as exc:
            log.warning("archived threads of %s not readable: %s", channel_id, exc)
        return [thread_record(t) for t in found.values()]

    async def history(
        self, stream_id: int, after: int | None
    ) -> AsyncIterator[list[MessageRecord]]:
        channel = await self._channel(stream_id)
        if not isinstance(channel, discord.abc.Messageable):
            return  # a forum or category holds no messages of its own
        start = discord.Object(id=after) if after else None
        page: list[MessageRecord] = []
        try:
            async for message in channel.history(limit=None, after=start, oldest_first=True):
                page.append(message_record(message, source="backfill"))
                if len(page) == PAGE:
                    yield page
                    page = []
        except (discord.NotFound, discord.Forbidden) as exc:
            raise StreamUnavailable(f"history of {stream_id}: {exc.text or exc}") from None
        if page:
            yield page
