"""``frames simulate``: write a synthetic consortium's roster, chat exports and tasks."""

from __future__ import annotations

import time
from pathlib import Path

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from core.errors import FramesError
from core.simulate import (
    SimulationConfig,
    SimulationSummary,
    clear_output,
    planned_messages,
    planted_failures,
    simulate,
)

console = Console(highlight=False)
progress_console = Console(stderr=True, highlight=False)


class MessageRateColumn(ProgressColumn):
    """Messages per second (rich's speed columns speak bytes)."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f} msg/s" if speed else "-- msg/s", style="progress.data.speed")


def _check_out_dir(out: Path, force: bool) -> None:
    if out.exists() and not out.is_dir():
        raise FramesError(f"{out} exists and is not a directory")
    if out.is_dir() and any(out.iterdir()):
        if not force:
            raise FramesError(
                f"{out} is not empty; choose another --out or add --force to replace "
                "the simulator's files in it"
            )
        clear_output(out)


@click.command("simulate")
@click.option(
    "--seed",
    type=int,
    default=1,
    show_default=True,
    help="Random seed: the same seed and options give byte-identical files.",
)
@click.option(
    "--universities",
    type=int,
    default=8,
    show_default=True,
    help="Universities in the consortium (1-26; the first 8 are named, the rest generated).",
)
@click.option(
    "--weeks",
    type=int,
    default=16,
    show_default=True,
    help="Weeks of activity from the fall term's first day (2026-08-24).",
)
@click.option(
    "--messages",
    "messages",
    type=int,
    default=None,
    metavar="M",
    help="Exactly M messages in total, keeping the program's structure. Default: "
    "the volume follows from people and weeks (about 28,000 for the defaults).",
)
@click.option(
    "--out",
    "out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    metavar="DIR",
    help="Folder to write into; created if missing.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Write into a non-empty folder, replacing the files of an earlier run.",
)
def simulate_command(
    seed: int, universities: int, weeks: int, messages: int | None, out: Path, force: bool
) -> None:
    """Simulate a multi-university CubeSat program and write it to DIR.

    \b
    DIR receives:
      roster.csv, terms.csv, channels.csv, outcomes.csv   organisation and labels
      discord/ (and discord/_threads/)                    DiscordChatExporter JSON
      pm/tasks.json                                       GitHub and Jira tasks
      manifest.json                                       counts, hashes, ground truth

    Six teams get a planted failure, one per NDA dimension, listed in the manifest.
    Large runs use one worker process per CPU; --messages 1000000 takes well under a minute.
    """
    config = SimulationConfig(seed=seed, universities=universities, weeks=weeks, messages=messages)
    total = planned_messages(config)  # validates the options before touching the folder
    _check_out_dir(out, force)
    started = time.perf_counter()
    with Progress(
        TextColumn("[bold]Simulating"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("messages"),
        MessageRateColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        TimeElapsedColumn(),
        console=progress_console,
    ) as progress:
        task = progress.add_task("messages", total=total)
        summary = simulate(config, out, progress=lambda count: progress.advance(task, count))
    _print_summary(summary, config, time.perf_counter() - started)


def _print_summary(summary: SimulationSummary, config: SimulationConfig, seconds: float) -> None:
    table = Table(title=f"Simulated program (seed {config.seed})", show_header=False)
    table.add_column("what")
    table.add_column("count", justify="right")
    for label, value in (
        ("messages", summary.messages),
        ("threads", summary.threads),
        ("channels", summary.channels),
        ("people", summary.people),
        ("teams", summary.teams),
        ("tasks", summary.tasks),
        ("inferred replies", summary.inferred_replies),
        ("files", summary.files),
    ):
        table.add_row(label, f"{value:,}")
    console.print(table)
    for failure in planted_failures(config):
        console.print(f"• planted {failure['dimension']}: {failure['team_id']}")
    rate = summary.messages / seconds if seconds > 0 else 0.0
    console.print(f"Wrote {summary.out_dir} in {seconds:.1f} s ({rate:,.0f} messages/s).")
