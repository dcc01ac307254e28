"""Gap-free backfill: every mapped channel and thread caught up from its checkpoint.

A checkpoint (``capture_checkpoints``) is the newest message id up to which a stream (a
channel or a thread) is known to be complete. When a gateway session starts (READY) events
may have been missed, so the pipeline freezes every checkpoint (``hold_checkpoints``) and
this coordinator reads each stream's history after its checkpoint (from its start when it
has none), feeds the messages through the same pipeline as live events, and then queues a
``CheckpointRelease``: once that is committed, the stream is complete up to its newest
stored message and live writes advance its checkpoint again. The same catch-up runs on
RESUME (nothing is frozen then; it only confirms), and a periodic sweep catches up streams
that were never released (new mappings, threads created since), so a restart never skips
a gap and the idempotent upsert makes storage exactly-once.

A stream the source cannot find (deleted channel or thread, no access) is logged and
skipped; any other failure leaves the stream frozen for the next sweep, never stopping the
rest. The Discord side lives in ``cogs/capture`` (a ``HistorySource``); ``core`` never
imports discord.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

from core.capture.pipeline import CapturePipeline, CheckpointRelease
from core.capture.records import MessageRecord, ThreadRecord
from core.db.engine import Database
from core.db.repositories.capture_live import BackfillStream, LiveCaptureRepository

log = logging.getLogger(__name__)


class StreamUnavailable(Exception):
    """The source has no such channel or thread (404), or may not read it (403)."""


class HistorySource(Protocol):
    """What backfill needs from Discord (implemented over discord.py in ``cogs/capture``)."""

    def is_local(self, guild_id: int | None) -> bool:
        """Whether this process's shards own the guild (only they backfill it)."""
        ...

    async def threads(self, channel_id: int, guild_id: int) -> list[ThreadRecord]:
        """Threads and forum posts under a channel, active and archived."""
        ...

    def history(self, stream_id: int, after: int | None) -> AsyncIterator[list[MessageRecord]]:
        """Pages of messages newer than ``after`` (all, when None), oldest first; raises
        ``StreamUnavailable`` when the stream cannot be read."""
        ...


@dataclass
class BackfillMetrics:
    runs: int = 0
    streams_caught_up: int = 0
    messages_fetched: int = 0
    streams_skipped: int = 0
    streams_failed: int = 0


