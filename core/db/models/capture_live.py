"""Live capture: changes that arrived before their message, and member events."""

from __future__ import annotations

from sqlalchemy import BigInteger, Index, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from core.db.models.base import Base, CreatedAt, Timestamp


class CapturePendingChange(Base):
    """An edit, delete or reaction whose message is not stored yet; applied, in id order,
    when the message arrives (so the change wins over the older message)."""

    __tablename__ = "capture_pending_changes"
    __table_args__ = (UniqueConstraint("message_id", "kind", "user_id", "emoji", "happened_at"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    message_id: Mapped[int]
    channel_id: Mapped[int]
    guild_id: Mapped[int | None]
    kind: Mapped[str]  # edit, delete, reaction_add, reaction_remove
    user_id: Mapped[int] = mapped_column(server_default=text("0"))
    emoji: Mapped[str] = mapped_column(server_default="")
    content: Mapped[str | None]
    happened_at: Mapped[Timestamp]
    created_at: Mapped[CreatedAt]


class DiscordMemberEvent(Base):
    """A member joined, left or had their roles changed (roles: the full set after)."""

    __tablename__ = "discord_member_events"
    __table_args__ = (
        UniqueConstraint("guild_id", "user_id", "kind", "happened_at"),
        Index("ix_discord_member_events_user_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    guild_id: Mapped[int]
    user_id: Mapped[int]
    kind: Mapped[str]  # join, leave, roles
    role_ids: Mapped[list[int]] = mapped_column(ARRAY(BigInteger), server_default="{}")
    happened_at: Mapped[Timestamp]
    created_at: Mapped[CreatedAt]
