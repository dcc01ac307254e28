"""Mapping Discord channels to teams (or to a program, for channels shared across universities).

CSV format (``frames channels import``): header ``guild_id,channel_id,team_id,program_id``
with exactly one of the last two filled per row; a three-column file
``guild_id,channel_id,team_id`` or ``guild_id,channel_id,program_id`` is accepted too.
Guilds the bot has not seen yet are accepted: mappings are made before the bot joins.

A whole Discord category is mapped at once from what the bot recorded of the guild (its
channels and their categories, at GUILD_CREATE and on channel events), so the bot must have
seen the guild first. Unmapping removes the mapping only: what was stored stays, and the
running capture stops storing the channel when it next refreshes its channel context
(``CapturePipeline.context_ttl``, 5 s).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from core.csv_input import read_csv
from core.db.models import ChannelMapping, Program
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
        if all(record.line is None for record in records):
            # From the command line: one team or program named for every channel.
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


async def map_category(
    session: AsyncSession,
    guild_id: int,
    category_id: int,
    *,
    team_id: str | None = None,
    program_id: str | None = None,
    actor: str,
) -> list[int]:
    """Map every channel the bot has recorded under ``category_id`` in ``guild_id``;
    returns the channel ids mapped."""
    channels = ChannelMappingRepository(session)
    if not await channels.guild_seen(guild_id):
        raise NotFoundError(
            f"guild {guild_id} has not been seen by the bot; invite it (`frames bot "
            "invite-url`) and run `frames bot` once so it records the guild's channels",
            guild_id=guild_id,
        )
    category = await channels.recorded_channel(category_id)
    if category is None or category.kind != "category" or category.guild_id != guild_id:
        raise NotFoundError(
            f"category {category_id} is not a category of guild {guild_id} that the bot has "
            "seen; `frames channels list --unmapped` shows channels with their category",
            guild_id=guild_id,
            category_id=category_id,
        )
    members = await channels.channels_in_category(category_id)
    if not members:
        raise NotFoundError(
            f"category {category_id} ({category.name}) holds no channels", category_id=category_id
        )
    records = [ChannelMappingRecord(guild_id, c.id, team_id, program_id) for c in members]
    await map_channels(session, records, actor=actor, source=f"category {category_id}")
    return [c.id for c in members]


async def unmap_channels(
    session: AsyncSession,
    *,
    channel_id: int | None = None,
    category_id: int | None = None,
    actor: str,
) -> list[ChannelMapping]:
    """Stop capturing a channel (or every mapped channel of a category): the mapping goes,
    stored messages stay. Returns the removed mappings."""
    channels = ChannelMappingRepository(session)
    if channel_id is not None:
        wanted = [channel_id]
        target = str(channel_id)
    elif category_id is not None:
        wanted = [c.id for c in await channels.channels_in_category(category_id)]
        target = f"category {category_id}"
    else:
        raise ValueError("give a channel or a category")
    removed = await channels.remove(wanted)
    if not removed:
        if channel_id is not None:
            what = f"channel {channel_id} is not"
        else:
            what = f"no channel of category {category_id} is"
        raise NotFoundError(f"{what} mapped; `frames channels list` shows the mappings")
    await AuditRepository(session).record(
        actor,
        "channels.unmap",
        target_type="channels",
        target_id=target,
        details={
            "unmapped": [
                {
                    "guild_id": str(m.guild_id),
                    "channel_id": str(m.channel_id),
                    "team_id": m.team_id,
                    "program_id": m.program_id,
                }
                for m in removed
            ]
        },
    )
    return removed
