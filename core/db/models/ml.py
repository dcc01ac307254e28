"""Machine learning: experiments, approved models, predictions, and embeddings in pgvector."""

from __future__ import annotations

from pgvector.sqlalchemy import Vector
from sqlalchemy import Float, ForeignKey, Index, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from core.db.models.base import Base, CreatedAt, Json, Timestamp

EMBEDDING_DIMENSIONS = 384  # all-MiniLM-L6-v2, the default model


class MLExperiment(Base):
    __tablename__ = "ml_experiments"

    # --- the seed's columns ---
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    experiment_name: Mapped[str]
    model_type: Mapped[str]
    hyperparameters: Mapped[Json]
    training_data_query: Mapped[str | None]
    metrics: Mapped[Json]
    created_at: Mapped[CreatedAt]
    # --- widened ---
    mlflow_experiment_id: Mapped[str | None]
    mlflow_run_id: Mapped[str | None]
    target: Mapped[str | None]  # mission_success, program_success, interface_risk
    validation: Mapped[Json]  # grouping and time split used


class MLModel(Base):
    """A trained model version; it serves only after a human approves it."""

    __tablename__ = "ml_models"
    __table_args__ = (
        Index(
            "uq_ml_models_active_per_name", "name", unique=True, postgresql_where=text("is_active")
        ),
    )

    # --- the seed's columns ---
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    experiment_id: Mapped[int | None] = mapped_column(
        ForeignKey("ml_experiments.id", ondelete="SET NULL")
    )
    model_version: Mapped[str]
    model_path: Mapped[str | None]
    is_active: Mapped[bool] = mapped_column(server_default=text("false"))
    deployed_at: Mapped[Timestamp | None]
    # --- widened ---
    name: Mapped[str]
    status: Mapped[str] = mapped_column(server_default="candidate")  # approved, rejected, archived
    mlflow_model_uri: Mapped[str | None]
    approved_by: Mapped[str | None]
    approved_at: Mapped[Timestamp | None]
    created_at: Mapped[CreatedAt]


class MLPrediction(Base):
    __tablename__ = "ml_predictions"
    __table_args__ = (
        Index("ix_ml_predictions_predicted_at_brin", "predicted_at", postgresql_using="brin"),
    )

    # --- the seed's columns ---
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("ml_models.id", ondelete="CASCADE"))
    university_id: Mapped[str | None] = mapped_column(
        ForeignKey("universities.id", ondelete="CASCADE")
    )
    project_id: Mapped[str | None] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    prediction_type: Mapped[str]
    predicted_probability: Mapped[float] = mapped_column(Float)
    confidence_interval: Mapped[Json]
    features_used: Mapped[Json]
    predicted_at: Mapped[CreatedAt]
    # --- widened ---
    team_id: Mapped[str | None] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    subject_type: Mapped[str | None]  # project, team, cohort, interface
    subject_id: Mapped[str | None]
    explanation: Mapped[Json]  # per-feature contributions


class Embedding(Base):
    __tablename__ = "embeddings"
    __table_args__ = (
        UniqueConstraint("entity_type", "entity_id", "model_name"),
        Index(
            "ix_embeddings_embedding_hnsw",
            "embedding",
            postgresql_using="hnsw",
            postgresql_ops={"embedding": "vector_cosine_ops"},
        ),
    )

    # --- the seed's columns (vector(384) for the default model, not the seed's 1536) ---
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    entity_type: Mapped[str]  # message, interface, project, team, document
    entity_id: Mapped[str]
    embedding: Mapped[list[float]] = mapped_column(Vector(EMBEDDING_DIMENSIONS))
    model_name: Mapped[str]
    created_at: Mapped[CreatedAt]
    # --- widened ---
    university_id: Mapped[str | None] = mapped_column(
        ForeignKey("universities.id", ondelete="CASCADE")
    )
    content_hash: Mapped[str | None]
