"""NDA engine: runs (engine version, parameters, factor model used) and per-week fingerprints.

Revision ID: 0004
Revises: 0002
Create Date: 2026-11-26

``nda_reports.run_id`` refers to ``nda_runs.id``; ``nda_week_states`` remembers what each
week's last computation saw, so ``frames nda run`` recomputes only weeks whose data changed.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = "0004"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = ("nda",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "nda_runs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("engine_version", sa.Text(), nullable=False),
        sa.Column(
            "parameters",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="{}",
            nullable=False,
        ),
        sa.Column("energy_loss_model_id", sa.BigInteger(), nullable=True),
        sa.Column("energy_loss_model_name", sa.Text(), nullable=True),
        sa.Column(
            "energy_loss_factors",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="{}",
            nullable=False,
        ),
        sa.Column("weeks", postgresql.ARRAY(sa.Date()), server_default="{}", nullable=False),
        sa.Column("status", sa.Text(), server_default="running", nullable=False),
        sa.Column("actor", sa.Text(), nullable=True),
        sa.Column(
            "stats", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column(
            "started_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["energy_loss_model_id"],
            ["energy_loss_models.id"],
            name=op.f("fk_nda_runs_energy_loss_model_id_energy_loss_models"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nda_runs")),
    )
    op.create_index("ix_nda_runs_started_at", "nda_runs", ["started_at"], unique=False)
    op.create_table(
        "nda_week_states",
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("fingerprint", sa.Text(), nullable=False),
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column(
            "computed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["nda_runs.id"],
            name=op.f("fk_nda_week_states_run_id_nda_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("week_start", name=op.f("pk_nda_week_states")),
    )


def downgrade() -> None:
    op.drop_table("nda_week_states")
    op.drop_index("ix_nda_runs_started_at", table_name="nda_runs")
    op.drop_table("nda_runs")
