"""What the Discord capture stores: messages, reactions, channels and backfill checkpoints."""

from __future__ import annotations

from sqlalchemy import Computed, ForeignKey, Index, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from core.db.models.base import Base, CreatedAt, Json, Timestamp

MESSAGE_TYPES = ("question", "answer", "handoff", "documentation", "announcement", "other")


class DiscordMessage(Base):
    """One row per message id, holding its current content (edits overwrite, deletes mark).

    ``content`` is NULL when consent or the university's consent mode forbids storing it;
    the metadata (ids, times, type) is still kept so the interface graph stays whole.
    """

    __tablename__ = "discord_messages"
    __table_args__ = (
        Index("ix_discord_messages_timestamp_brin", "timestamp", postgresql_using="brin"),
        Index("ix_discord_messages_channel_id_timestamp", "channel_id", "timestamp"),
        Index("ix_discord_messages_author_id_timestamp", "author_id", "timestamp"),
        Index("ix_discord_messages_university_id_timestamp", "university_id", "timestamp"),
        Index("ix_discord_messages_search_vector", "search_vector", postgresql_using="gin"),
    )

    # --- the seed's columns ---
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    channel_id: Mapped[int]
    author_id: Mapped[int]
    content: Mapped[str | None]
    timestamp: Mapped[Timestamp]
    university_id: Mapped[str | None] = mapped_column(
        ForeignKey("universities.id", ondelete="CASCADE")
    )
    team_id: Mapped[str | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    message_type: Mapped[str] = mapped_column(server_default="other")
    metadata_: Mapped[Json] = mapped_column("metadata")
    # --- widened ---
    guild_id: Mapped[int | None]  # NULL for DMs
    thread_id: Mapped[int | None]  # the thread, when the message is in one (channel_id: its parent)
    program_id: Mapped[str | None] = mapped_column(ForeignKey("programs.id", ondelete="SET NULL"))
    reference_id: Mapped[int | None]  # the message this one replies to (reply feature)
    is_bot: Mapped[bool] = mapped_column(server_default=text("false"))
    is_dm: Mapped[bool] = mapped_column(server_default=text("false"))
    edited_at: Mapped[Timestamp | None]
    deleted_at: Mapped[Timestamp | None]
    source: Mapped[str] = mapped_column(server_default="gateway")  # gateway, backfill, dce, slack
    search_vector: Mapped[str | None] = mapped_column(
        TSVECTOR, Computed("to_tsvector('english', coalesce(content, ''))", persisted=True)
    )
    captured_at: Mapped[CreatedAt]


class DiscordReaction(Base):
    __tablename__ = "discord_reactions"
    __table_args__ = (
        Index("ix_discord_reactions_created_at_brin", "created_at", postgresql_using="brin"),
    )

    message_id: Mapped[int] = mapped_column(
        ForeignKey("discord_messages.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    emoji: Mapped[str] = mapped_column(primary_key=True)
    channel_id: Mapped[int]
    university_id: Mapped[str | None] = mapped_column(
        ForeignKey("universities.id", ondelete="CASCADE")
    )
    created_at: Mapped[Timestamp]
    removed_at: Mapped[Timestamp | None]


class DiscordChannel(Base):
    """Channels and threads seen, so a thread resolves to its parent channel's mapping."""

    __tablename__ = "discord_channels"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    guild_id: Mapped[int | None]
    parent_id: Mapped[int | None]
    kind: Mapped[str]  # text, forum, public_thread, private_thread, dm, ...
    name: Mapped[str | None]
    university_id: Mapped[str | None] = mapped_column(
        ForeignKey("universities.id", ondelete="CASCADE")
    )
    metadata_: Mapped[Json] = mapped_column("metadata")
    created_at: Mapped[CreatedAt]


class CaptureCheckpoint(Base):
    """How far each channel is known to be complete, for gap-free backfill after downtime."""

    __tablename__ = "capture_checkpoints"
    __table_args__ = (UniqueConstraint("channel_id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    guild_id: Mapped[int | None]
    channel_id: Mapped[int]
    university_id: Mapped[str | None] = mapped_column(
        ForeignKey("universities.id", ondelete="CASCADE")
    )
    last_message_id: Mapped[int | None]
    backfilled_until: Mapped[Timestamp | None]
    updated_at: Mapped[CreatedAt]
