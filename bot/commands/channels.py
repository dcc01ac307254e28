"""``frames channels``: which team or program each Discord channel belongs to."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
from rich.table import Table

from bot.commands.runtime import actor, configure_logging, console, database, load_settings, run
from core.db.models import ChannelMapping
from core.db.repositories.capture_live import LiveCaptureRepository, UnmappedChannel
from core.db.repositories.channels import ChannelMappingRepository
from core.errors import FramesError
from core.org.channels import (
    ChannelMappingRecord,
    map_category,
    map_channels,
    parse_channels_csv,
    unmap_channels,
)
from core.settings import Settings


def _snowflake(value: str, name: str) -> int:
    if not value.isdigit() or len(value) > 20 or int(value) >= 2**63:
        raise click.BadParameter(f"{value!r} is not a Discord id", param_hint=name)
    return int(value)


@click.group("channels")
def channels_group() -> None:
    """Map Discord channels to teams or programs."""


@channels_group.command("map")
@click.argument("guild_id")
@click.argument("channel_id", required=False)
@click.option(
    "--category",
    "category_id",
    help="Map every channel under this Discord CATEGORY_ID (instead of one CHANNEL_ID).",
)
@click.option("--team", "team_id", help="TEAM_ID the channel belongs to.")
@click.option(
    "--program", "program_id", help="PROGRAM_ID, for a channel shared across universities."
)
def channels_map(
    guild_id: str,
    channel_id: str | None,
    category_id: str | None,
    team_id: str | None,
    program_id: str | None,
) -> None:
    """Map CHANNEL_ID in GUILD_ID to a team (or a program). Unseen guilds are accepted.

    With --category CATEGORY_ID, map every channel the bot has seen under that category
    (the bot records a guild's channels and categories when it connects).
    """
    if (team_id is None) == (program_id is None):
        raise click.UsageError("give exactly one of --team and --program")
    if (channel_id is None) == (category_id is None):
        raise click.UsageError("give exactly one of CHANNEL_ID and --category CATEGORY_ID")
    guild = _snowflake(guild_id, "GUILD_ID")
    target = f"team {team_id}" if team_id else f"program {program_id}"
    settings = load_settings()
    configure_logging(settings)

    if category_id is not None:
        category = _snowflake(category_id, "--category")

        async def go_category() -> list[int]:
            async with database(settings) as db, db.transaction() as session:
                return await map_category(
                    session, guild, category, team_id=team_id, program_id=program_id, actor=actor()
                )

        mapped = run(go_category())
        console.print(f"Category {category_id}: {len(mapped)} channels → {target}.", soft_wrap=True)
        for channel in mapped:
            console.print(f"  {channel}", soft_wrap=True)
        return

    assert channel_id is not None
    record = ChannelMappingRecord(guild, _snowflake(channel_id, "CHANNEL_ID"), team_id, program_id)

    async def go() -> None:
        async with database(settings) as db, db.transaction() as session:
            await map_channels(session, [record], actor=actor(), source="command line")

    run(go())
    console.print(f"Channel {channel_id} → {target}.", soft_wrap=True)


@channels_group.command("unmap")
@click.argument("channel_id", required=False)
@click.option(
    "--category", "category_id", help="Unmap every mapped channel under this CATEGORY_ID."
)
def channels_unmap(channel_id: str | None, category_id: str | None) -> None:
    """Stop capturing CHANNEL_ID (or a whole category); what was stored stays.

    A running bot stops storing the channel within seconds (it reloads mappings every 5 s).
    """
    if (channel_id is None) == (category_id is None):
        raise click.UsageError("give exactly one of CHANNEL_ID and --category CATEGORY_ID")
    channel = _snowflake(channel_id, "CHANNEL_ID") if channel_id is not None else None
    category = _snowflake(category_id, "--category") if category_id is not None else None
    settings = load_settings()
    configure_logging(settings)

    async def go() -> list[ChannelMapping]:
        async with database(settings) as db, db.transaction() as session:
            return await unmap_channels(
                session, channel_id=channel, category_id=category, actor=actor()
            )

    removed = run(go())
    for m in removed:
        was = f"team {m.team_id}" if m.team_id else f"program {m.program_id}"
        console.print(
            f"Channel {m.channel_id} unmapped (was {was}); stored messages are kept.",
            soft_wrap=True,
        )


@channels_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def channels_import(file: Path) -> None:
    """Import mappings from a CSV: guild_id,channel_id,team_id,program_id (one of the last two)."""
    records = parse_channels_csv(file)
    settings = load_settings()
    configure_logging(settings)

    async def go() -> int:
        async with database(settings) as db, db.transaction() as session:
            return await map_channels(session, records, actor=actor(), source=file.name)

    console.print(f"Mapped {run(go())} channels.", soft_wrap=True)


@channels_group.command("list")
@click.option(
    "--unmapped",
    is_flag=True,
    help="Channels the bot has seen that are not mapped, with the messages it skipped.",
)
def channels_list(unmapped: bool) -> None:
    """List channel mappings (or, with --unmapped, what the bot sees but does not capture)."""
    settings = load_settings()
    configure_logging(settings)
    if unmapped:
        _list_unmapped(settings)
        return

    async def go() -> list[ChannelMapping]:
        async with database(settings) as db, db.sessions() as session:
            return await ChannelMappingRepository(session).all()

    mappings = run(go())
    if not mappings:
        raise FramesError("no channels are mapped yet; use `frames channels map` or `import`")
    table = Table()
    for column in ("guild", "channel", "team", "program", "university"):
        table.add_column(column)
    for m in mappings:
        table.add_row(
            str(m.guild_id),
            str(m.channel_id),
            m.team_id or "",
            m.program_id or "",
            m.university_id or "",
        )
    console.print(table)


def _when(value: dt.datetime | None) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC") if value else ""


def _list_unmapped(settings: Settings) -> None:
    async def go() -> list[UnmappedChannel]:
        async with database(settings) as db, db.sessions() as session:
            return await LiveCaptureRepository(session).unmapped_channels()

    channels = run(go())
    if not channels:
        console.print("No unmapped channels seen.", soft_wrap=True)
        return
    table = Table(title="Unmapped channels (messages counted, not stored)")
    for column in ("guild", "channel", "name", "category", "messages", "first seen", "last seen"):
        table.add_column(column, no_wrap=True)
    for c in channels:
        table.add_row(
            str(c.guild_id or ""),
            str(c.channel_id),
            c.name or "",
            str(c.category_id or ""),
            str(c.messages),
            _when(c.first_seen_at),
            _when(c.last_seen_at),
        )
    console.print(table)
    console.print(
        "Map one with `frames channels map GUILD_ID CHANNEL_ID --team TEAM_ID`, "
        "or a category with `--category CATEGORY_ID`.",
        soft_wrap=True,
    )
