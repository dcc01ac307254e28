"""``frames channels``: which team or program each Discord channel belongs to."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from bot.commands.runtime import actor, configure_logging, console, database, load_settings, run
from core.db.models import ChannelMapping
from core.db.repositories.channels import ChannelMappingRepository
from core.errors import FramesError
from core.org.channels import ChannelMappingRecord, map_channels, parse_channels_csv


def _snowflake(value: str, name: str) -> int:
    if not value.isdigit() or len(value) > 20 or int(value) >= 2**63:
        raise click.BadParameter(f"{value!r} is not a Discord id", param_hint=name)
    return int(value)


@click.group("channels")
def channels_group() -> None:
    """Map Discord channels to teams or programs."""


@channels_group.command("map")
@click.argument("guild_id")
@click.argument("channel_id")
@click.option("--team", "team_id", help="TEAM_ID the channel belongs to.")
@click.option(
    "--program", "program_id", help="PROGRAM_ID, for a channel shared across universities."
)
def channels_map(
    guild_id: str, channel_id: str, team_id: str | None, program_id: str | None
) -> None:
    """Map CHANNEL_ID in GUILD_ID to a team (or a program). Unseen guilds are accepted."""
    if (team_id is None) == (program_id is None):
        raise click.UsageError("give exactly one of --team and --program")
    record = ChannelMappingRecord(
        _snowflake(guild_id, "GUILD_ID"), _snowflake(channel_id, "CHANNEL_ID"), team_id, program_id
    )
    settings = load_settings()
    configure_logging(settings)

    async def go() -> None:
        async with database(settings) as db, db.transaction() as session:
            await map_channels(session, [record], actor=actor(), source="command line")

    run(go())
    console.print(
        f"Channel {channel_id} → {'team ' + team_id if team_id else 'program ' + str(program_id)}."
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

    console.print(f"Mapped {run(go())} channels.")


@channels_group.command("list")
def channels_list() -> None:
    """List channel mappings."""
    settings = load_settings()
    configure_logging(settings)

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
