"""Identity-link suggestions and webhook deliveries of the project-management tools.

Suggestions: a likely match between a tool account and a person (same username on another
service, a similar name) waits here for faculty to accept, reject or snooze; exact e-mail
matches link without asking. Deliveries: every verified webhook is written here before it
is acknowledged, so a burst is queued in PostgreSQL rather than in memory, and a redelivery
(same delivery id) is recognised and changes nothing.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import CheckConstraint, Float, ForeignKey, Index, Integer, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from core.db.models.base import Base, CreatedAt, Json, Timestamp

SUGGESTION_STATUSES = ("pending", "accepted", "rejected", "snoozed")
DELIVERY_STATUSES = ("pending", "processed", "ignored", "failed")


class IdentitySuggestion(Base):
    __tablename__ = "identity_suggestions"
    __table_args__ = (
        # One suggestion per (account, person), ever: a rejected pair is never proposed again.
        UniqueConstraint("identity_id", "person_id"),
        CheckConstraint("status IN ('pending', 'accepted', 'rejected', 'snoozed')", name="status"),
        CheckConstraint("score BETWEEN 0 AND 1", name="score_range"),
        Index("ix_identity_suggestions_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    identity_id: Mapped[int] = mapped_column(ForeignKey("identities.id", ondelete="CASCADE"))
    person_id: Mapped[str] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    university_id: Mapped[str | None] = mapped_column(
        ForeignKey("universities.id", ondelete="CASCADE")
    )
    reason: Mapped[str]  # same-username:<provider>, similar-name
    score: Mapped[float] = mapped_column(Float)
    evidence: Mapped[Json]
    status: Mapped[str] = mapped_column(server_default="pending")
    snoozed_until: Mapped[Timestamp | None]
    decided_by: Mapped[str | None]
    decided_at: Mapped[Timestamp | None]
    created_at: Mapped[CreatedAt]


class PMWebhookDelivery(Base):
    __tablename__ = "pm_webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("connection_id", "delivery_id"),
        CheckConstraint("status IN ('pending', 'processed', 'ignored', 'failed')", name="status"),
        Index("ix_pm_webhook_deliveries_status_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    connection_id: Mapped[str] = mapped_column(ForeignKey("pm_connections.id", ondelete="CASCADE"))
    tool: Mapped[str]
    delivery_id: Mapped[str]  # vendor delivery/event id, or a hash of the body
    event_type: Mapped[str | None]
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    error: Mapped[str | None]
    received_at: Mapped[CreatedAt]
    processed_at: Mapped[Timestamp | None]


class PMWebhookSecret(Base):
    """A secret the vendor hands over in a handshake (Asana's ``X-Hook-Secret``).

    Stored encrypted (Fernet) under a key derived from the connection's own webhook secret
    reference, so the database never holds it in plain text.
    """

    __tablename__ = "pm_webhook_secrets"

    connection_id: Mapped[str] = mapped_column(
        ForeignKey("pm_connections.id", ondelete="CASCADE"), primary_key=True
    )
    encrypted_secret: Mapped[str]
    created_at: Mapped[CreatedAt]
