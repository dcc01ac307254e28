"""``frames capture status``: each mapped channel's and thread's checkpoint, lag and counts."""

from __future__ import annotations

import json

import click
from rich.table import Table

from bot.commands.runtime import configure_logging, console, database, load_settings, run
from core.capture.status import CaptureStatus, capture_status, human_duration


@click.group("capture")
def capture_group() -> None:
    """The live Discord capture."""


@capture_group.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON on stdout.")
def capture_status_command(as_json: bool) -> None:
    """Each mapped channel and thread: checkpoint, its time, lag and stored messages.

    The checkpoint is the last stored message of the stream; the lag is how long ago it
    was sent. Unmapped channels are summarised (details: `frames channels list --unmapped`).
    """
    settings = load_settings()
    configure_logging(settings)

    async def go() -> CaptureStatus:
        async with database(settings) as db, db.sessions() as session:
            return await capture_status(session)

    status = run(go())
    if as_json:
        click.echo(json.dumps(status.as_dict(), indent=2))
        return
    if not status.streams:
        console.print(
            "No channels are mapped, so nothing is captured; map some with `frames channels map`.",
            soft_wrap=True,
        )
    else:
        table = Table(title="Capture by channel and thread")
        for column in ("guild", "channel", "name", "team", "checkpoint", "checkpoint at", "lag"):
            table.add_column(column, no_wrap=True)
        table.add_column("messages", justify="right", no_wrap=True)
        table.add_column("deleted", justify="right", no_wrap=True)
        for stream in status.streams:
            s = stream.state
            table.add_row(
                str(s.guild_id or ""),
                str(s.stream_id) if s.parent_id is None else f"└ {s.stream_id}",
                s.name or "",
                s.team_id or (f"program {s.program_id}" if s.program_id else ""),
                str(s.last_message_id) if s.last_message_id else "none yet",
                stream.checkpoint_at.strftime("%Y-%m-%d %H:%M:%S UTC")
                if stream.checkpoint_at
                else "",
                human_duration(stream.lag) if stream.lag is not None else "",
                f"{s.messages:,}",
                f"{s.deleted:,}",
            )
        console.print(table)
    if status.unmapped_channels:
        console.print(
            f"Unmapped: {status.unmapped_channels} channels with {status.unmapped_messages:,} "
            "messages seen and not stored (`frames channels list --unmapped`).",
            soft_wrap=True,
        )
    else:
        console.print("Unmapped: no messages seen outside mapped channels.", soft_wrap=True)
