"""``frames import``: history from DiscordChatExporter and Slack exports."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path

import click
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from bot.commands.import_tasks import tasks_command
from bot.commands.runtime import (
    actor,
    configure_logging,
    console,
    database,
    err_console,
    load_settings,
    run,
)
from core.db.engine import Database
from core.imports.dce import dce_files
from core.imports.discord_import import ImportReport, ProgressCallback, import_discord
from core.imports.slack import import_slack, open_slack_export


@click.group("import")
def import_group() -> None:
    """Import chat history exports (idempotent: re-importing changes nothing)."""


MAP_UNMAPPED = click.option(
    "--map-unmapped",
    "map_unmapped",
    metavar="TEAM_ID",
    help="Map channels without a mapping to this team on the way in.",
)
DRY_RUN = click.option("--dry-run", is_flag=True, help="Read, classify and count; write nothing.")
AS_JSON = click.option(
    "--json", "as_json", is_flag=True, help="Print the report as JSON on stdout."
)


@import_group.command("discord")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@MAP_UNMAPPED
@DRY_RUN
@AS_JSON
def import_discord_command(
    paths: tuple[Path, ...], map_unmapped: str | None, dry_run: bool, as_json: bool
) -> None:
    """Import DiscordChatExporter JSON files (PATHS are files or directories of them)."""
    files = len(dce_files(list(paths)))
    _run_import(
        lambda db, actor_name, progress: import_discord(
            db,
            list(paths),
            actor=actor_name,
            map_unmapped_team=map_unmapped,
            dry_run=dry_run,
            progress=progress,
        ),
        files,
        as_json,
    )


@import_group.command("slack")
@click.argument("export", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@MAP_UNMAPPED
@DRY_RUN
@AS_JSON
def import_slack_command(
    export: Path, map_unmapped: str | None, dry_run: bool, as_json: bool
) -> None:
    """Import a Slack workspace export (EXPORT.zip: users.json, channels.json, a folder per
    channel with a JSON file per day). Slack users link to people by email."""
    files = sum(
        1 for n in open_slack_export(export).archive.namelist() if "/" in n and n.endswith(".json")
    )
    _run_import(
        lambda db, actor_name, progress: import_slack(
            db,
            export,
            actor=actor_name,
            map_unmapped_team=map_unmapped,
            dry_run=dry_run,
            progress=progress,
        ),
        files,
        as_json,
    )


def _run_import(
    start: Callable[[Database, str, ProgressCallback], Awaitable[ImportReport]],
    files: int,
    as_json: bool,
) -> None:
    settings = load_settings()
    configure_logging(settings)
    out = err_console if as_json else console

    async def go() -> ImportReport:
        async with database(settings) as db:
            with Progress(
                TextColumn("Importing"),
                BarColumn(),
                TextColumn("{task.completed}/{task.total} files"),
                TextColumn("{task.fields[messages]:,} messages · {task.fields[rate]:,.0f}/s"),
                TimeElapsedColumn(),
                console=out,
                transient=as_json,
            ) as progress:
                task = progress.add_task("import", total=files, messages=0, rate=0.0)

                def update(files_done: int, messages: int) -> None:
                    elapsed = progress.tasks[task].elapsed or 0.0
                    rate = messages / elapsed if elapsed > 0 else 0.0
                    progress.update(task, completed=files_done, messages=messages, rate=rate)

                return await start(db, actor(), update)

    report = run(go())
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2, sort_keys=True))
    else:
        print_report(report)


def print_report(report: ImportReport) -> None:
    verb = "Would import" if report.dry_run else "Imported"
    rate = report.messages_read / report.seconds if report.seconds else 0
    console.print(
        f"{verb} {report.files} files: {report.messages_read:,} messages read, "
        f"{report.messages_written:,} written, {report.interfaces_written:,} interfaces, "
        f"{report.reactions_written:,} reactions ({report.seconds:.1f} s, {rate:,.0f} messages/s)."
    )
    if report.content_withheld:
        console.print(
            f"Content withheld by consent rules for {report.content_withheld:,} messages "
            "(metadata kept)."
        )
    for reason, count in sorted(report.skipped.items()):
        console.print(f"Skipped {count:,} messages: {reason}.")
    if report.unmapped_channels:
        listed = ", ".join(
            f"{report.channel_names.get(c, c)} [{c}] ({n})"
            for c, n in sorted(report.unmapped_channels.items())
        )
        console.print(
            f"Unmapped channels (map them with `frames channels map`, or --map-unmapped): {listed}"
        )
    for name, where in report.truncated_files.items():
        console.print(f"[yellow]{name} is cut off: imported what was complete, stopped {where}.[/]")
    for name, why in report.bad_files.items():
        console.print(f"[yellow]{name} skipped: {why}.[/]")
    for name, (declared, read) in report.count_mismatches.items():
        console.print(
            f"{name}: messageCount says {declared}, the file holds {read}; imported {read}."
        )


import_group.add_command(tasks_command)
