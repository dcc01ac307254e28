"""Initial schema: every table group of ARCHITECTURE.md, plus the pgvector extension and views.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from pgvector.sqlalchemy import Vector
from sqlalchemy.dialects import postgresql

from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS vector")
    op.create_table(
        "assessment_layers",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("is_builtin", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_layers")),
    )
    op.create_table(
        "energy_loss_models",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column(
            "factors", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_energy_loss_models")),
        sa.UniqueConstraint("name", name=op.f("uq_energy_loss_models_name")),
    )
    op.create_index(
        "uq_energy_loss_models_active",
        "energy_loss_models",
        ["is_active"],
        unique=True,
        postgresql_where=sa.text("is_active"),
    )
    op.create_table(
        "ml_experiments",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("experiment_name", sa.Text(), nullable=False),
        sa.Column("model_type", sa.Text(), nullable=False),
        sa.Column(
            "hyperparameters",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="{}",
            nullable=False,
        ),
        sa.Column("training_data_query", sa.Text(), nullable=True),
        sa.Column(
            "metrics", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("mlflow_experiment_id", sa.Text(), nullable=True),
        sa.Column("mlflow_run_id", sa.Text(), nullable=True),
        sa.Column("target", sa.Text(), nullable=True),
        sa.Column(
            "validation",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="{}",
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ml_experiments")),
    )
    op.create_table(
        "universities",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("time_zone", sa.Text(), server_default="UTC", nullable=False),
        sa.Column("consent_mode", sa.Text(), server_default="opt-in", nullable=False),
        sa.Column(
            "metadata", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "consent_mode IN ('opt-in', 'opt-out', 'metadata-only')",
            name=op.f("ck_universities_consent_mode"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_universities")),
    )
    op.create_table(
        "academic_terms",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("university_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.CheckConstraint("ends_on > starts_on", name=op.f("ck_academic_terms_dates_ordered")),
        sa.ForeignKeyConstraint(
            ["university_id"],
            ["universities.id"],
            name=op.f("fk_academic_terms_university_id_universities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_academic_terms")),
        sa.UniqueConstraint(
            "university_id", "name", name=op.f("uq_academic_terms_university_id_name")
        ),
    )
    op.create_table(
        "activity_metrics",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("university_id", sa.Text(), nullable=True),
        sa.Column("scope_type", sa.Text(), nullable=False),
        sa.Column("scope_id", sa.Text(), nullable=False),
        sa.Column("metric", sa.Text(), nullable=False),
        sa.Column("period", sa.Text(), server_default="week", nullable=False),
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column(
            "computed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["university_id"],
            ["universities.id"],
            name=op.f("fk_activity_metrics_university_id_universities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activity_metrics")),
        sa.UniqueConstraint(
            "scope_type",
            "scope_id",
            "metric",
            "period",
            "period_start",
            name=op.f("uq_activity_metrics_scope_type_scope_id_metric_period_period_start"),
        ),
    )
    op.create_index(
        "ix_activity_metrics_period_start_brin",
        "activity_metrics",
        ["period_start"],
        unique=False,
        postgresql_using="brin",
    )
    op.create_table(
        "assessment_categories",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("layer_id", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), server_default="emergent", nullable=False),
        sa.Column("evidence_count", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('emergent', 'provisional', 'established')",
            name=op.f("ck_assessment_categories_status"),
        ),
        sa.ForeignKeyConstraint(
            ["layer_id"],
            ["assessment_layers.id"],
            name=op.f("fk_assessment_categories_layer_id_assessment_layers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assessment_categories")),
        sa.UniqueConstraint("layer_id", "key", name=op.f("uq_assessment_categories_layer_id_key")),
    )
    op.create_table(
        "audit_logs",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column(
            "occurred_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("target_type", sa.Text(), nullable=True),
        sa.Column("target_id", sa.Text(), nullable=True),
        sa.Column("university_id", sa.Text(), nullable=True),
        sa.Column(
            "details", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["university_id"],
            ["universities.id"],
            name=op.f("fk_audit_logs_university_id_universities"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_logs")),
    )
    op.create_index("ix_audit_logs_action", "audit_logs", ["action"], unique=False)
    op.create_index(
        "ix_audit_logs_occurred_at_brin",
        "audit_logs",
        ["occurred_at"],
        unique=False,
        postgresql_using="brin",
    )
    op.create_table(
        "capture_checkpoints",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=True),
        sa.Column("channel_id", sa.BigInteger(), nullable=False),
        sa.Column("university_id", sa.Text(), nullable=True),
        sa.Column("last_message_id", sa.BigInteger(), nullable=True),
        sa.Column("backfilled_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["university_id"],
            ["universities.id"],
            name=op.f("fk_capture_checkpoints_university_id_universities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_capture_checkpoints")),
        sa.UniqueConstraint("channel_id", name=op.f("uq_capture_checkpoints_channel_id")),
    )
    op.create_table(
        "discord_channels",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=True),
        sa.Column("parent_id", sa.BigInteger(), nullable=True),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("university_id", sa.Text(), nullable=True),
        sa.Column(
            "metadata", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["university_id"],
            ["universities.id"],
            name=op.f("fk_discord_channels_university_id_universities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_discord_channels")),
    )
    op.create_table(
        "embeddings",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("entity_type", sa.Text(), nullable=False),
        sa.Column("entity_id", sa.Text(), nullable=False),
        sa.Column("embedding", Vector(384), nullable=False),
        sa.Column("model_name", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("university_id", sa.Text(), nullable=True),
        sa.Column("content_hash", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["university_id"],
            ["universities.id"],
            name=op.f("fk_embeddings_university_id_universities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_embeddings")),
        sa.UniqueConstraint(
            "entity_type",
            "entity_id",
            "model_name",
            name=op.f("uq_embeddings_entity_type_entity_id_model_name"),
        ),
    )
    op.create_index(
        "ix_embeddings_embedding_hnsw",
        "embeddings",
        ["embedding"],
        unique=False,
        postgresql_using="hnsw",
        postgresql_ops={"embedding": "vector_cosine_ops"},
    )
    op.create_table(
        "ml_models",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("experiment_id", sa.BigInteger(), nullable=True),
        sa.Column("model_version", sa.Text(), nullable=False),
        sa.Column("model_path", sa.Text(), nullable=True),
        sa.Column("is_active", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("deployed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), server_default="candidate", nullable=False),
        sa.Column("mlflow_model_uri", sa.Text(), nullable=True),
        sa.Column("approved_by", sa.Text(), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["experiment_id"],
            ["ml_experiments.id"],
            name=op.f("fk_ml_models_experiment_id_ml_experiments"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ml_models")),
    )
    op.create_index(
        "uq_ml_models_active_per_name",
        "ml_models",
        ["name"],
        unique=True,
        postgresql_where=sa.text("is_active"),
    )
    op.create_table(
        "nda_reports",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("scope_type", sa.Text(), nullable=False),
        sa.Column("scope_id", sa.Text(), nullable=False),
        sa.Column("university_id", sa.Text(), nullable=True),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("dimension", sa.Text(), nullable=False),
        sa.Column("raw_value", sa.Float(), nullable=True),
        sa.Column("unit", sa.Text(), nullable=True),
        sa.Column("risk", sa.Float(), nullable=True),
        sa.Column("band", sa.Text(), nullable=True),
        sa.Column("reading", sa.Text(), nullable=True),
        sa.Column(
            "inputs", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column("energy_loss_model_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "computed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "risk IS NULL OR risk BETWEEN 0 AND 100", name=op.f("ck_nda_reports_risk_range")
        ),
        sa.ForeignKeyConstraint(
            ["energy_loss_model_id"],
            ["energy_loss_models.id"],
            name=op.f("fk_nda_reports_energy_loss_model_id_energy_loss_models"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["university_id"],
            ["universities.id"],
            name=op.f("fk_nda_reports_university_id_universities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nda_reports")),
        sa.UniqueConstraint(
            "run_id",
            "scope_type",
            "scope_id",
            "week_start",
            "dimension",
            name=op.f("uq_nda_reports_run_id_scope_type_scope_id_week_start_dimension"),
        ),
    )
    op.create_index(
        "ix_nda_reports_week_start_brin",
        "nda_reports",
        ["week_start"],
        unique=False,
        postgresql_using="brin",
    )
    op.create_table(
        "people",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("university_id", sa.Text(), nullable=False),
        sa.Column("display_name", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), server_default="student", nullable=False),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("discipline", sa.Text(), nullable=True),
        sa.Column("lifecycle", sa.Text(), nullable=True),
        sa.Column("graduation_term", sa.Text(), nullable=True),
        sa.Column("joined_on", sa.Date(), nullable=True),
        sa.Column("is_bot", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "excluded_from_analysis", sa.Boolean(), server_default=sa.text("false"), nullable=False
        ),
        sa.Column(
            "metadata", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "lifecycle IS NULL OR lifecycle IN ('incoming', 'established', 'outgoing')",
            name=op.f("ck_people_lifecycle"),
        ),
        sa.CheckConstraint(
            "role IN ('student', 'faculty', 'external', 'researcher')", name=op.f("ck_people_role")
        ),
        sa.ForeignKeyConstraint(
            ["university_id"],
            ["universities.id"],
            name=op.f("fk_people_university_id_universities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people")),
    )
    op.create_index(
        "ix_people_email",
        "people",
        ["email"],
        unique=True,
        postgresql_where=sa.text("email IS NOT NULL"),
    )
    op.create_index(op.f("ix_people_university_id"), "people", ["university_id"], unique=False)
    op.create_table(
        "programs",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("lead_university_id", sa.Text(), nullable=True),
        sa.Column(
            "metadata", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["lead_university_id"],
            ["universities.id"],
            name=op.f("fk_programs_lead_university_id_universities"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programs")),
    )
    op.create_table(
        "consents",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("person_id", sa.Text(), nullable=False),
        sa.Column("university_id", sa.Text(), nullable=False),
        sa.Column("scope", sa.Text(), server_default="research", nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("consent_text_version", sa.Text(), server_default="v1", nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column(
            "recorded_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint("status IN ('granted', 'withdrawn')", name=op.f("ck_consents_status")),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_consents_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["university_id"],
            ["universities.id"],
            name=op.f("fk_consents_university_id_universities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consents")),
    )
    op.create_index(
        "ix_consents_person_id_recorded_at", "consents", ["person_id", "recorded_at"], unique=False
    )
    op.create_table(
        "identities",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("provider", sa.Text(), nullable=False),
        sa.Column("external_id", sa.Text(), nullable=False),
        sa.Column("username", sa.Text(), nullable=True),
        sa.Column("display_name", sa.Text(), nullable=True),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("person_id", sa.Text(), nullable=True),
        sa.Column("university_id", sa.Text(), nullable=True),
        sa.Column("link_source", sa.Text(), nullable=True),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("is_bot", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "metadata", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_identities_person_id_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["university_id"],
            ["universities.id"],
            name=op.f("fk_identities_university_id_universities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identities")),
        sa.UniqueConstraint(
            "provider", "external_id", name=op.f("uq_identities_provider_external_id")
        ),
    )
    op.create_index(op.f("ix_identities_person_id"), "identities", ["person_id"], unique=False)
    op.create_index(
        "ix_identities_provider_username", "identities", ["provider", "username"], unique=False
    )
    op.create_table(
        "interface_assessments",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("interface_source", sa.Text(), nullable=False),
        sa.Column("interface_id", sa.BigInteger(), nullable=False),
        sa.Column("category_id", sa.BigInteger(), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("assessed_by", sa.Text(), nullable=True),
        sa.Column("university_id", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["assessment_categories.id"],
            name=op.f("fk_interface_assessments_category_id_assessment_categories"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["university_id"],
            ["universities.id"],
            name=op.f("fk_interface_assessments_university_id_universities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_interface_assessments")),
    )
    op.create_index(
        "ix_interface_assessments_interface",
        "interface_assessments",
        ["interface_source", "interface_id"],
        unique=False,
    )
    op.create_table(
        "panel_users",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("username", sa.Text(), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("university_id", sa.Text(), nullable=True),
        sa.Column("person_id", sa.Text(), nullable=True),
        sa.Column("disabled", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "role IN ('admin', 'researcher', 'faculty', 'lead', 'member', 'viewer')",
            name=op.f("ck_panel_users_role"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_panel_users_person_id_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["university_id"],
            ["universities.id"],
            name=op.f("fk_panel_users_university_id_universities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_panel_users")),
        sa.UniqueConstraint("username", name=op.f("uq_panel_users_username")),
    )
    op.create_table(
        "projects",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("program_id", sa.Text(), nullable=True),
        sa.Column("university_id", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), server_default="active", nullable=False),
        sa.Column(
            "metadata", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["programs.id"],
            name=op.f("fk_projects_program_id_programs"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["university_id"],
            ["universities.id"],
            name=op.f("fk_projects_university_id_universities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects")),
    )
    op.create_index(op.f("ix_projects_university_id"), "projects", ["university_id"], unique=False)
    op.create_table(
        "export_jobs",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("requested_by", sa.BigInteger(), nullable=True),
        sa.Column("study_id", sa.Text(), nullable=False),
        sa.Column("export_format", sa.Text(), nullable=False),
        sa.Column(
            "scope", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column("status", sa.Text(), server_default="pending", nullable=False),
        sa.Column("row_count", sa.BigInteger(), nullable=True),
        sa.Column("path", sa.Text(), nullable=True),
        sa.Column("university_id", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["requested_by"],
            ["panel_users.id"],
            name=op.f("fk_export_jobs_requested_by_panel_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["university_id"],
            ["universities.id"],
            name=op.f("fk_export_jobs_university_id_universities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_export_jobs")),
    )
    op.create_table(
        "teams",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("university_id", sa.Text(), nullable=False),
        sa.Column("program_id", sa.Text(), nullable=True),
        sa.Column("project_id", sa.Text(), nullable=True),
        sa.Column("discipline", sa.Text(), nullable=True),
        sa.Column(
            "metadata", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["programs.id"],
            name=op.f("fk_teams_program_id_programs"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_teams_project_id_projects"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["university_id"],
            ["universities.id"],
            name=op.f("fk_teams_university_id_universities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teams")),
    )
    op.create_index(op.f("ix_teams_university_id"), "teams", ["university_id"], unique=False)
    op.create_table(
        "channel_mappings",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=False),
        sa.Column("channel_id", sa.BigInteger(), nullable=False),
        sa.Column("team_id", sa.Text(), nullable=True),
        sa.Column("program_id", sa.Text(), nullable=True),
        sa.Column("university_id", sa.Text(), nullable=True),
        sa.Column("project_id", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "(team_id IS NULL) <> (program_id IS NULL)",
            name=op.f("ck_channel_mappings_team_xor_program"),
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["programs.id"],
            name=op.f("fk_channel_mappings_program_id_programs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_channel_mappings_project_id_projects"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_channel_mappings_team_id_teams"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["university_id"],
            ["universities.id"],
            name=op.f("fk_channel_mappings_university_id_universities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_mappings")),
        sa.UniqueConstraint("channel_id", name=op.f("uq_channel_mappings_channel_id")),
    )
    op.create_index("ix_channel_mappings_guild_id", "channel_mappings", ["guild_id"], unique=False)
    op.create_table(
        "discord_interfaces",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("from_user_id", sa.BigInteger(), nullable=False),
        sa.Column("to_user_id", sa.BigInteger(), nullable=False),
        sa.Column("interaction_type", sa.Text(), nullable=False),
        sa.Column("knowledge_transfer_score", sa.Float(), server_default="0", nullable=False),
        sa.Column("timestamp", sa.DateTime(timezone=True), nullable=False),
        sa.Column("message_ids", postgresql.ARRAY(sa.BigInteger()), nullable=False),
        sa.Column("source_message_id", sa.BigInteger(), nullable=False),
        sa.Column("guild_id", sa.BigInteger(), nullable=True),
        sa.Column("channel_id", sa.BigInteger(), nullable=True),
        sa.Column("university_id", sa.Text(), nullable=True),
        sa.Column("team_id", sa.Text(), nullable=True),
        sa.Column("weight", sa.Float(), server_default="1", nullable=False),
        sa.Column("confidence", sa.Float(), server_default="1", nullable=False),
        sa.Column(
            "features", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "knowledge_transfer_score BETWEEN 0 AND 1",
            name=op.f("ck_discord_interfaces_knowledge_transfer_score_range"),
        ),
        sa.CheckConstraint("weight >= 0", name=op.f("ck_discord_interfaces_weight_non_negative")),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_discord_interfaces_team_id_teams"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["university_id"],
            ["universities.id"],
            name=op.f("fk_discord_interfaces_university_id_universities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_discord_interfaces")),
        sa.UniqueConstraint(
            "interaction_type",
            "source_message_id",
            "from_user_id",
            "to_user_id",
            name=op.f(
                "uq_discord_interfaces_interaction_type_source_message_id_from_user_id_to_user_id"
            ),
        ),
    )
    op.create_index(
        "ix_discord_interfaces_from_user_id", "discord_interfaces", ["from_user_id"], unique=False
    )
    op.create_index(
        "ix_discord_interfaces_timestamp_brin",
        "discord_interfaces",
        ["timestamp"],
        unique=False,
        postgresql_using="brin",
    )
    op.create_index(
        "ix_discord_interfaces_to_user_id", "discord_interfaces", ["to_user_id"], unique=False
    )
    op.create_index(
        "ix_discord_interfaces_university_id_timestamp",
        "discord_interfaces",
        ["university_id", "timestamp"],
        unique=False,
    )
    op.create_table(
        "discord_messages",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("channel_id", sa.BigInteger(), nullable=False),
        sa.Column("author_id", sa.BigInteger(), nullable=False),
        sa.Column("content", sa.Text(), nullable=True),
        sa.Column("timestamp", sa.DateTime(timezone=True), nullable=False),
        sa.Column("university_id", sa.Text(), nullable=True),
        sa.Column("team_id", sa.Text(), nullable=True),
        sa.Column("message_type", sa.Text(), server_default="other", nullable=False),
        sa.Column(
            "metadata", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column("guild_id", sa.BigInteger(), nullable=True),
        sa.Column("thread_id", sa.BigInteger(), nullable=True),
        sa.Column("program_id", sa.Text(), nullable=True),
        sa.Column("reference_id", sa.BigInteger(), nullable=True),
        sa.Column("is_bot", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("is_dm", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("edited_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("source", sa.Text(), server_default="gateway", nullable=False),
        sa.Column(
            "search_vector",
            postgresql.TSVECTOR(),
            sa.Computed("to_tsvector('english', coalesce(content, ''))", persisted=True),
            nullable=True,
        ),
        sa.Column(
            "captured_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["programs.id"],
            name=op.f("fk_discord_messages_program_id_programs"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_discord_messages_team_id_teams"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["university_id"],
            ["universities.id"],
            name=op.f("fk_discord_messages_university_id_universities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_discord_messages")),
    )
    op.create_index(
        "ix_discord_messages_author_id_timestamp",
        "discord_messages",
        ["author_id", "timestamp"],
        unique=False,
    )
    op.create_index(
        "ix_discord_messages_channel_id_timestamp",
        "discord_messages",
        ["channel_id", "timestamp"],
        unique=False,
    )
    op.create_index(
        "ix_discord_messages_search_vector",
        "discord_messages",
        ["search_vector"],
        unique=False,
        postgresql_using="gin",
    )
    op.create_index(
        "ix_discord_messages_timestamp_brin",
        "discord_messages",
        ["timestamp"],
        unique=False,
        postgresql_using="brin",
    )
    op.create_index(
        "ix_discord_messages_university_id_timestamp",
        "discord_messages",
        ["university_id", "timestamp"],
        unique=False,
    )
    op.create_table(
        "engagement_scores",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("person_id", sa.Text(), nullable=False),
        sa.Column("team_id", sa.Text(), nullable=True),
        sa.Column("university_id", sa.Text(), nullable=False),
        sa.Column("period", sa.Text(), server_default="week", nullable=False),
        sa.Column("period_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column(
            "components",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="{}",
            nullable=False,
        ),
        sa.Column(
            "computed_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_engagement_scores_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_engagement_scores_team_id_teams"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["university_id"],
            ["universities.id"],
            name=op.f("fk_engagement_scores_university_id_universities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_engagement_scores")),
        sa.UniqueConstraint(
            "person_id",
            "period",
            "period_start",
            name=op.f("uq_engagement_scores_person_id_period_period_start"),
        ),
    )
    op.create_index(
        "ix_engagement_scores_period_start_brin",
        "engagement_scores",
        ["period_start"],
        unique=False,
        postgresql_using="brin",
    )
    op.create_table(
        "manual_interfaces",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("from_person_id", sa.Text(), nullable=False),
        sa.Column("to_person_id", sa.Text(), nullable=True),
        sa.Column("to_team_id", sa.Text(), nullable=True),
        sa.Column("interface_type", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("timestamp", sa.DateTime(timezone=True), nullable=False),
        sa.Column("university_id", sa.Text(), nullable=False),
        sa.Column("weight", sa.Float(), server_default="1", nullable=False),
        sa.Column("knowledge_transfer_score", sa.Float(), server_default="0.5", nullable=False),
        sa.Column("logged_by_person_id", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["from_person_id"],
            ["people.id"],
            name=op.f("fk_manual_interfaces_from_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["logged_by_person_id"],
            ["people.id"],
            name=op.f("fk_manual_interfaces_logged_by_person_id_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["to_person_id"],
            ["people.id"],
            name=op.f("fk_manual_interfaces_to_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["to_team_id"],
            ["teams.id"],
            name=op.f("fk_manual_interfaces_to_team_id_teams"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["university_id"],
            ["universities.id"],
            name=op.f("fk_manual_interfaces_university_id_universities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_manual_interfaces")),
    )
    op.create_index(
        "ix_manual_interfaces_timestamp_brin",
        "manual_interfaces",
        ["timestamp"],
        unique=False,
        postgresql_using="brin",
    )
    op.create_table(
        "ml_predictions",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("model_id", sa.BigInteger(), nullable=False),
        sa.Column("university_id", sa.Text(), nullable=True),
        sa.Column("project_id", sa.Text(), nullable=True),
        sa.Column("prediction_type", sa.Text(), nullable=False),
        sa.Column("predicted_probability", sa.Float(), nullable=False),
        sa.Column(
            "confidence_interval",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="{}",
            nullable=False,
        ),
        sa.Column(
            "features_used",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="{}",
            nullable=False,
        ),
        sa.Column(
            "predicted_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("team_id", sa.Text(), nullable=True),
        sa.Column("subject_type", sa.Text(), nullable=True),
        sa.Column("subject_id", sa.Text(), nullable=True),
        sa.Column(
            "explanation",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default="{}",
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["model_id"],
            ["ml_models.id"],
            name=op.f("fk_ml_predictions_model_id_ml_models"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_ml_predictions_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_ml_predictions_team_id_teams"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["university_id"],
            ["universities.id"],
            name=op.f("fk_ml_predictions_university_id_universities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ml_predictions")),
    )
    op.create_index(
        "ix_ml_predictions_predicted_at_brin",
        "ml_predictions",
        ["predicted_at"],
        unique=False,
        postgresql_using="brin",
    )
    op.create_table(
        "outcomes",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("university_id", sa.Text(), nullable=True),
        sa.Column("program_id", sa.Text(), nullable=True),
        sa.Column("project_id", sa.Text(), nullable=True),
        sa.Column("team_id", sa.Text(), nullable=True),
        sa.Column("outcome_type", sa.Text(), nullable=False),
        sa.Column("category", sa.Text(), nullable=True),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("interface_source", sa.Text(), nullable=True),
        sa.Column("interface_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "metadata", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "outcome_type IN ('mission_success', 'mission_failure', 'program_success', 'program_failure', 'failure_event')",
            name=op.f("ck_outcomes_outcome_type"),
        ),
        sa.ForeignKeyConstraint(
            ["program_id"],
            ["programs.id"],
            name=op.f("fk_outcomes_program_id_programs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_outcomes_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_outcomes_team_id_teams"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["university_id"],
            ["universities.id"],
            name=op.f("fk_outcomes_university_id_universities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outcomes")),
    )
    op.create_index("ix_outcomes_occurred_on", "outcomes", ["occurred_on"], unique=False)
    op.create_table(
        "pm_connections",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("tool", sa.Text(), nullable=False),
        sa.Column("team_id", sa.Text(), nullable=True),
        sa.Column("university_id", sa.Text(), nullable=True),
        sa.Column(
            "scope", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column("base_url", sa.Text(), nullable=True),
        sa.Column("secret_ref", sa.Text(), nullable=True),
        sa.Column("webhook_secret_ref", sa.Text(), nullable=True),
        sa.Column(
            "cursor", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column("poll_interval_seconds", sa.Integer(), server_default="900", nullable=False),
        sa.Column("enabled", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("last_synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_pm_connections_team_id_teams"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["university_id"],
            ["universities.id"],
            name=op.f("fk_pm_connections_university_id_universities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pm_connections")),
    )
    op.create_table(
        "team_memberships",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("team_id", sa.Text(), nullable=False),
        sa.Column("person_id", sa.Text(), nullable=False),
        sa.Column("university_id", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), server_default="member", nullable=False),
        sa.Column("started_on", sa.Date(), nullable=True),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_team_memberships_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_team_memberships_team_id_teams"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["university_id"],
            ["universities.id"],
            name=op.f("fk_team_memberships_university_id_universities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_team_memberships")),
        sa.UniqueConstraint(
            "team_id", "person_id", name=op.f("uq_team_memberships_team_id_person_id")
        ),
    )
    op.create_index(
        op.f("ix_team_memberships_person_id"), "team_memberships", ["person_id"], unique=False
    )
    op.create_table(
        "discord_reactions",
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("emoji", sa.Text(), nullable=False),
        sa.Column("channel_id", sa.BigInteger(), nullable=False),
        sa.Column("university_id", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["discord_messages.id"],
            name=op.f("fk_discord_reactions_message_id_discord_messages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["university_id"],
            ["universities.id"],
            name=op.f("fk_discord_reactions_university_id_universities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "message_id", "user_id", "emoji", name=op.f("pk_discord_reactions")
        ),
    )
    op.create_index(
        "ix_discord_reactions_created_at_brin",
        "discord_reactions",
        ["created_at"],
        unique=False,
        postgresql_using="brin",
    )
    op.create_table(
        "pm_tasks",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("project_id", sa.Text(), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("assigned_to", postgresql.ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "metadata", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("connection_id", sa.Text(), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("team_id", sa.Text(), nullable=True),
        sa.Column("university_id", sa.Text(), nullable=True),
        sa.Column("parent_id", sa.Text(), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "raw", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["pm_connections.id"],
            name=op.f("fk_pm_tasks_connection_id_pm_connections"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_pm_tasks_project_id_projects"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_pm_tasks_team_id_teams"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["university_id"],
            ["universities.id"],
            name=op.f("fk_pm_tasks_university_id_universities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pm_tasks")),
    )
    op.create_index("ix_pm_tasks_team_id", "pm_tasks", ["team_id"], unique=False)
    op.create_index(
        "ix_pm_tasks_updated_at_brin",
        "pm_tasks",
        ["updated_at"],
        unique=False,
        postgresql_using="brin",
    )
    op.create_table(
        "pm_task_dependencies",
        sa.Column("task_id", sa.Text(), nullable=False),
        sa.Column("depends_on_task_id", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("university_id", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["pm_tasks.id"],
            name=op.f("fk_pm_task_dependencies_task_id_pm_tasks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["university_id"],
            ["universities.id"],
            name=op.f("fk_pm_task_dependencies_university_id_universities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "task_id", "depends_on_task_id", "kind", name=op.f("pk_pm_task_dependencies")
        ),
    )
    op.create_table(
        "pm_task_events",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("task_id", sa.Text(), nullable=False),
        sa.Column("event_type", sa.Text(), nullable=False),
        sa.Column("actor", sa.Text(), nullable=True),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("from_value", sa.Text(), nullable=True),
        sa.Column("to_value", sa.Text(), nullable=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dedupe_key", sa.Text(), nullable=False),
        sa.Column("university_id", sa.Text(), nullable=True),
        sa.Column(
            "raw", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["pm_tasks.id"],
            name=op.f("fk_pm_task_events_task_id_pm_tasks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["university_id"],
            ["universities.id"],
            name=op.f("fk_pm_task_events_university_id_universities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pm_task_events")),
        sa.UniqueConstraint(
            "task_id", "dedupe_key", name=op.f("uq_pm_task_events_task_id_dedupe_key")
        ),
    )
    op.create_index(
        "ix_pm_task_events_occurred_at_brin",
        "pm_task_events",
        ["occurred_at"],
        unique=False,
        postgresql_using="brin",
    )
    op.create_table(
        "pm_interfaces",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("task_id", sa.Text(), nullable=False),
        sa.Column("from_entity", sa.Text(), nullable=False),
        sa.Column("to_entity", sa.Text(), nullable=False),
        sa.Column("interface_type", sa.Text(), nullable=False),
        sa.Column("timestamp", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=True),
        sa.Column("from_person_id", sa.Text(), nullable=True),
        sa.Column("to_person_id", sa.Text(), nullable=True),
        sa.Column("university_id", sa.Text(), nullable=True),
        sa.Column("team_id", sa.Text(), nullable=True),
        sa.Column("weight", sa.Float(), server_default="1", nullable=False),
        sa.Column("knowledge_transfer_score", sa.Float(), server_default="0", nullable=False),
        sa.Column(
            "metadata", postgresql.JSONB(astext_type=sa.Text()), server_default="{}", nullable=False
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["pm_task_events.id"],
            name=op.f("fk_pm_interfaces_event_id_pm_task_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["from_person_id"],
            ["people.id"],
            name=op.f("fk_pm_interfaces_from_person_id_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"],
            ["pm_tasks.id"],
            name=op.f("fk_pm_interfaces_task_id_pm_tasks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_pm_interfaces_team_id_teams"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["to_person_id"],
            ["people.id"],
            name=op.f("fk_pm_interfaces_to_person_id_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["university_id"],
            ["universities.id"],
            name=op.f("fk_pm_interfaces_university_id_universities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pm_interfaces")),
        sa.UniqueConstraint(
            "event_id",
            "interface_type",
            "from_entity",
            "to_entity",
            name=op.f("uq_pm_interfaces_event_id_interface_type_from_entity_to_entity"),
        ),
    )
    op.create_index("ix_pm_interfaces_task_id", "pm_interfaces", ["task_id"], unique=False)
    op.create_index(
        "ix_pm_interfaces_timestamp_brin",
        "pm_interfaces",
        ["timestamp"],
        unique=False,
        postgresql_using="brin",
    )
    create_views()


def downgrade() -> None:
    drop_views()
    op.drop_index(
        "ix_pm_interfaces_timestamp_brin", table_name="pm_interfaces", postgresql_using="brin"
    )
    op.drop_index("ix_pm_interfaces_task_id", table_name="pm_interfaces")
    op.drop_table("pm_interfaces")
    op.drop_index(
        "ix_pm_task_events_occurred_at_brin", table_name="pm_task_events", postgresql_using="brin"
    )
    op.drop_table("pm_task_events")
    op.drop_table("pm_task_dependencies")
    op.drop_index("ix_pm_tasks_updated_at_brin", table_name="pm_tasks", postgresql_using="brin")
    op.drop_index("ix_pm_tasks_team_id", table_name="pm_tasks")
    op.drop_table("pm_tasks")
    op.drop_index(
        "ix_discord_reactions_created_at_brin",
        table_name="discord_reactions",
        postgresql_using="brin",
    )
    op.drop_table("discord_reactions")
    op.drop_index(op.f("ix_team_memberships_person_id"), table_name="team_memberships")
    op.drop_table("team_memberships")
    op.drop_table("pm_connections")
    op.drop_index("ix_outcomes_occurred_on", table_name="outcomes")
    op.drop_table("outcomes")
    op.drop_index(
        "ix_ml_predictions_predicted_at_brin", table_name="ml_predictions", postgresql_using="brin"
    )
    op.drop_table("ml_predictions")
    op.drop_index(
        "ix_manual_interfaces_timestamp_brin",
        table_name="manual_interfaces",
        postgresql_using="brin",
    )
    op.drop_table("manual_interfaces")
    op.drop_index(
        "ix_engagement_scores_period_start_brin",
        table_name="engagement_scores",
        postgresql_using="brin",
    )
    op.drop_table("engagement_scores")
    op.drop_index("ix_discord_messages_university_id_timestamp", table_name="discord_messages")
    op.drop_index(
        "ix_discord_messages_timestamp_brin", table_name="discord_messages", postgresql_using="brin"
    )
    op.drop_index(
        "ix_discord_messages_search_vector", table_name="discord_messages", postgresql_using="gin"
    )
    op.drop_index("ix_discord_messages_channel_id_timestamp", table_name="discord_messages")
    op.drop_index("ix_discord_messages_author_id_timestamp", table_name="discord_messages")
    op.drop_table("discord_messages")
    op.drop_index("ix_discord_interfaces_university_id_timestamp", table_name="discord_interfaces")
    op.drop_index("ix_discord_interfaces_to_user_id", table_name="discord_interfaces")
    op.drop_index(
        "ix_discord_interfaces_timestamp_brin",
        table_name="discord_interfaces",
        postgresql_using="brin",
    )
    op.drop_index("ix_discord_interfaces_from_user_id", table_name="discord_interfaces")
    op.drop_table("discord_interfaces")
    op.drop_index("ix_channel_mappings_guild_id", table_name="channel_mappings")
    op.drop_table("channel_mappings")
    op.drop_index(op.f("ix_teams_university_id"), table_name="teams")
    op.drop_table("teams")
    op.drop_table("export_jobs")
    op.drop_index(op.f("ix_projects_university_id"), table_name="projects")
    op.drop_table("projects")
    op.drop_table("panel_users")
    op.drop_index("ix_interface_assessments_interface", table_name="interface_assessments")
    op.drop_table("interface_assessments")
    op.drop_index("ix_identities_provider_username", table_name="identities")
    op.drop_index(op.f("ix_identities_person_id"), table_name="identities")
    op.drop_table("identities")
    op.drop_index("ix_consents_person_id_recorded_at", table_name="consents")
    op.drop_table("consents")
    op.drop_table("programs")
    op.drop_index(op.f("ix_people_university_id"), table_name="people")
    op.drop_index(
        "ix_people_email", table_name="people", postgresql_where=sa.text("email IS NOT NULL")
    )
    op.drop_table("people")
    op.drop_index(
        "ix_nda_reports_week_start_brin", table_name="nda_reports", postgresql_using="brin"
    )
    op.drop_table("nda_reports")
    op.drop_index(
        "uq_ml_models_active_per_name",
        table_name="ml_models",
        postgresql_where=sa.text("is_active"),
    )
    op.drop_table("ml_models")
    op.drop_index(
        "ix_embeddings_embedding_hnsw",
        table_name="embeddings",
        postgresql_using="hnsw",
        postgresql_ops={"embedding": "vector_cosine_ops"},
    )
    op.drop_table("embeddings")
    op.drop_table("discord_channels")
    op.drop_table("capture_checkpoints")
    op.drop_index(
        "ix_audit_logs_occurred_at_brin", table_name="audit_logs", postgresql_using="brin"
    )
    op.drop_index("ix_audit_logs_action", table_name="audit_logs")
    op.drop_table("audit_logs")
    op.drop_table("assessment_categories")
    op.drop_index(
        "ix_activity_metrics_period_start_brin",
        table_name="activity_metrics",
        postgresql_using="brin",
    )
    op.drop_table("activity_metrics")
    op.drop_table("academic_terms")
    op.drop_table("universities")
    op.drop_table("ml_experiments")
    op.drop_index(
        "uq_energy_loss_models_active",
        table_name="energy_loss_models",
        postgresql_where=sa.text("is_active"),
    )
    op.drop_table("energy_loss_models")
    op.drop_table("assessment_layers")
    # The vector extension stays: it is a server-wide object other databases may share.


VIEWS = {
    "students": "SELECT * FROM people WHERE role = 'student'",
    "faculty": "SELECT * FROM people WHERE role = 'faculty'",
    # One shape for every interface source: analysis reads only this view.
    "interfaces": """
        SELECT 'discord'::text AS source, di.id AS source_id,
               di.interaction_type AS interface_type,
               'discord:' || di.from_user_id AS from_ref, 'discord:' || di.to_user_id AS to_ref,
               fi.person_id AS from_person_id, ti.person_id AS to_person_id,
               NULL::text AS to_team_id, di.team_id, di.university_id,
               di.weight, di.knowledge_transfer_score, di.confidence, di.timestamp,
               di.message_ids::text[] AS evidence_ids
        FROM discord_interfaces di
        LEFT JOIN identities fi
               ON fi.provider = 'discord' AND fi.external_id = di.from_user_id::text
        LEFT JOIN identities ti
               ON ti.provider = 'discord' AND ti.external_id = di.to_user_id::text
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
    """,
}


def create_views() -> None:
    for name, query in VIEWS.items():
        op.execute(f"CREATE VIEW {name} AS {query}")


def drop_views() -> None:
    for name in reversed(list(VIEWS)):
        op.execute(f"DROP VIEW IF EXISTS {name}")
