"""``frames demo``: the whole pipeline on a simulated program, on the embedded database."""

from __future__ import annotations

import datetime as dt
import shutil
import time
from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bot.commands.runtime import actor, configure_logging, console, database, load_settings, run
from core.demo import DEMO_STEPS, DemoReport, run_demo_imports
from core.pm.config import PMSettings
from core.settings import Settings
from core.simulate import SimulationConfig, planned_messages, simulate


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description:<28}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        console=console,
    )


@click.command("demo")
@click.option("--seed", default=1, show_default=True, help="Simulator seed.")
@click.option("--universities", default=8, show_default=True, help="Universities to simulate.")
@click.option("--weeks", default=16, show_default=True, help="Weeks of activity to simulate.")
@click.option(
    "--messages", type=int, help="Total messages (default: follows from people and weeks)."
)
@click.option("--reset", is_flag=True, help="Delete the data directory first and start fresh.")
@click.option(
    "--no-serve", is_flag=True, help="Exit after the summary instead of serving the panel."
)
def demo_command(
    seed: int, universities: int, weeks: int, messages: int | None, reset: bool, no_serve: bool
) -> None:
    """Simulate a program, import it into the embedded database and summarise it."""
    settings = load_settings()
    configure_logging(settings)
    started = time.perf_counter()
    _announce_data_dir(settings, reset)
    out_dir = settings.data_dir / "demo-program"
    config = SimulationConfig(seed=seed, universities=universities, weeks=weeks, messages=messages)

    with _progress() as progress:
        total = planned_messages(config)
        task = progress.add_task("Simulating program", total=total, rate="")
        if out_dir.exists():
            shutil.rmtree(out_dir)
        summary = simulate(config, out_dir, progress=lambda n: progress.advance(task, n))
        progress.update(task, completed=total, rate=f"{summary.messages:,} messages")

    async def go() -> DemoReport:
        with _progress() as progress:
            task = progress.add_task("Starting database", total=None, rate="")
            async with database(settings) as db:
                progress.update(
                    task, description="Importing organisation", total=len(DEMO_STEPS), rate=""
                )
                messages = progress.add_task(
                    "Importing messages", total=summary.messages, rate="", start=False
                )

                def step_done(step: str) -> None:
                    progress.update(task, advance=1, rate=step)

                def messages_read(files: int, count: int) -> None:
                    progress.start_task(messages)
                    elapsed = progress.tasks[messages].elapsed or 0.0
                    rate = f"{count / elapsed:,.0f} msg/s" if elapsed else ""
                    progress.update(messages, completed=count, rate=f"{files} files · {rate}")

                return await run_demo_imports(
                    db,
                    out_dir,
                    actor=actor(),
                    on_step=step_done,
                    on_messages=messages_read,
                    handoff_window=dt.timedelta(seconds=PMSettings().handoff_window_seconds),
                )

    report = run(go())
    _print_summary(report, out_dir, time.perf_counter() - started)
    if not no_serve:
        console.print("The researcher panel is not built yet; exiting (as with --no-serve).")


def _announce_data_dir(settings: Settings, reset: bool) -> None:
    if settings.database_url is not None:
        console.print("Using the database in DATABASE_URL (imports are idempotent).")
        return
    data_dir = settings.data_dir
    if reset and data_dir.exists():
        shutil.rmtree(data_dir)
        console.print(f"Reset: deleted {data_dir} and starting fresh.")
    elif settings.pgdata_dir.exists():
        console.print(
            f"Reusing the data directory {data_dir} (imports are idempotent; --reset starts fresh)."
        )
    else:
        console.print(f"Creating a new data directory at {data_dir}.")
    data_dir.mkdir(parents=True, exist_ok=True)


def _print_summary(report: DemoReport, out_dir: Path, seconds: float) -> None:
    table = Table(title="Demo program")
    for column in ("university", "teams", "people", "channels", "messages"):
        table.add_column(column, justify="right" if column != "university" else "left")
    for row in report.universities:
        table.add_row(
            row.university_id,
            str(row.teams),
            str(row.people),
            str(row.channels),
            f"{row.messages:,}",
        )
    console.print(table)
    for line in report.notes:
        console.print(f"• {line}")
    console.print(f"Simulated files in {out_dir}. Finished in {seconds:.1f} s.")
