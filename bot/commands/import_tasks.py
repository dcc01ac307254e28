"""``frames import tasks``: a project-tool task file (the simulator's ``pm/tasks.json``)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import click
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn

from bot.commands.runtime import (
    actor,
    configure_logging,
    console,
    database,
    err_console,
    load_settings,
    run,
)
from core.pm.config import PMSettings
from core.pm.task_file import TaskImportReport, import_task_file


@click.command("tasks")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON on stdout.")
def tasks_command(file: Path, as_json: bool) -> None:
    """Import project-tool tasks from FILE (a JSON array of tasks with their events, as
    `frames simulate` writes to pm/tasks.json). Import the roster first: tasks name its
    teams, and assignees link to people by GitHub login or e-mail. Idempotent: importing
    the same file again changes nothing. A malformed task is skipped and reported."""
    settings = load_settings()
    configure_logging(settings)
    window = dt.timedelta(seconds=PMSettings().handoff_window_seconds)
    out = err_console if as_json else console
    size = file.stat().st_size

    async def go() -> TaskImportReport:
        async with database(settings) as db:
            with Progress(
                TextColumn("Importing tasks"),
                BarColumn(),
                DownloadColumn(),
                TextColumn("{task.fields[tasks]:,} tasks"),
                TimeElapsedColumn(),
                console=out,
                transient=as_json,
            ) as progress:
                bar = progress.add_task("tasks", total=size, tasks=0)

                def update(tasks_read: int, bytes_read: int, total: int) -> None:
                    progress.update(bar, completed=bytes_read, total=total, tasks=tasks_read)

                return await import_task_file(
                    db, file, actor=actor(), handoff_window=window, progress=update
                )

    report = run(go())
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2, sort_keys=True))
    else:
        print_report(report)


def print_report(report: TaskImportReport) -> None:
    console.print(
        f"Imported {report.tasks:,} of {report.tasks_read:,} tasks ({report.new_tasks:,} new): "
        f"{report.events:,} events, {report.handoffs:,} handoffs, "
        f"{report.interfaces:,} interfaces, {report.dependencies:,} dependencies "
        f"({report.seconds:.1f} s)."
    )
    if report.linked:
        console.print(f"{report.linked:,} tool accounts linked to people by e-mail.")
    if report.connections_created:
        console.print(
            "Created connections (disabled, nothing to poll): "
            + ", ".join(report.connections_created)
            + "."
        )
    if report.skipped:
        console.print(f"Skipped {len(report.skipped):,} tasks:")
        for skipped in report.skipped:
            console.print(f"  {skipped}", markup=False)
