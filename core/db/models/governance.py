"""Consent, audit trail, panel accounts and export jobs."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, Index, text
from sqlalchemy.orm import Mapped, mapped_column

from core.db.models.base import Base, CreatedAt, Json, Timestamp

RESEARCH_SCOPE = "research"  # what a consent decision covers unless it says otherwise


class Consent(Base):
    """One consent decision; a person's current state is their latest row per scope."""

    __tablename__ = "consents"
    __table_args__ = (
        CheckConstraint("status IN ('granted', 'withdrawn')", name="status"),
        Index("ix_consents_person_id_recorded_at", "person_id", "recorded_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    university_id: Mapped[str] = mapped_column(ForeignKey("universities.id", ondelete="CASCADE"))
    scope: Mapped[str] = mapped_column(server_default=RESEARCH_SCOPE)
    status: Mapped[str]
    consent_text_version: Mapped[str] = mapped_column(server_default="v1")
    source: Mapped[str]  # roster, slash-command, panel
    recorded_at: Mapped[CreatedAt]


class AuditLog(Base):
    __tablename__ = "audit_logs"
    __table_args__ = (
        Index("ix_audit_logs_occurred_at_brin", "occurred_at", postgresql_using="brin"),
        Index("ix_audit_logs_action", "action"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    occurred_at: Mapped[CreatedAt]
    actor: Mapped[str]  # cli:<os user>, discord:<user id>, panel:<username>
    action: Mapped[str]  # e.g. org.import, channels.map, export.create
    target_type: Mapped[str | None]
    target_id: Mapped[str | None]
    university_id: Mapped[str | None] = mapped_column(
        ForeignKey("universities.id", ondelete="SET NULL")
    )
    details: Mapped[Json]


class PanelUser(Base):
    __tablename__ = "panel_users"
    __table_args__ = (
        CheckConstraint(
            "role IN ('admin', 'researcher', 'faculty', 'lead', 'member', 'viewer')", name="role"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(unique=True)
    password_hash: Mapped[str]
    role: Mapped[str]
    university_id: Mapped[str | None] = mapped_column(
        ForeignKey("universities.id", ondelete="CASCADE")
    )
    person_id: Mapped[str | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    disabled: Mapped[bool] = mapped_column(server_default=text("false"))
    created_at: Mapped[CreatedAt]


class ExportJob(Base):
    __tablename__ = "export_jobs"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    requested_by: Mapped[int | None] = mapped_column(
        ForeignKey("panel_users.id", ondelete="SET NULL")
    )
    study_id: Mapped[str]
    export_format: Mapped[str]  # csv, parquet, graphml
    scope: Mapped[Json]
    status: Mapped[str] = mapped_column(server_default="pending")
    row_count: Mapped[int | None]
    path: Mapped[str | None]
    university_id: Mapped[str | None] = mapped_column(
        ForeignKey("universities.id", ondelete="CASCADE")
    )
    created_at: Mapped[CreatedAt]
    completed_at: Mapped[Timestamp | None]