class BackfillCoordinator:
    """Owns the catch-up task (one at a time) and the periodic sweep."""

    def __init__(
        self,
        db: Database,
        pipeline: CapturePipeline,
        source: HistorySource,
        *,
        sweep_seconds: float = 60.0,
    ) -> None:
        self.db = db
        self.pipeline = pipeline
        self.source = source
        self.sweep_seconds = sweep_seconds
        self.metrics = BackfillMetrics()
        self._task: asyncio.Task[None] | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self._again = False
        # Streams found missing: sweeps leave them alone (a full catch-up tries again).
        self._unavailable: set[int] = set()
        self._caught_up_generation = -1
        self._changed = asyncio.Event()  # a run ended or a session began

    # --- triggers ---------------------------------------------------------------------------
    def session_started(self) -> None:
        """A new gateway session (READY): freeze checkpoints now; ``request`` follows once
        the shard's guilds are known. A catch-up still running belongs to the old
        generation and is cancelled (its releases would be ignored anyway)."""
        self.pipeline.hold_checkpoints()
        if self._task is not None and not self._task.done():
            self._task.cancel()
            self._task = None
        self._changed.set()

    def request(self, reason: str, *, full: bool = True) -> None:
        """Catch up (every stream with ``full``, else only those not yet released); a
        request during a run makes one more run follow it."""
        if self._sweeper is None:
            self._sweeper = asyncio.create_task(self._sweep(), name="capture-backfill-sweep")
            self._sweeper.add_done_callback(self._finished)
        if self._task is not None and not self._task.done():
            self._again = self._again or full
            return
        self._task = asyncio.create_task(self._run(reason, full), name="capture-backfill")
        self._task.add_done_callback(self._finished)

    async def wait_caught_up(self) -> None:
        """Until a full catch-up of the current gateway session has run, none is running,
        and everything queued is committed (for tests, benchmarks and status)."""
        while self._caught_up_generation != self.pipeline.checkpoint_generation or (
            self._task is not None and not self._task.done()
        ):
            self._changed.clear()
            await self._changed.wait()
        await self.pipeline.wait_idle()

    async def stop(self) -> None:
        for task in (self._sweeper, self._task):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._sweeper = self._task = None

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._changed.set()
        if not task.cancelled() and task.exception() is not None:
            log.error("backfill task %s failed", task.get_name(), exc_info=task.exception())

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(self.sweep_seconds)
            self.request("sweep", full=False)

    # --- catching up ------------------------------------------------------------------------
    async def _run(self, reason: str, full: bool) -> None:
        while True:
            self._again = False
            await self.catch_up(reason, full=full)
            if not self._again:
                return
            reason, full = "requested again", True

    async def catch_up(self, reason: str, *, full: bool = True) -> None:
        generation = self.pipeline.checkpoint_generation
        self.metrics.runs += 1
        async with self.db.sessions() as session:
            known = await LiveCaptureRepository(session).backfill_streams()
        streams = [s for s in known if self.source.is_local(s.guild_id)]
        streams += await self._discover_threads(streams)
        if full:
            self._unavailable.clear()
        else:
            streams = [
                s
                for s in streams
                if not self.pipeline.is_released(s.stream_id)
                and s.stream_id not in self._unavailable
            ]
        log.info("backfill (%s): catching up %d channels and threads", reason, len(streams))
        for stream in streams:
            await self._catch_up_stream(stream, generation)
        if full:
            self._caught_up_generation = generation

    async def _discover_threads(self, streams: list[BackfillStream]) -> list[BackfillStream]:
        """Threads Discord lists under mapped channels that are not stored yet; their
        records go through the pipeline so they are stored like live ones."""
        known = {s.stream_id for s in streams}
        found: list[BackfillStream] = []
        for channel in (s for s in streams if s.parent_id is None and s.guild_id is not None):
            assert channel.guild_id is not None
            try:
                threads = await self.source.threads(channel.stream_id, channel.guild_id)
            except StreamUnavailable as exc:
                log.warning("backfill: threads of channel %s skipped: %s", channel.stream_id, exc)
                continue
            except Exception:
                log.exception("backfill: listing threads of channel %s failed", channel.stream_id)
                continue
            for thread in threads:
                if thread.thread_id in known:
                    continue
                known.add(thread.thread_id)
                await self.pipeline.put(thread)
                found.append(
                    BackfillStream(thread.thread_id, thread.parent_id, thread.guild_id, None)
                )
        return found

    async def _catch_up_stream(self, stream: BackfillStream, generation: int) -> None:
        fetched = 0
        try:
            async for page in self.source.history(stream.stream_id, stream.checkpoint):
                for record in page:
                    await self.pipeline.put(record)
                fetched += len(page)
        except StreamUnavailable as exc:
            self.metrics.streams_skipped += 1
            self._unavailable.add(stream.stream_id)
            log.warning("backfill: %s skipped: %s", stream.stream_id, exc)
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            # Left frozen: the next sweep tries again; the other streams go on.
            self.metrics.streams_failed += 1
            log.exception("backfill: %s failed after %d messages", stream.stream_id, fetched)
            return
        self.metrics.messages_fetched += fetched
        self.metrics.streams_caught_up += 1
        if fetched:
            log.info(
                "backfill: %d messages in %s after %s", fetched, stream.stream_id, stream.checkpoint
            )
        await self.pipeline.put(CheckpointRelease(stream.stream_id, stream.parent_id, generation))
