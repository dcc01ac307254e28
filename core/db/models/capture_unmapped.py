"""Channels the bot has seen messages in but that are not mapped: counted, never stored."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Mapped, mapped_column

from core.db.models.base import Base, Timestamp


class UnmappedChannelSeen(Base):
    """How many messages the live capture skipped in a channel because it is not mapped.

    Only counts and times are kept (no content, no authors). Threads count under their
    parent channel. A channel mapped later stops appearing in ``frames channels list
    --unmapped`` (the list filters by ``channel_mappings`` when it is read).
    """

    __tablename__ = "unmapped_channels_seen"

    channel_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    guild_id: Mapped[int | None]
    name: Mapped[str | None]
    message_count: Mapped[int] = mapped_column(server_default=text("0"))
    first_seen_at: Mapped[Timestamp]  # the oldest skipped message's time
    last_seen_at: Mapped[Timestamp]  # the newest
