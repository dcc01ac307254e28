"""The interfaces view resolves Slack accounts as well as Discord ones.

Revision ID: 0006
Revises: 0002
Create Date: 2026-11-25

Slack imports go through the same capture tables as Discord (their ids live in a namespace
of their own), so the view links both providers' identities to people.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = ("slack",)
depends_on: str | Sequence[str] | None = None

CHAT_PROVIDERS = "('discord', 'slack')"


def _view(providers: str) -> str:
    # providers is one of the two constants below, never user input.
    return f"""
        CREATE OR REPLACE VIEW interfaces AS
        SELECT 'discord'::text AS source, di.id AS source_id,
               di.interaction_type AS interface_type,
               'discord:' || di.from_user_id AS from_ref, 'discord:' || di.to_user_id AS to_ref,
               fi.person_id AS from_person_id, ti.person_id AS to_person_id,
               NULL::text AS to_team_id, di.team_id, di.university_id,
               di.weight, di.knowledge_transfer_score, di.confidence, di.timestamp,
               di.message_ids::text[] AS evidence_ids
        FROM discord_interfaces di
        LEFT JOIN identities fi
               ON fi.provider IN {providers} AND fi.external_id = di.from_user_id::text
        LEFT JOIN identities ti
               ON ti.provider IN {providers} AND ti.external_id = di.to_user_id::text
        UNION ALL
        SELECT 'pm', pi.id, pi.interface_type, pi.from_entity, pi.to_entity,
               pi.from_person_id, pi.to_person_id, NULL, pi.team_id, pi.university_id,
               pi.weight, pi.knowledge_transfer_score, 1.0, pi.timestamp,
               ARRAY[pi.task_id]
        FROM pm_interfaces pi
        UNION ALL
        SELECT 'manual', mi.id, mi.interface_type, 'person:' || mi.from_person_id,
               coalesce('person:' || mi.to_person_id, 'team:' || mi.to_team_id),
               mi.from_person_id, mi.to_person_id, mi.to_team_id, NULL, mi.university_id,
               mi.weight, mi.knowledge_transfer_score, 1.0, mi.timestamp,
               ARRAY[]::text[]
        FROM manual_interfaces mi
    """


def upgrade() -> None:
    op.execute(_view(CHAT_PROVIDERS))


def downgrade() -> None:
    op.execute(_view("('discord')"))
