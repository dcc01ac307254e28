"""``frames run``: everything one program needs, in one process.

Components: the Discord bot (when ``DISCORD_TOKEN`` is set), the scheduler (unless
``FRAMES_RUN_SCHEDULER=false``) and the panel. They share the database and the
connectors' HTTP clients.
"""

from __future__ import annotations

import click

from bot.commands.runtime import configure_logging, console, database, load_settings, run
from bot.discord_bot import BotComponent
from bot.scheduling import Component, PanelComponent, SchedulerComponent, run_components
from core.pm.config import PMSettings
from core.pm.secrets import SecretResolver
from core.pm.sync import ConnectorPool


@click.command("run")
@click.option("--host", default=None, help="Panel interface (default FRAMES_PANEL_HOST).")
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=None,
    help="Panel port (default FRAMES_PANEL_PORT).",
)
def run_command(host: str | None, port: int | None) -> None:
    """Start the Discord bot (if DISCORD_TOKEN is set), the scheduler and the panel together."""
    settings = load_settings()
    configure_logging(settings)
    pm_settings = PMSettings()
    bind_host, bind_port = host or settings.panel_host, port or settings.panel_port

    async def go() -> None:
        async with database(settings) as db:
            pool = ConnectorPool(pm_settings, SecretResolver(settings.secrets_file))
            components: list[Component] = []
            if settings.discord_token is not None:
                components.append(BotComponent(settings, db))
            else:
                console.print("DISCORD_TOKEN is not set: running without the Discord bot.")
            if settings.run_scheduler:
                components.append(SchedulerComponent(db, pool, pm_settings))
            components.append(
                PanelComponent(
                    settings, db, host=bind_host, port=bind_port, pm_settings=pm_settings, pool=pool
                )
            )
            names = ", ".join(c.name for c in components)
            console.print(
                f"Running {names}; panel on http://{bind_host}:{bind_port} (Ctrl-C to stop)."
            )
            try:
                await run_components(components)
            finally:
                await pool.aclose()

    run(go())
