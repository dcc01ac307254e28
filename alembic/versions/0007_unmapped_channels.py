"""Live capture: channels seen but not mapped.

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-04

The capture counts messages in channels that are not mapped (it never stores them);
``unmapped_channels_seen`` keeps those counts across restarts for
``frames channels list --unmapped`` and ``frames capture status``.
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0007"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "unmapped_channels_seen",
        sa.Column("channel_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=True),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("message_count", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel_id", name=op.f("pk_unmapped_channels_seen")),
    )


def downgrade() -> None:
    op.drop_table("unmapped_channels_seen")
