"""What ``frames doctor`` asks the database about itself."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class MappingIssue:
    guild_id: int
    channel_id: int
    team_id: str | None
    program_id: str | None
    reason: str  # team-missing, program-missing, university-changed


class HealthRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def server_version(self) -> str:
        return str(await self.session.scalar(text("SHOW server_version")))

    async def pgvector_version(self) -> str | None:
        """The pgvector version installed in this database (None: not created here)."""
        value = await self.session.scalar(
            text("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
        )
        return str(value) if value is not None else None

    async def mapping_issues(self) -> list[MappingIssue]:
        """Mappings that point at a team or program that is gone, or whose stored university
        is no longer the team's (the team moved after the channel was mapped)."""
        rows = await self.session.execute(
            text(
                """
                SELECT m.guild_id, m.channel_id, m.team_id, m.program_id,
                       CASE WHEN m.team_id IS NOT NULL AND t.id IS NULL THEN 'team-missing'
                            WHEN m.program_id IS NOT NULL AND p.id IS NULL
                                THEN 'program-missing'
                            ELSE 'university-changed' END
                FROM channel_mappings m
                LEFT JOIN teams t ON t.id = m.team_id
                LEFT JOIN programs p ON p.id = m.program_id
                WHERE (m.team_id IS NOT NULL AND t.id IS NULL)
                   OR (m.program_id IS NOT NULL AND p.id IS NULL)
                   OR (t.id IS NOT NULL AND m.university_id IS DISTINCT FROM t.university_id)
                ORDER BY m.guild_id, m.channel_id
                """
            )
        )
        return [MappingIssue(*row) for row in rows.all()]
