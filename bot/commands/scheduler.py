"""``frames scheduler``: the project-tool polling scheduler alone."""

from __future__ import annotations

import click

from bot.commands.runtime import configure_logging, console, database, load_settings, run
from bot.scheduling import SchedulerComponent, run_components
from core.pm.config import PMSettings
from core.pm.secrets import SecretResolver
from core.pm.sync import ConnectorPool


@click.command("scheduler")
def scheduler_command() -> None:
    """Poll every enabled project-tool connection on its interval until stopped.

    Only one process cluster-wide polls (a PostgreSQL advisory lock); others stand by and
    take over if it stops.
    """
    settings = load_settings()
    configure_logging(settings)
    pm_settings = PMSettings()

    async def go() -> None:
        async with database(settings) as db:
            pool = ConnectorPool(pm_settings, SecretResolver(settings.secrets_file))
            try:
                console.print("Scheduler running (Ctrl-C to stop).")
                await run_components([SchedulerComponent(db, pool, pm_settings)])
            finally:
                await pool.aclose()

    run(go())
