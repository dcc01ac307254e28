"""Project-management tools: connections, tasks, task events and dependencies."""

from __future__ import annotations

from sqlalchemy import ForeignKey, Index, Integer, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from core.db.models.base import Base, CreatedAt, Json, Timestamp

PM_TOOLS = ("github", "jira", "asana", "trello", "monday")


class PMConnection(Base):
    """One polled/webhooked scope of one tool. Secrets are referenced by name, never stored."""

    __tablename__ = "pm_connections"

    id: Mapped[str] = mapped_column(primary_key=True)  # e.g. github-cpp-flight
    tool: Mapped[str]
    team_id: Mapped[str | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    university_id: Mapped[str | None] = mapped_column(
        ForeignKey("universities.id", ondelete="CASCADE")
    )
    scope: Mapped[Json]  # repo, project key, board id, workspace...
    base_url: Mapped[str | None]
    secret_ref: Mapped[str | None]  # environment variable or secrets-file key
    webhook_secret_ref: Mapped[str | None]
    cursor: Mapped[Json]  # updated-since timestamp or last event id
    poll_interval_seconds: Mapped[int] = mapped_column(Integer, server_default="900")
    enabled: Mapped[bool] = mapped_column(server_default=text("true"))
    last_synced_at: Mapped[Timestamp | None]
    created_at: Mapped[CreatedAt]


class PMTask(Base):
    __tablename__ = "pm_tasks"
    __table_args__ = (
        Index("ix_pm_tasks_updated_at_brin", "updated_at", postgresql_using="brin"),
        Index("ix_pm_tasks_team_id", "team_id"),
    )

    # --- the seed's columns; id is namespaced by tool and connection: github:org/repo#12 ---
    id: Mapped[str] = mapped_column(primary_key=True)
    project_id: Mapped[str | None] = mapped_column(ForeignKey("projects.id", ondelete="SET NULL"))
    title: Mapped[str]
    description: Mapped[str | None]
    assigned_to: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default="{}")
    status: Mapped[str]
    created_at: Mapped[Timestamp]
    completed_at: Mapped[Timestamp | None]
    metadata_: Mapped[Json] = mapped_column("metadata")
    # --- widened ---
    source: Mapped[str]  # the tool
    connection_id: Mapped[str | None] = mapped_column(
        ForeignKey("pm_connections.id", ondelete="SET NULL")
    )
    url: Mapped[str | None]
    team_id: Mapped[str | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    university_id: Mapped[str | None] = mapped_column(
        ForeignKey("universities.id", ondelete="CASCADE")
    )
    parent_id: Mapped[str | None]
    due_at: Mapped[Timestamp | None]
    updated_at: Mapped[Timestamp | None]
    raw: Mapped[Json]  # the vendor payload as received, for research


class PMTaskEvent(Base):
    """created, assigned, unassigned, reassigned (a handoff), status_changed, commented..."""

    __tablename__ = "pm_task_events"
    __table_args__ = (
        # A poll and a webhook for the same change share this key, so they store one event.
        UniqueConstraint("task_id", "dedupe_key"),
        Index("ix_pm_task_events_occurred_at_brin", "occurred_at", postgresql_using="brin"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    task_id: Mapped[str] = mapped_column(ForeignKey("pm_tasks.id", ondelete="CASCADE"))
    event_type: Mapped[str]
    actor: Mapped[str | None]
    subject: Mapped[str | None]
    from_value: Mapped[str | None]
    to_value: Mapped[str | None]
    occurred_at: Mapped[Timestamp]
    dedupe_key: Mapped[str]
    university_id: Mapped[str | None] = mapped_column(
        ForeignKey("universities.id", ondelete="CASCADE")
    )
    raw: Mapped[Json]
    created_at: Mapped[CreatedAt]


class PMTaskDependency(Base):
    __tablename__ = "pm_task_dependencies"

    task_id: Mapped[str] = mapped_column(
        ForeignKey("pm_tasks.id", ondelete="CASCADE"), primary_key=True
    )
    depends_on_task_id: Mapped[str] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(primary_key=True)  # blocks, subtask, link
    university_id: Mapped[str | None] = mapped_column(
        ForeignKey("universities.id", ondelete="CASCADE")
    )
    created_at: Mapped[CreatedAt]
