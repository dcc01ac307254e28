"""``frames panel``: the aiohttp panel alone (``/healthz`` and the webhook receivers)."""

from __future__ import annotations

import click

from bot.commands.runtime import configure_logging, console, database, load_settings, run
from bot.scheduling import PanelComponent, run_components
from core.pm.config import PMSettings


@click.command("panel")
@click.option(
    "--host", default=None, help="Interface to bind (default FRAMES_PANEL_HOST, 127.0.0.1)."
)
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=None,
    help="Port (default FRAMES_PANEL_PORT, 8080).",
)
def panel_command(host: str | None, port: int | None) -> None:
    """Serve the panel: /healthz and /webhooks/{tool}/{connection}. Stop with Ctrl-C."""
    settings = load_settings()
    configure_logging(settings)
    pm_settings = PMSettings()
    bind_host, bind_port = host or settings.panel_host, port or settings.panel_port

    async def go() -> None:
        async with database(settings) as db:
            panel = PanelComponent(
                settings, db, host=bind_host, port=bind_port, pm_settings=pm_settings
            )
            console.print(f"Panel on http://{bind_host}:{bind_port} (Ctrl-C to stop).")
            await run_components([panel])

    run(go())
