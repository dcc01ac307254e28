"""NDA diagnostics: assessment registry, energy-loss factor models, outcomes, time series."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import CheckConstraint, Date, Float, ForeignKey, Index, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from core.db.models.base import Base, CreatedAt, Json, Timestamp

CATEGORY_STATUSES = ("emergent", "provisional", "established")
OUTCOME_TYPES = (
    "mission_success",
    "mission_failure",
    "program_success",
    "program_failure",
    "failure_event",
)


class AssessmentLayer(Base):
    """A lens researchers assess interfaces through (the six NDA dimensions, knowledge type...)."""

    __tablename__ = "assessment_layers"

    id: Mapped[str] = mapped_column(primary_key=True)
    name: Mapped[str]
    description: Mapped[str | None]
    is_builtin: Mapped[bool] = mapped_column(server_default=text("false"))
    created_at: Mapped[CreatedAt]


class AssessmentCategory(Base):
    __tablename__ = "assessment_categories"
    __table_args__ = (
        UniqueConstraint("layer_id", "key"),
        CheckConstraint("status IN ('emergent', 'provisional', 'established')", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    layer_id: Mapped[str] = mapped_column(ForeignKey("assessment_layers.id", ondelete="CASCADE"))
    key: Mapped[str]
    name: Mapped[str]
    description: Mapped[str | None]
    status: Mapped[str] = mapped_column(server_default="emergent")
    evidence_count: Mapped[int] = mapped_column(server_default="0")
    created_at: Mapped[CreatedAt]


class InterfaceAssessment(Base):
    """A researcher's (or a model's) reading of one interface under one category."""

    __tablename__ = "interface_assessments"
    __table_args__ = (
        Index("ix_interface_assessments_interface", "interface_source", "interface_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    interface_source: Mapped[str]  # discord, pm, manual (as in the interfaces view)
    interface_id: Mapped[int]
    category_id: Mapped[int] = mapped_column(
        ForeignKey("assessment_categories.id", ondelete="CASCADE")
    )
    score: Mapped[float | None] = mapped_column(Float)
    note: Mapped[str | None]
    assessed_by: Mapped[str | None]
    university_id: Mapped[str | None] = mapped_column(
        ForeignKey("universities.id", ondelete="CASCADE")
    )
    created_at: Mapped[CreatedAt]


class EnergyLossModel(Base):
    """Factor weights for energy loss, stored as data: several coexist, one is active."""

    __tablename__ = "energy_loss_models"
    __table_args__ = (
        Index(
            "uq_energy_loss_models_active",
            "is_active",
            unique=True,
            postgresql_where=text("is_active"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(unique=True)
    factors: Mapped[Json]
    is_active: Mapped[bool] = mapped_column(server_default=text("false"))
    created_by: Mapped[str | None]
    created_at: Mapped[CreatedAt]


class Outcome(Base):
    """Mission and program success/failure, and failure events: the labels models learn from."""

    __tablename__ = "outcomes"
    __table_args__ = (
        CheckConstraint(
            "outcome_type IN ('mission_success', 'mission_failure', 'program_success', "
            "'program_failure', 'failure_event')",
            name="outcome_type",
        ),
        Index("ix_outcomes_occurred_on", "occurred_on"),
    )

    id: Mapped[str] = mapped_column(primary_key=True)
    university_id: Mapped[str | None] = mapped_column(
        ForeignKey("universities.id", ondelete="CASCADE")
    )
    program_id: Mapped[str | None] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"))
    project_id: Mapped[str | None] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    team_id: Mapped[str | None] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    outcome_type: Mapped[str]
    category: Mapped[str | None]
    occurred_on: Mapped[dt.date] = mapped_column(Date)
    description: Mapped[str | None]
    interface_source: Mapped[str | None]  # a failure event may point at an interface
    interface_id: Mapped[int | None]
    metadata_: Mapped[Json] = mapped_column("metadata")
    created_at: Mapped[CreatedAt]


class NDAReport(Base):
    """One dimension's value for one scope and week in one analysis run."""

    __tablename__ = "nda_reports"
    __table_args__ = (
        UniqueConstraint("run_id", "scope_type", "scope_id", "week_start", "dimension"),
        Index("ix_nda_reports_week_start_brin", "week_start", postgresql_using="brin"),
        CheckConstraint("risk IS NULL OR risk BETWEEN 0 AND 100", name="risk_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    run_id: Mapped[uuid.UUID]
    scope_type: Mapped[str]  # team, university, program
    scope_id: Mapped[str]
    university_id: Mapped[str | None] = mapped_column(
        ForeignKey("universities.id", ondelete="CASCADE")
    )
    week_start: Mapped[dt.date] = mapped_column(Date)
    dimension: Mapped[str]
    raw_value: Mapped[float | None] = mapped_column(Float)  # NULL = insufficient data
    unit: Mapped[str | None]
    risk: Mapped[float | None] = mapped_column(Float)
    band: Mapped[str | None]
    reading: Mapped[str | None]
    inputs: Mapped[Json]
    energy_loss_model_id: Mapped[int | None] = mapped_column(
        ForeignKey("energy_loss_models.id", ondelete="SET NULL")
    )
    computed_at: Mapped[CreatedAt]


class ActivityMetric(Base):
    """A time series point: one metric of one scope over one period (BRIN on period_start)."""

    __tablename__ = "activity_metrics"
    __table_args__ = (
        UniqueConstraint("scope_type", "scope_id", "metric", "period", "period_start"),
        Index("ix_activity_metrics_period_start_brin", "period_start", postgresql_using="brin"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    university_id: Mapped[str | None] = mapped_column(
        ForeignKey("universities.id", ondelete="CASCADE")
    )
    scope_type: Mapped[str]  # person, team, university, program
    scope_id: Mapped[str]
    metric: Mapped[str]
    period: Mapped[str] = mapped_column(server_default="week")
    period_start: Mapped[Timestamp]
    value: Mapped[float] = mapped_column(Float)
    computed_at: Mapped[CreatedAt]


class EngagementScore(Base):
    __tablename__ = "engagement_scores"
    __table_args__ = (
        UniqueConstraint("person_id", "period", "period_start"),
        Index("ix_engagement_scores_period_start_brin", "period_start", postgresql_using="brin"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    team_id: Mapped[str | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    university_id: Mapped[str] = mapped_column(ForeignKey("universities.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(server_default="week")
    period_start: Mapped[Timestamp]
    score: Mapped[float] = mapped_column(Float)
    components: Mapped[Json]
    computed_at: Mapped[CreatedAt]
