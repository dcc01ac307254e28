"""Project-management tools: identity-link suggestions, webhook deliveries and handshake secrets.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = ("pm",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "identity_suggestions",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("identity_id", sa.BigInteger(), nullable=False),
        sa.Column("person_id", sa.Text(), nullable=False),
        sa.Column("university_id", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column(
            "evidence", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column("status", sa.Text(), server_default="pending", nullable=False),
        sa.Column("snoozed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.Text(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'accepted', 'rejected', 'snoozed')",
            name=op.f("ck_identity_suggestions_status"),
        ),
        sa.CheckConstraint(
            "score BETWEEN 0 AND 1", name=op.f("ck_identity_suggestions_score_range")
        ),
        sa.ForeignKeyConstraint(
            ["identity_id"],
            ["identities.id"],
            name=op.f("fk_identity_suggestions_identity_id_identities"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_identity_suggestions_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["university_id"],
            ["universities.id"],
            name=op.f("fk_identity_suggestions_university_id_universities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_suggestions")),
        sa.UniqueConstraint(
            "identity_id", "person_id", name=op.f("uq_identity_suggestions_identity_id_person_id")
        ),
    )
    op.create_index(
        "ix_identity_suggestions_status", "identity_suggestions", ["status"], unique=False
    )

    op.create_table(
        "pm_webhook_deliveries",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("connection_id", sa.Text(), nullable=False),
        sa.Column("tool", sa.Text(), nullable=False),
        sa.Column("delivery_id", sa.Text(), nullable=False),
        sa.Column("event_type", sa.Text(), nullable=True),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("status", sa.Text(), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column(
            "received_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'processed', 'ignored', 'failed')",
            name=op.f("ck_pm_webhook_deliveries_status"),
        ),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["pm_connections.id"],
            name=op.f("fk_pm_webhook_deliveries_connection_id_pm_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pm_webhook_deliveries")),
        sa.UniqueConstraint(
            "connection_id",
            "delivery_id",
            name=op.f("uq_pm_webhook_deliveries_connection_id_delivery_id"),
        ),
    )
    op.create_index(
        "ix_pm_webhook_deliveries_status_id",
        "pm_webhook_deliveries",
        ["status", "id"],
        unique=False,
    )

    op.create_table(
        "pm_webhook_secrets",
        sa.Column("connection_id", sa.Text(), nullable=False),
        sa.Column("encrypted_secret", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["pm_connections.id"],
            name=op.f("fk_pm_webhook_secrets_connection_id_pm_connections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("connection_id", name=op.f("pk_pm_webhook_secrets")),
    )


def downgrade() -> None:
    op.drop_table("pm_webhook_secrets")
    op.drop_index("ix_pm_webhook_deliveries_status_id", table_name="pm_webhook_deliveries")
    op.drop_table("pm_webhook_deliveries")
    op.drop_index("ix_identity_suggestions_status", table_name="identity_suggestions")
    op.drop_table("identity_suggestions")
