"""Turns raw gateway events into ``core.capture.records`` and hands them to the pipeline.

Raw events are used throughout, so messages that are not in discord.py's cache (sent
before the bot started, or evicted) are still edited, deleted and reacted to. Which
channels are captured, and what consent allows, is decided in ``core``; this cog only
translates. A payload that cannot be translated is logged with its event type and skipped.

Guild messages take a shorter road: ``FramesBot`` hands their MESSAGE_CREATE payload to
``CaptureCog.message_payload`` instead of building a ``discord.Message`` nobody else reads,
and ``message_record_from_payload`` makes the same record ``message_record`` would.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import discord
from discord.ext import commands

from core.capture.pipeline import CaptureItem, CapturePipeline
from core.capture.records import (
    AttachmentRecord,
    MemberEventRecord,
    MessageDeleteRecord,
    MessageEditRecord,
    MessageRecord,
    ReactionChangeRecord,
    ThreadRecord,
)
from core.capture.sightings import GuildChannelRecord

if TYPE_CHECKING:
    from bot.discord_bot import FramesBot

log = logging.getLogger(__name__)

_KINDS = {
    discord.MessageType.default: "default",
    discord.MessageType.reply: "reply",
    discord.MessageType.thread_created: "thread_created",
    discord.MessageType.new_member: "member_join",
    discord.MessageType.pins_add: "pin",
    discord.MessageType.thread_starter_message: "thread_starter",
    discord.MessageType.chat_input_command: "reply",
}
_KINDS_BY_VALUE = {message_type.value: kind for message_type, kind in _KINDS.items()}
_ROLE_MENTION = re.compile(r"<@&([0-9]{15,20})>")  # as discord.Message.raw_role_mentions


def _parent_of(channel: object) -> int | None:
    return channel.parent_id if isinstance(channel, discord.Thread) else None


def message_record(message: discord.Message, *, source: str = "gateway") -> MessageRecord:
    channel = message.channel
    reference = message.reference
    return MessageRecord(
        id=message.id,
        channel_id=channel.id,
        author_id=message.author.id,
        timestamp=message.created_at,
        content=message.content,
        guild_id=message.guild.id if message.guild else None,
        parent_channel_id=_parent_of(channel),
        author_name=message.author.name,
        author_display_name=message.author.display_name,
        author_is_bot=message.author.bot,
        kind=_KINDS.get(message.type, "system"),
        edited_at=message.edited_at,
        reference_id=reference.message_id if reference else None,
        referenced_channel_id=(
            reference.channel_id
            if reference and message.type is discord.MessageType.thread_created
            else None
        ),
        mention_user_ids=tuple(dict.fromkeys(u.id for u in message.mentions)),
        mention_role_ids=tuple(message.raw_role_mentions),
        role_member_ids=tuple(
            dict.fromkeys(member.id for role in message.role_mentions for member in role.members)
        ),
        attachments=tuple(AttachmentRecord(a.filename, a.size, a.url) for a in message.attachments),
        embed_urls=tuple(e.url for e in message.embeds if e.url),
        is_pinned=message.pinned,
        is_dm=message.guild is None,
        dm_recipient_ids=_dm_recipients(message) if message.guild is None else (),
        source=source,
    )


def _dm_recipients(message: discord.Message) -> tuple[int, ...]:
    channel = message.channel
    people = getattr(channel, "recipients", None) or [getattr(channel, "recipient", None)]
    me = getattr(channel, "me", None)
    ids = {user.id for user in (*people, me) if user is not None}
    return tuple(sorted(ids - {message.author.id}))


def message_record_from_payload(
    data: Mapping[str, Any], guild: discord.Guild, *, source: str = "gateway"
) -> MessageRecord:
    """A guild message's gateway payload as the record ``message_record`` makes from the
    ``discord.Message`` discord.py would build from it (field for field; the guild's cache
    gives the thread's parent and the members of mentioned roles, as it does there)."""
    message_id = int(data["id"])
    channel_id = int(data["channel_id"])
    author = data["author"]
    author_id = int(author["id"])
    member = data.get("member")
    if member is not None:
        nick = member.get("nick")
    else:
        cached = guild.get_member(author_id)
        nick = cached.nick if cached is not None else None
    kind = _KINDS_BY_VALUE.get(data["type"], "system")
    reference = data.get("message_reference")
    content = data["content"]
    role_members: dict[int, None] = {}
    for role_id in data.get("mention_roles") or ():
        role = guild.get_role(int(role_id))
        if role is not None:
            role_members.update(dict.fromkeys(m.id for m in role.members))
    return MessageRecord(
        id=message_id,
        channel_id=channel_id,
        author_id=author_id,
        timestamp=discord.utils.snowflake_time(message_id),
        content=content,
        guild_id=guild.id,
        parent_channel_id=_parent_of(guild.get_channel_or_thread(channel_id)),
        author_name=author["username"],
        author_display_name=nick or author.get("global_name") or author["username"],
        author_is_bot=author.get("bot", False),
        kind=kind,
        edited_at=discord.utils.parse_time(data.get("edited_timestamp")),
        reference_id=(
            int(reference["message_id"]) if reference and reference.get("message_id") else None
        ),
        referenced_channel_id=(
            int(reference["channel_id"]) if reference and kind == "thread_created" else None
        ),
        mention_user_ids=tuple(
            dict.fromkeys(int(u["id"]) for u in data.get("mentions") or () if u)
        ),
        mention_role_ids=tuple(int(r) for r in _ROLE_MENTION.findall(content)),
        role_member_ids=tuple(role_members),
        attachments=tuple(
            AttachmentRecord(a["filename"], a["size"], a["url"])
            for a in data.get("attachments") or ()
        ),
        embed_urls=tuple(str(e["url"]) for e in data.get("embeds") or () if e.get("url")),
        is_pinned=data.get("pinned", False),
        is_dm=False,
        source=source,
    )


def thread_record(thread: discord.Thread) -> ThreadRecord:
    return ThreadRecord(
        thread.id,
        thread.guild.id,
        thread.parent_id,
        thread.name,
        thread.owner_id,
        thread.created_at or discord.utils.snowflake_time(thread.id),
        "forum_post" if isinstance(thread.parent, discord.ForumChannel) else "thread",
    )


def guild_channel_record(channel: discord.abc.GuildChannel) -> GuildChannelRecord:
    return GuildChannelRecord(
        channel.id, channel.guild.id, channel.category_id, str(channel.type), channel.name
    )


class CaptureCog(commands.Cog):
    def __init__(self, bot: FramesBot, pipeline: CapturePipeline) -> None:
        self.bot = bot
        self.pipeline = pipeline

    async def cog_load(self) -> None:
        self.bot.message_payloads = self.message_payload

    async def cog_unload(self) -> None:
        if self.bot.message_payloads == self.message_payload:
            self.bot.message_payloads = None

    # --- messages: the hot path ---------------------------------------------------------------
    def message_payload(self, data: dict[str, Any]) -> bool:
        """A guild MESSAGE_CREATE payload, called from inside discord.py's parser; False
        when discord.py should build the ``discord.Message`` after all (guild not cached)."""
        guild = self.bot.get_guild(int(data["guild_id"]))
        if guild is None:
            return False
        record = message_record_from_payload(data, guild)
        # Handed over on the loop's next turn, not now: the handlers discord.py scheduled
        # for earlier events (edits, deletes, reactions) run first, so records reach the
        # queue in gateway order.
        asyncio.get_running_loop().call_soon(self.pipeline.offer, record)
        return True

    async def _capture(self, event: str, build: Callable[[], Iterable[CaptureItem]]) -> None:
        try:
            items = list(build())
        except Exception:
            # A malformed payload must never stop capture: log what it was and move on.
            log.exception("capture: could not read a %s event; skipped", event)
            return
        for item in items:
            await self.pipeline.put(item)

    def _parent(self, channel_id: int) -> int | None:
        return _parent_of(self.bot.get_channel(channel_id))

    # --- gap-free backfill (core.capture.backfill) ----------------------------------------
    # READY itself freezes checkpoints (``FramesBot``, before any event of the session is
    # parsed); the catch-up starts once the shard's guilds are in the cache.
    @commands.Cog.listener()
    async def on_shard_ready(self, shard_id: int) -> None:
        if self.bot.backfill is not None:
            self.bot.backfill.request(f"shard {shard_id} ready")

    @commands.Cog.listener()
    async def on_shard_resumed(self, shard_id: int) -> None:
        if self.bot.backfill is not None:
            self.bot.backfill.request(f"shard {shard_id} resumed")

    # --- messages ---------------------------------------------------------------------------
    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        await self._capture("MESSAGE_CREATE", lambda: [message_record(message)])

    @commands.Cog.listener()
    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        def build() -> list[CaptureItem]:
            data = payload.data
            if "author" in data and "timestamp" in data and data.get("edited_timestamp"):
                # A full message (the norm since API v10): stored like a create, newest wins.
                return [message_record(payload.message)]
            if "content" not in data or not data.get("edited_timestamp"):
                return []  # an embed unfurl or a flag change: no content changed
            edited_at = discord.utils.parse_time(data["edited_timestamp"])
            if edited_at is None:
                return []
            return [
                MessageEditRecord(
                    payload.message_id,
                    payload.channel_id,
                    edited_at,
                    str(data["content"]),
                    payload.guild_id,
                    self._parent(payload.channel_id),
                )
            ]

        await self._capture("MESSAGE_UPDATE", build)

    @commands.Cog.listener()
    async def on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        await self._capture(
            "MESSAGE_DELETE",
            lambda: [
                MessageDeleteRecord(
                    payload.message_id,
                    payload.channel_id,
                    discord.utils.utcnow(),
                    payload.guild_id,
                    self._parent(payload.channel_id),
                )
            ],
        )

    @commands.Cog.listener()
    async def on_raw_bulk_message_delete(self, payload: discord.RawBulkMessageDeleteEvent) -> None:
        def build() -> list[CaptureItem]:
            now, parent = discord.utils.utcnow(), self._parent(payload.channel_id)
            return [
                MessageDeleteRecord(m, payload.channel_id, now, payload.guild_id, parent)
                for m in sorted(payload.message_ids)
            ]

        await self._capture("MESSAGE_DELETE_BULK", build)

    # --- reactions --------------------------------------------------------------------------
    async def _reaction(self, event: str, payload: discord.RawReactionActionEvent) -> None:
        await self._capture(
            event,
            lambda: [
                ReactionChangeRecord(
                    payload.message_id,
                    payload.channel_id,
                    payload.user_id,
                    str(payload.emoji),
                    payload.event_type == "REACTION_ADD",
                    discord.utils.utcnow(),
                    payload.guild_id,
                    self._parent(payload.channel_id),
                )
            ],
        )

    @commands.Cog.listener()
    async def on_raw_reaction_add(self, payload: discord.RawReactionActionEvent) -> None:
        await self._reaction("MESSAGE_REACTION_ADD", payload)

    @commands.Cog.listener()
    async def on_raw_reaction_remove(self, payload: discord.RawReactionActionEvent) -> None:
        await self._reaction("MESSAGE_REACTION_REMOVE", payload)

    # --- threads ----------------------------------------------------------------------------
    @commands.Cog.listener()
    async def on_thread_create(self, thread: discord.Thread) -> None:
        await self._capture("THREAD_CREATE", lambda: [thread_record(thread)])

    # --- guild channels: categories for `frames channels map --category`, names ------------
    async def _guild_channels(self, event: str, guild: discord.Guild) -> None:
        await self._capture(event, lambda: [guild_channel_record(c) for c in guild.channels])

    @commands.Cog.listener()
    async def on_guild_available(self, guild: discord.Guild) -> None:
        await self._guild_channels("GUILD_CREATE", guild)

    @commands.Cog.listener()
    async def on_guild_join(self, guild: discord.Guild) -> None:
        await self._guild_channels("GUILD_CREATE", guild)

    @commands.Cog.listener()
    async def on_guild_channel_create(self, channel: discord.abc.GuildChannel) -> None:
        await self._capture("CHANNEL_CREATE", lambda: [guild_channel_record(channel)])

    @commands.Cog.listener()
    async def on_guild_channel_update(
        self, before: discord.abc.GuildChannel, after: discord.abc.GuildChannel
    ) -> None:
        await self._capture("CHANNEL_UPDATE", lambda: [guild_channel_record(after)])

    # --- members ----------------------------------------------------------------------------
    @commands.Cog.listener()
    async def on_member_join(self, member: discord.Member) -> None:
        await self._capture(
            "GUILD_MEMBER_ADD",
            lambda: [
                MemberEventRecord(
                    member.guild.id,
                    member.id,
                    "join",
                    member.joined_at or discord.utils.utcnow(),
                    member.name,
                    member.bot,
                    # No roles here: the cached member may already reflect later updates
                    # by the time this runs; role sets travel in "roles" events.
                )
            ],
        )

    @commands.Cog.listener()
    async def on_raw_member_remove(self, payload: discord.RawMemberRemoveEvent) -> None:
        await self._capture(
            "GUILD_MEMBER_REMOVE",
            lambda: [
                MemberEventRecord(
                    payload.guild_id,
                    payload.user.id,
                    "leave",
                    discord.utils.utcnow(),
                    payload.user.name,
                    payload.user.bot,
                )
            ],
        )

    @commands.Cog.listener()
    async def on_member_update(self, before: discord.Member, after: discord.Member) -> None:
        if before.roles == after.roles:
            return
        await self._capture(
            "GUILD_MEMBER_UPDATE",
            lambda: [
                MemberEventRecord(
                    after.guild.id,
                    after.id,
                    "roles",
                    discord.utils.utcnow(),
                    after.name,
                    after.bot,
                    tuple(sorted(r.id for r in after.roles if not r.is_default())),
                )
            ],
        )
