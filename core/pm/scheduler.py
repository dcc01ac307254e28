"""Polling every connection on its own interval, in exactly one process cluster-wide.

APScheduler's ``AsyncIOScheduler`` runs the jobs with ``max_instances=1`` and
``coalesce=True``; the jobs are built from ``pm_connections`` when this process becomes the
leader (and re-read every few minutes); the only durable state is each connection's cursor
in PostgreSQL, so no job store runs on the event loop. Leadership is a session-level
PostgreSQL advisory lock held on a dedicated connection: another process trying to run the
scheduler waits as a standby and takes over when the leader's connection goes away.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from core.db.engine import Database
from core.db.repositories.pm import PMRepository
from core.pm.config import PMSettings
from core.pm.sync import ConnectorPool, SyncReport, sync_connection

log = logging.getLogger(__name__)

# Any fixed 64-bit number works; this one spells "FRAMESPM" in ASCII.
SCHEDULER_LOCK_KEY = 0x4652414D45535049
RELOAD_JOB_ID = "__reload_connections__"


class PMScheduler:
    def __init__(
        self,
        db: Database,
        pool: ConnectorPool,
        pm_settings: PMSettings,
        *,
        lock_key: int = SCHEDULER_LOCK_KEY,
    ) -> None:
        self.db = db
        self.pool = pool
        self.pm_settings = pm_settings
        self.lock_key = lock_key
        self._scheduler: AsyncIOScheduler | None = None
        self._leader_task: asyncio.Task[None] | None = None
        self._lock_connection: AsyncConnection | None = None
        self._intervals: dict[str, int] = {}
        self.is_leader = asyncio.Event()
        self._running: set[asyncio.Task[object]] = set()  # syncs in flight, cancelled on stop
        self.runs: dict[str, int] = {}  # connection → completed syncs (for status and tests)
        self.failures: dict[str, int] = {}

    # --- life cycle ------------------------------------------------------------------------
    async def start(self) -> None:
        self._scheduler = AsyncIOScheduler(
            timezone=dt.UTC,
            job_defaults={"max_instances": 1, "coalesce": True, "misfire_grace_time": None},
        )
        self._scheduler.start()
        self._leader_task = asyncio.create_task(self._lead(), name="pm-scheduler-leadership")
        self._leader_task.add_done_callback(self._leadership_ended)

    def _leadership_ended(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("scheduler leadership loop stopped", exc_info=task.exception())

    async def stop(self) -> None:
        if self._leader_task is not None:
            self._leader_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._leader_task
            self._leader_task = None
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        running = list(self._running)
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        await self._release()

    async def __aenter__(self) -> PMScheduler:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # --- leadership ------------------------------------------------------------------------
    async def _try_lock(self) -> bool:
        connection = await self.db.engine.connect()
        try:
            acquired = bool(
                await connection.scalar(
                    text("SELECT pg_try_advisory_lock(:key)"), {"key": self.lock_key}
                )
            )
            await connection.commit()  # end the implicit transaction; the session lock stays
        except BaseException:
            await connection.close()
            raise
        if not acquired:
            await connection.close()
            return False
        self._lock_connection = connection
        return True

    async def _still_holding(self) -> bool:
        if self._lock_connection is None:
            return False
        try:
            await self._lock_connection.scalar(text("SELECT 1"))
            await self._lock_connection.commit()
            return True
        except Exception:
            log.warning("lost the scheduler lock's database connection", exc_info=True)
            return False

    async def _release(self) -> None:
        connection, self._lock_connection = self._lock_connection, None
        self.is_leader.clear()
        if connection is None:
            return
        try:
            await connection.execute(
                text("SELECT pg_advisory_unlock(:key)"), {"key": self.lock_key}
            )
            await connection.commit()
        except Exception:
            log.warning("could not release the scheduler lock cleanly", exc_info=True)
        finally:
            with contextlib.suppress(Exception):
                await connection.close()

    async def _lead(self) -> None:
        while True:
            if self._lock_connection is None:
                try:
                    acquired = await self._try_lock()
                except Exception:
                    log.warning("scheduler could not reach PostgreSQL for its lock", exc_info=True)
                    acquired = False
                if acquired:
                    log.info("this process now runs the project-tool scheduler")
                    await self.reload()
                    self.is_leader.set()
                else:
                    log.debug("another process runs the scheduler; standing by")
            elif not await self._still_holding():
                self._remove_connection_jobs()
                await self._release()
                continue
            await asyncio.sleep(self.pm_settings.lock_retry_seconds)

    # --- jobs ------------------------------------------------------------------------------
    def _remove_connection_jobs(self) -> None:
        if self._scheduler is None:
            return
        for job in self._scheduler.get_jobs():
            job.remove()
        self._intervals.clear()

    async def reload(self) -> None:
        """(Re)build one interval job per enabled connection from pm_connections."""
        scheduler = self._scheduler
        if scheduler is None or self._lock_connection is None:
            return
        async with self.db.sessions() as session:
            connections = await PMRepository(session).connections(enabled_only=True)
        wanted = {c.id: max(1, c.poll_interval_seconds) for c in connections}
        for connection_id in set(self._intervals) - set(wanted):
            with contextlib.suppress(Exception):
                scheduler.remove_job(connection_id)
            del self._intervals[connection_id]
        for connection_id, interval in wanted.items():
            if self._intervals.get(connection_id) == interval:
                continue
            scheduler.add_job(
                self.run_sync,
                IntervalTrigger(seconds=interval, timezone=dt.UTC),
                args=[connection_id],
                id=connection_id,
                name=f"poll {connection_id}",
                replace_existing=True,
                max_instances=1,
                coalesce=True,
                next_run_time=dt.datetime.now(dt.UTC),
            )
            self._intervals[connection_id] = interval
        if scheduler.get_job(RELOAD_JOB_ID) is None:
            scheduler.add_job(
                self.reload,
                IntervalTrigger(seconds=self.pm_settings.reload_seconds, timezone=dt.UTC),
                id=RELOAD_JOB_ID,
                max_instances=1,
                coalesce=True,
            )
        log.info("scheduler polls %d connections", len(wanted))

    def jobs(self) -> list[Any]:
        return [] if self._scheduler is None else self._scheduler.get_jobs()

    async def run_sync(self, connection_id: str) -> SyncReport | None:
        """One scheduled poll; any failure is logged and never stops the scheduler."""
        task = asyncio.current_task()
        if task is not None:
            self._running.add(task)
        try:
            report = await sync_connection(self.db, self.pool, connection_id)
        except asyncio.CancelledError:
            raise
        except Exception:
            self.failures[connection_id] = self.failures.get(connection_id, 0) + 1
            log.exception(
                "scheduled sync of connection %s failed; next run as scheduled", connection_id
            )
            return None
        finally:
            if task is not None:
                self._running.discard(task)
        self.runs[connection_id] = self.runs.get(connection_id, 0) + 1
        return report
