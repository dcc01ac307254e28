"""Interfaces: the typed, timestamped edges that carry knowledge between people.

Three sources keep their own tables (their evidence differs) and the ``interfaces`` view
(see the migration) unites them in one shape for analysis.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, Float, ForeignKey, Index, UniqueConstraint
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from core.db.models.base import Base, CreatedAt, Json, Timestamp

DISCORD_INTERFACE_TYPES = ("reply", "mention", "thread", "dm", "reaction", "inferred_reply")
PM_INTERFACE_TYPES = ("task_assignment", "collaboration", "handoff", "comment", "review")


class DiscordInterface(Base):
    __tablename__ = "discord_interfaces"
    __table_args__ = (
        # Re-deriving the same message yields the same rows: this key makes writes idempotent.
        UniqueConstraint("interaction_type", "source_message_id", "from_user_id", "to_user_id"),
        Index("ix_discord_interfaces_timestamp_brin", "timestamp", postgresql_using="brin"),
        Index("ix_discord_interfaces_from_user_id", "from_user_id"),
        Index("ix_discord_interfaces_to_user_id", "to_user_id"),
        Index("ix_discord_interfaces_university_id_timestamp", "university_id", "timestamp"),
        CheckConstraint("weight >= 0", name="weight_non_negative"),
        CheckConstraint(
            "knowledge_transfer_score BETWEEN 0 AND 1", name="knowledge_transfer_score_range"
        ),
    )

    # --- the seed's columns ---
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    from_user_id: Mapped[int]
    to_user_id: Mapped[int]
    interaction_type: Mapped[str]
    knowledge_transfer_score: Mapped[float] = mapped_column(Float, server_default="0")
    timestamp: Mapped[Timestamp]
    message_ids: Mapped[list[int]] = mapped_column(ARRAY(BigInteger))
    # --- widened ---
    source_message_id: Mapped[int]
    guild_id: Mapped[int | None]
    channel_id: Mapped[int | None]
    university_id: Mapped[str | None] = mapped_column(
        ForeignKey("universities.id", ondelete="CASCADE")
    )
    team_id: Mapped[str | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    weight: Mapped[float] = mapped_column(Float, server_default="1")
    confidence: Mapped[float] = mapped_column(Float, server_default="1")
    features: Mapped[Json]  # what decided an inferred edge; empty for explicit ones
    created_at: Mapped[CreatedAt]


class PMInterface(Base):
    __tablename__ = "pm_interfaces"
    __table_args__ = (
        UniqueConstraint("event_id", "interface_type", "from_entity", "to_entity"),
        Index("ix_pm_interfaces_timestamp_brin", "timestamp", postgresql_using="brin"),
        Index("ix_pm_interfaces_task_id", "task_id"),
    )

    # --- the seed's columns ---
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    task_id: Mapped[str] = mapped_column(ForeignKey("pm_tasks.id", ondelete="CASCADE"))
    from_entity: Mapped[str]  # identity reference, e.g. github:octocat
    to_entity: Mapped[str]
    interface_type: Mapped[str]
    timestamp: Mapped[Timestamp]
    # --- widened ---
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("pm_task_events.id", ondelete="CASCADE")
    )
    from_person_id: Mapped[str | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    to_person_id: Mapped[str | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    university_id: Mapped[str | None] = mapped_column(
        ForeignKey("universities.id", ondelete="CASCADE")
    )
    team_id: Mapped[str | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    weight: Mapped[float] = mapped_column(Float, server_default="1")
    knowledge_transfer_score: Mapped[float] = mapped_column(Float, server_default="0")
    metadata_: Mapped[Json] = mapped_column("metadata")
    created_at: Mapped[CreatedAt]


class ManualInterface(Base):
    """An interface logged by a person (slash command or panel form)."""

    __tablename__ = "manual_interfaces"
    __table_args__ = (
        Index("ix_manual_interfaces_timestamp_brin", "timestamp", postgresql_using="brin"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    from_person_id: Mapped[str] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    to_person_id: Mapped[str | None] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    to_team_id: Mapped[str | None] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    interface_type: Mapped[str]  # manual, handoff, meeting, review...
    description: Mapped[str | None]
    timestamp: Mapped[Timestamp]
    university_id: Mapped[str] = mapped_column(ForeignKey("universities.id", ondelete="CASCADE"))
    weight: Mapped[float] = mapped_column(Float, server_default="1")
    knowledge_transfer_score: Mapped[float] = mapped_column(Float, server_default="0.5")
    logged_by_person_id: Mapped[str | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL")
    )
    created_at: Mapped[CreatedAt]
