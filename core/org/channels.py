"""Mapping Discord channels to teams (or to a program, for channels shared across universities).

CSV format (``frames channels import``): header ``guild_id,channel_id,team_id,program_id``
with exactly one of the last two filled per row; a three-column file
``guild_id,channel_id,team_id`` or ``guild_id,channel_id,program_id`` is accepted too.
Guilds the bot has not seen yet are accepted: mappings are made before the bot joins.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from core.csv_input import read_csv
from core.db.models import Program
from core.db.repositories.audit import AuditRepository
from core.db.repositories.channels import ChannelMappingRepository
from core.db.repositories.organisation import OrganisationRepository
from core.errors import InputError, InputProblem, NotFoundError


@dataclass(frozen=True)
class ChannelMappingRecord:
    guild_id: int
    channel_id: int
    team_id: str | None = None
    program_id: str | None = None
    line: int | None = None


def parse_channels_csv(path: Path) -> list[ChannelMappingRecord]:
    records: list[ChannelMappingRecord] = []
    problems: list[InputProblem] = []
    seen: dict[int, int] = {}
    for row in read_csv(
        path, required=("guild_id", "channel_id"), optional=("team_id", "program_id")
    ):
        guild_id = row.snowflake("guild_id", required=True)
        channel_id = row.snowflake("channel_id", required=True)
        team_id, program_id = row.text("team_id"), row.text("program_id")
        if (team_id is None) == (program_id is None):
            row.problem("team_id", "give exactly one of team_id and program_id")
        if channel_id is not None:
            first = seen.setdefault(channel_id, row.line)
            if first != row.line:
                row.problem(
                    "channel_id", f"channel {channel_id} is mapped twice (first on line {first})"
                )
        problems += row.problems
        if not row.problems and guild_id is not None and channel_id is not None:
            records.append(
                ChannelMappingRecord(guild_id, channel_id, team_id, program_id, row.line)
            )
    if problems:
        raise InputError(problems)
    return records


async def map_channels(
    session: AsyncSession, records: list[ChannelMappingRecord], *, actor: str, source: str
) -> int:
    """Validate that every team and program exists, then upsert the mappings."""
    org = OrganisationRepository(session)
    teams = await org.teams_by_id({r.team_id for r in records if r.team_id})
    programs = await org.existing_ids(
        Program, sorted({r.program_id for r in records if r.program_id})
    )
    problems = []
    for record in records:
        if record.team_id and record.team_id not in teams:
            problems.append(
                InputProblem(source, record.line, "team_id", f"unknown team {record.team_id!r}")
            )
        if record.program_id and record.program_id not in programs:
            problems.append(
                InputProblem(
                    source, record.line, "program_id", f"unknown program {record.program_id!r}"
                )
            )
    if problems:
        if len(records) == 1 and records[0].line is None:
            raise NotFoundError(problems[0].reason + "; see `frames org show` for the known ids")
        raise InputError(problems)
    rows = []
    for record in records:
        team = teams.get(record.team_id or "")
        rows.append(
            {
                "guild_id": record.guild_id,
                "channel_id": record.channel_id,
                "team_id": record.team_id,
                "program_id": record.program_id,
                # Program channels have no university: each message belongs to its author's.
                "university_id": team.university_id if team else None,
                "project_id": team.project_id if team else None,
            }
        )
    await ChannelMappingRepository(session).upsert(rows)
    await AuditRepository(session).record(
        actor,
        "channels.map",
        target_type="channels",
        target_id=source,
        details={
            "mappings": [{k: str(v) if v is not None else None for k, v in r.items()} for r in rows]
        },
    )
    return len(rows)
