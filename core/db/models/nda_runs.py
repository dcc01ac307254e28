"""NDA engine runs and the per-week fingerprints that make ``frames nda run`` incremental."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Date, ForeignKey, Index
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from core.db.models.base import Base, CreatedAt, Json, Timestamp


class NDARun(Base):
    """One ``frames nda run``: engine version, parameters and the factor model it used.

    ``nda_reports.run_id`` points here, so every stored value can be traced to the exact
    code version, parameters and energy-loss factors that produced it.
    """

    __tablename__ = "nda_runs"
    __table_args__ = (Index("ix_nda_runs_started_at", "started_at"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    engine_version: Mapped[str]
    parameters: Mapped[Json]
    energy_loss_model_id: Mapped[int | None] = mapped_column(
        ForeignKey("energy_loss_models.id", ondelete="SET NULL")
    )
    # A copy of the factors as used: a model edited later must not rewrite history.
    energy_loss_model_name: Mapped[str | None]
    energy_loss_factors: Mapped[Json]
    weeks: Mapped[list[dt.date]] = mapped_column(ARRAY(Date), server_default="{}")
    status: Mapped[str] = mapped_column(server_default="running")  # running, succeeded, failed
    actor: Mapped[str | None]
    stats: Mapped[Json]  # counts and timings
    started_at: Mapped[CreatedAt]
    finished_at: Mapped[Timestamp | None]


class NDAWeekState(Base):
    """What the last computation of a week saw; a week is recomputed when this changes."""

    __tablename__ = "nda_week_states"

    week_start: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    fingerprint: Mapped[str]
    run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("nda_runs.id", ondelete="CASCADE"))
    computed_at: Mapped[CreatedAt]
