"""Registry defaults as data: NDA assessment layers and the prototype's energy-loss factors.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25

Layers, categories and factor models are data so researchers can add and re-weight them
without a release; this revision only seeds the documented starting point (DOMAIN.md).
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LAYERS = {
    "actor_autonomy": "Actor autonomy: do modules work independently, or wait on others?",
    "partitioned_knowledge": "Partitioned knowledge: is knowledge siloed?",
    "emergent_outputs": "Emergent outputs: are goals shifting or undefined?",
    "temporal_misalignment": "Temporal misalignment: does knowledge arrive when needed?",
    "integration_cost": "Integration cost: how much coordination does integration take?",
    "coupling_degradation": "Coupling degradation: are bonds weakening?",
    "knowledge_type": "Knowledge type: codified (documents) or institutional (tacit)?",
}
CATEGORIES = {
    "knowledge_type": [("codified", "Codified"), ("institutional", "Institutional")],
    "actor_autonomy": [("high", "High autonomy"), ("low", "Low autonomy")],
    "temporal_misalignment": [("aligned", "Aligned"), ("misaligned", "Misaligned")],
}
# The prototype's factor contributions (DOMAIN.md), the default until learned weights replace them.
PROTOTYPE_FACTORS = {
    "knowledge_type": {"codified": 0.10, "institutional": 0.40},
    "bond_strength": {"strong": 0.05, "moderate": 0.20, "weak": 0.35},
    "temporal_alignment": {"aligned": 0.05, "misaligned": 0.25},
    "actor_autonomy": {"high": 0.15, "low": 0.05},
    "risk_bands": {"low": 0.15, "moderate": 0.35, "high": 0.60},
}


def upgrade() -> None:
    layers = sa.table(
        "assessment_layers",
        sa.column("id", sa.Text),
        sa.column("name", sa.Text),
        sa.column("description", sa.Text),
        sa.column("is_builtin", sa.Boolean),
    )
    op.bulk_insert(
        layers,
        [
            {
                "id": key,
                "name": key.replace("_", " ").capitalize(),
                "description": text,
                "is_builtin": True,
            }
            for key, text in LAYERS.items()
        ],
    )
    categories = sa.table(
        "assessment_categories",
        sa.column("layer_id", sa.Text),
        sa.column("key", sa.Text),
        sa.column("name", sa.Text),
        sa.column("status", sa.Text),
    )
    op.bulk_insert(
        categories,
        [
            {"layer_id": layer, "key": key, "name": name, "status": "established"}
            for layer, entries in CATEGORIES.items()
            for key, name in entries
        ],
    )
    models = sa.table(
        "energy_loss_models",
        sa.column("name", sa.Text),
        sa.column("factors", sa.dialects.postgresql.JSONB),
        sa.column("is_active", sa.Boolean),
        sa.column("created_by", sa.Text),
    )
    op.bulk_insert(
        models,
        [
            {
                "name": "prototype-defaults",
                "factors": PROTOTYPE_FACTORS,
                "is_active": True,
                "created_by": "migration 0002",
            }
        ],
    )


def downgrade() -> None:
    op.execute("DELETE FROM energy_loss_models WHERE name = 'prototype-defaults'")
    op.execute(
        "DELETE FROM assessment_categories WHERE layer_id IN (SELECT id FROM assessment_layers WHERE is_builtin)"
    )
    op.execute("DELETE FROM assessment_layers WHERE is_builtin")
