"""The long-running components ``frames run`` composes: one life cycle, one stop signal.

Each component starts, runs until asked to stop, and stops; ``run_components`` starts them
in order, waits for SIGINT/SIGTERM (or for any component to fail), then stops them in
reverse order. The Discord bot joins as one more :class:`Component` when it lands.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Sequence
from typing import Protocol

from aiohttp import web

from core.db.engine import Database
from core.pm.config import PMSettings
from core.pm.scheduler import PMScheduler
from core.pm.sync import ConnectorPool
from core.settings import Settings
from web_panel.app import create_app

log = logging.getLogger(__name__)


class Component(Protocol):
    name: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class SchedulerComponent:
    name = "scheduler"

    def __init__(self, db: Database, pool: ConnectorPool, pm_settings: PMSettings) -> None:
        self.scheduler = PMScheduler(db, pool, pm_settings)

    async def start(self) -> None:
        await self.scheduler.start()

    async def stop(self) -> None:
        await self.scheduler.stop()


class PanelComponent:
    name = "panel"

    def __init__(
        self,
        settings: Settings,
        db: Database,
        *,
        host: str,
        port: int,
        pm_settings: PMSettings,
        pool: ConnectorPool | None = None,
    ) -> None:
        self.app = create_app(settings, db, pm_settings=pm_settings, pool=pool)
        self.host, self.port = host, port
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()
        log.info("panel listening on http://%s:%d", self.host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


async def run_components(
    components: Sequence[Component], stop: asyncio.Event | None = None
) -> None:
    """Start everything, wait for a stop signal, stop everything (reverse order)."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
    started: list[Component] = []
    try:
        for component in components:
            await component.start()
            started.append(component)
            log.info("%s started", component.name)
        await stop.wait()
        log.info("stopping %s", ", ".join(c.name for c in reversed(started)))
    finally:
        for component in reversed(started):
            try:
                await component.stop()
            except Exception:
                log.exception("%s did not stop cleanly", component.name)
        for sig in installed:
            loop.remove_signal_handler(sig)
