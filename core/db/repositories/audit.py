"""The audit trail: every export and administrative action is written here."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.models import AuditLog


class AuditRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record(
        self,
        actor: str,
        action: str,
        *,
        target_type: str | None = None,
        target_id: str | None = None,
        university_id: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> AuditLog:
        entry = AuditLog(
            actor=actor,
            action=action,
            target_type=target_type,
            target_id=target_id,
            university_id=university_id,
            details=details or {},
        )
        self.session.add(entry)
        await self.session.flush()
        return entry

    async def recent(self, limit: int = 50, action: str | None = None) -> list[AuditLog]:
        query = select(AuditLog).order_by(AuditLog.id.desc()).limit(limit)
        if action is not None:
            query = query.where(AuditLog.action == action)
        return list((await self.session.scalars(query)).all())
