"""Live capture: pending message changes and member events.

Revision ID: 0005
Revises: 0002
Create Date: 2026-11-27

An edit, delete or reaction that arrives before its message is kept in
``capture_pending_changes`` and applied when the message is stored.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = "0005"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = ("capture",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "capture_pending_changes",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("channel_id", sa.BigInteger(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=True),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("emoji", sa.Text(), server_default="", nullable=False),
        sa.Column("content", sa.Text(), nullable=True),
        sa.Column("happened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_capture_pending_changes")),
        sa.UniqueConstraint(
            "message_id",
            "kind",
            "user_id",
            "emoji",
            "happened_at",
            name=op.f("uq_capture_pending_changes_message_id_kind_user_id_emoji_happened_at"),
        ),
    )
    op.create_table(
        "discord_member_events",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column(
            "role_ids", postgresql.ARRAY(sa.BigInteger()), server_default="{}", nullable=False
        ),
        sa.Column("happened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_discord_member_events")),
        sa.UniqueConstraint(
            "guild_id",
            "user_id",
            "kind",
            "happened_at",
            name=op.f("uq_discord_member_events_guild_id_user_id_kind_happened_at"),
        ),
    )
    op.create_index(
        "ix_discord_member_events_user_id", "discord_member_events", ["user_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_discord_member_events_user_id", table_name="discord_member_events")
    op.drop_table("discord_member_events")
    op.drop_table("capture_pending_changes")
