"""The live capture pipeline: gateway records in, committed rows out, nothing lost.

Records go into a bounded queue (``put`` waits when it is full: back-pressure on the
gateway reader rather than unbounded memory). One owned task takes batches (by size or
after ``flush_seconds``) and runs each through the same stage and writer as imports:
``ChannelStreams.derive`` (prepared: read the context, derive in a worker thread), then
``CaptureRepository.write`` (committed: COPY into staging + idempotent upsert, in one
transaction). Two batches are in flight: while one commits (PostgreSQL's work), the next
is prepared (this process's work); commits stay in batch order. Edits, deletes and
reactions follow in arrival order;
those whose message is not stored yet are kept and win when it arrives. While PostgreSQL
is unreachable the batch is retried with backoff, never dropped; a batch that fails for
any other reason is split so one bad record cannot hold up the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from dataclasses import dataclass, field
from typing import TypeAlias

import asyncpg
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from core.capture.derive import (
    AuthorContext,
    CaptureContext,
    ChannelContext,
    ChannelStreams,
    DerivedBatch,
    consented,
    is_mapped,
)
from core.capture.records import (
    MemberEventRecord,
    MessageDeleteRecord,
    MessageEditRecord,
    MessageRecord,
    ReactionChangeRecord,
    ThreadRecord,
)
from core.capture.sightings import GuildChannelRecord, unmapped_sightings
from core.db.engine import Database
from core.db.repositories.capture import AuthorDetails, CaptureRepository
from core.db.repositories.capture_live import LiveCaptureRepository, MessageChange

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CheckpointRelease:
    """Queued by backfill after the last page of a stream: once everything before it is
    committed, the stream is complete up to its newest stored message, so its checkpoint
    moves there and live writes may advance it again (see ``hold_checkpoints``)."""

    stream_id: int
    parent_id: int | None  # the channel, when the stream is a thread
    generation: int


CaptureItem: TypeAlias = (
    MessageRecord
    | MessageEditRecord
    | MessageDeleteRecord
    | ReactionChangeRecord
    | ThreadRecord
    | MemberEventRecord
    | GuildChannelRecord
    | CheckpointRelease
)
_CHANGES = (MessageEditRecord, MessageDeleteRecord, ReactionChangeRecord)


@dataclass
class PipelineMetrics:
    accepted: int = 0
    batches: int = 0
    messages_written: int = 0
    interfaces_written: int = 0
    reactions_written: int = 0
    changes_applied: int = 0
    changes_pending: int = 0
    member_events: int = 0
    content_withheld: int = 0
    dms_without_consent: int = 0
    retries: int = 0
    failed_items: int = 0
    unmapped: dict[int, int] = field(default_factory=dict)  # channel → messages not stored
    queue_depth: int = 0
    batch_seconds: deque[float] = field(default_factory=lambda: deque(maxlen=1_000))
    # Seconds from ``put`` to commit, per item: the latency a user of the data sees.
    commit_latency: deque[float] = field(default_factory=lambda: deque(maxlen=200_000))

    def as_dict(self) -> dict[str, object]:
        latencies = sorted(self.commit_latency)

        def pct(q: float) -> float | None:
            return round(latencies[int(q * (len(latencies) - 1))], 4) if latencies else None

        return {
            "accepted": self.accepted,
            "batches": self.batches,
            "messages_written": self.messages_written,
            "interfaces_written": self.interfaces_written,
            "reactions_written": self.reactions_written,
            "changes_applied": self.changes_applied,
            "changes_pending": self.changes_pending,
            "member_events": self.member_events,
            "content_withheld": self.content_withheld,
            "dms_without_consent": self.dms_without_consent,
            "retries": self.retries,
            "failed_items": self.failed_items,
            "unmapped_channels": len(self.unmapped),
            "queue_depth": self.queue_depth,
            "last_batch_seconds": round(self.batch_seconds[-1], 4) if self.batch_seconds else None,
            "commit_latency_p50": pct(0.5),
            "commit_latency_p99": pct(0.99),
        }


@dataclass
class _Prepared:
    """A batch derived and ready to commit."""

    items: list[CaptureItem]
    messages: list[MessageRecord]  # admitted, in (channel, id) order
    channels: dict[int, ChannelContext]  # mapped channels, and admitted DMs
    derived: DerivedBatch


class _Stop:
    """Queued after the last record on shutdown: everything before it is written first."""


_STOP = _Stop()


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` means "the database is unreachable right now" (retry, don't split)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(
            seen,
            OSError
            | TimeoutError
            | asyncpg.PostgresConnectionError
            | asyncpg.ConnectionDoesNotExistError
            | asyncpg.CannotConnectNowError
            | asyncpg.AdminShutdownError
            | asyncpg.InterfaceError
            | OperationalError
            | InterfaceError,
        ):
            return True
        if isinstance(seen, DBAPIError) and seen.connection_invalidated:
            return True
        seen = seen.__cause__ or getattr(seen, "orig", None)
        if seen is exc:
            break
    return False


class CapturePipeline:
    def __init__(
        self,
        db: Database,
        *,
        max_queue: int = 20_000,
        batch_size: int = 2_000,
        flush_seconds: float = 0.1,
        context_ttl: float = 5.0,
        retry_initial: float = 0.2,
        retry_max: float = 5.0,
    ) -> None:
        self.db = db
        self.batch_size = batch_size
        self.flush_seconds = flush_seconds
        self.context_ttl = context_ttl
        self.retry_initial, self.retry_max = retry_initial, retry_max
        self.metrics = PipelineMetrics()
        self._queue: asyncio.Queue[tuple[CaptureItem, float] | _Stop] = asyncio.Queue(max_queue)
        self._streams = ChannelStreams()
        self._task: asyncio.Task[None] | None = None
        self._channels: dict[int, ChannelContext] = {}
        self._consent_modes: dict[str, str] = {}
        self._context_loaded_at = float("-inf")
        self._authors_ensured: set[int] = set()
        # Checkpoint gate (see ``hold_checkpoints``): None while every write may advance
        # checkpoints; otherwise the streams released in the current generation.
        self._released: set[int] | None = None
        self._generation = 0
        # Derivation state moves batch by batch, in order: one preparation at a time.
        self._preparing = asyncio.Lock()
        # Records waiting for room in the queue (``put`` and ``offer``), and the tasks
        # holding offered ones.
        self._waiting = 0
        self._offers: set[asyncio.Task[None]] = set()

    # --- life cycle -------------------------------------------------------------------------
    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="capture-pipeline")
            self._task.add_done_callback(self._task_finished)

    @staticmethod
    def _task_finished(task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("capture pipeline stopped", exc_info=task.exception())

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def stop(self, drain_seconds: float | None = 30.0) -> None:
        """Write everything accepted so far, then stop (cancel after ``drain_seconds``)."""
        if self._task is None:
            return
        task, self._task = self._task, None
        if not task.done():
            if self._offers:
                await asyncio.gather(*self._offers)
            await self._queue.put(_STOP)
            try:
                await asyncio.wait_for(asyncio.shield(task), drain_seconds)
            except TimeoutError:
                log.error(
                    "capture pipeline did not drain in %ss; %d records left",
                    drain_seconds,
                    self._queue.qsize(),
                )
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    # --- checkpoints --------------------------------------------------------------------------
    def hold_checkpoints(self) -> int:
        """Freeze every stream's checkpoint until backfill releases it; returns the new
        generation, which releases must carry.

        Called when a gateway session starts (READY): events may have been missed since the
        last one, and a live message committed before the gap is backfilled would otherwise
        move the checkpoint past the gap. Synchronous, so it takes effect before any event
        of the new session is even parsed.
        """
        self._generation += 1
        self._released = set()
        return self._generation

    @property
    def checkpoint_generation(self) -> int:
        return self._generation

    def is_released(self, stream_id: int) -> bool:
        return self._released is None or stream_id in self._released

    async def put(self, item: CaptureItem) -> None:
        """Accept a record; waits while the queue is full."""
        entry = (item, time.perf_counter())
        if self._waiting or self._queue.full():
            self._waiting += 1
            await self._put_in_line(entry)
        else:
            self._queue.put_nowait(entry)
            self._accepted()

    def offer(self, item: CaptureItem) -> None:
        """Accept a record from synchronous code (the gateway's hot path): queued at once
        when there is room and nothing waits for it, else in line behind what waits (a
        task owned here; ``stop`` lets it finish first)."""
        entry = (item, time.perf_counter())
        if self._waiting or self._queue.full():
            self._waiting += 1
            waiting = asyncio.create_task(self._put_in_line(entry))
            self._offers.add(waiting)
            waiting.add_done_callback(self._offers.discard)
        else:
            self._queue.put_nowait(entry)
            self._accepted()

    async def _put_in_line(self, entry: tuple[CaptureItem, float]) -> None:
        try:
            await self._queue.put(entry)
        finally:
            self._waiting -= 1
        self._accepted()

    def _accepted(self) -> None:
        self.metrics.accepted += 1
        self.metrics.queue_depth = self._queue.qsize()

    async def wait_idle(self) -> None:
        """Until everything accepted so far is committed (or given up)."""
        await self._queue.join()

    # --- the loop ---------------------------------------------------------------------------
    async def _run(self) -> None:
        committing: asyncio.Task[None] | None = None  # the previous batch, committing
        try:
            stopping = False
            while not stopping:
                batch, taken, stopping = await self._next_batch()
                prepared = await self._prepare_or_none(batch) if batch else None
                if committing is not None:
                    await committing
                    committing = None
                if prepared is not None:
                    committing = asyncio.create_task(self._commit_batch(batch, taken, prepared))
                else:
                    # Empty, or preparing failed (the database, or a record it could not
                    # take): the careful way (retries, halves), not overlapped.
                    try:
                        if batch:
                            await self._process(batch)
                    finally:
                        self._done(taken)
        except asyncio.CancelledError:
            if committing is not None:
                committing.cancel()
            raise
        if committing is not None:
            await committing

    async def _next_batch(self) -> tuple[list[tuple[CaptureItem, float]], int, bool]:
        """Up to ``batch_size`` records, waiting at most ``flush_seconds`` after the first;
        returns them, how many queue entries were taken, and whether the stop came."""
        loop = asyncio.get_running_loop()
        first = await self._queue.get()
        if isinstance(first, _Stop):
            return [], 1, True
        batch = [first]
        taken = 1
        deadline = loop.time() + self.flush_seconds
        while len(batch) < self.batch_size:
            try:
                entry = self._queue.get_nowait()
            except asyncio.QueueEmpty:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                try:
                    entry = await asyncio.wait_for(self._queue.get(), remaining)
                except TimeoutError:
                    break
            taken += 1
            if isinstance(entry, _Stop):
                return batch, taken, True
            batch.append(entry)
        return batch, taken, False

    def _done(self, taken: int) -> None:
        for _ in range(taken):
            self._queue.task_done()
        self.metrics.queue_depth = self._queue.qsize()

    async def _prepare_or_none(self, batch: list[tuple[CaptureItem, float]]) -> _Prepared | None:
        try:
            return await self._prepare([item for item, _ in batch])
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.debug("capture batch of %d not prepared (%s)", len(batch), exc, exc_info=True)
            return None

    async def _commit_batch(
        self, batch: list[tuple[CaptureItem, float]], taken: int, prepared: _Prepared
    ) -> None:
        try:
            await self._process(batch, prepared)
        finally:
            self._done(taken)

    async def _process(
        self, batch: list[tuple[CaptureItem, float]], prepared: _Prepared | None = None
    ) -> None:
        delay = self.retry_initial
        while True:
            started = time.perf_counter()
            try:
                if prepared is None:
                    prepared = await self._prepare([item for item, _ in batch])
                # A commit that failed while PostgreSQL was away is retried as prepared.
                await self._commit(prepared)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if is_transient(exc):
                    self.metrics.retries += 1
                    log.warning(
                        "database unreachable (%s); retrying %d records in %.1fs",
                        type(exc).__name__,
                        len(batch),
                        delay,
                    )
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, self.retry_max)
                    continue
                if len(batch) == 1:
                    self.metrics.failed_items += 1
                    log.exception("capture record could not be stored: %r", batch[0][0])
                    return
                log.warning("capture batch of %d failed (%s); writing in halves", len(batch), exc)
                middle = len(batch) // 2
                await self._process(batch[:middle])
                await self._process(batch[middle:])
                return
            finished = time.perf_counter()
            self.metrics.batches += 1
            self.metrics.batch_seconds.append(finished - started)
            self.metrics.commit_latency.extend(finished - accepted for _, accepted in batch)
            return

    async def _prepare(self, items: list[CaptureItem]) -> _Prepared:
        """Context, authors and derivation: everything but the write (no lock held on the
        tables the commit writes, so it overlaps the previous batch's commit)."""
        async with self._preparing:
            messages = sorted(
                (i for i in items if isinstance(i, MessageRecord)),
                key=lambda r: (r.channel_id, r.id),
            )
            members = [i for i in items if isinstance(i, MemberEventRecord)]
            new_authors = {
                r.author_id: AuthorDetails(r.author_name, r.author_is_bot)
                for r in messages
                if r.author_id not in self._authors_ensured
            }
            new_authors.update(
                {
                    m.user_id: AuthorDetails(m.user_name, m.is_bot)
                    for m in members
                    if m.kind == "join" and m.user_id not in self._authors_ensured
                }
            )
            async with self.db.transaction() as session:
                repo = CaptureRepository(session)
                await self._refresh_context(repo)
                await repo.ensure_authors(new_authors)
                authors = await repo.author_contexts(list({r.author_id for r in messages}))
                channels = dict(self._channels)
                stored_messages = self._admit_dms(messages, authors, channels)
                self._streams.remember(
                    await repo.message_summaries(
                        list(self._streams.missing_references(stored_messages))
                    )
                )
            # Only after the commit: a rolled-back batch must ensure its authors again.
            self._authors_ensured.update(new_authors)
            context = CaptureContext(channels, authors, self._consent_modes)
            derived = await asyncio.to_thread(self._streams.derive, stored_messages, context)
            return _Prepared(items, stored_messages, channels, derived)

    async def _commit(self, prepared: _Prepared) -> None:
        items, stored_messages, channels = prepared.items, prepared.messages, prepared.channels
        derived = prepared.derived
        changes: list[MessageChange] = [i for i in items if isinstance(i, _CHANGES)]
        threads = [i for i in items if isinstance(i, ThreadRecord)]
        members = [i for i in items if isinstance(i, MemberEventRecord)]
        guild_channels = [i for i in items if isinstance(i, GuildChannelRecord)]
        generation, released = self._generation, self._released
        # A release from an older generation is stale: a newer session may have missed
        # events since, and its own backfill will release the stream.
        releases = sorted(
            {
                (i.stream_id, i.parent_id)
                for i in items
                if isinstance(i, CheckpointRelease) and i.generation == generation
            }
            if released is not None
            else set()
        )
        written = {r.channel_id for r in items if isinstance(r, MessageRecord)}
        held = sorted(written - released) if released is not None else []
        async with self.db.transaction() as session:
            repo = CaptureRepository(session)
            live = LiveCaptureRepository(session)
            frozen = await live.checkpoints_for(held)
            counts = await repo.write(derived)
            await live.restore_checkpoints(frozen)
            await live.complete_checkpoints(releases)
            await live.upsert_threads(
                [t for t in threads if t.parent_id in channels or t.thread_id in channels]
            )
            await live.apply_pending([r.id for r in stored_messages])
            mapped_changes = [c for c in changes if is_mapped(c, channels)]
            dm_changes = [c for c in changes if c.guild_id is None]
            change_counts = await live.apply_changes(mapped_changes)
            dm_counts = await live.apply_changes(dm_changes, keep_missing=False)
            member_events = await live.record_member_events(members)
            await live.upsert_guild_channels(guild_channels)
            # Unmapped channels: counts and times only, in the batch's transaction.
            await live.record_unmapped(
                unmapped_sightings(stored_messages, derived.skipped_unmapped)
            )
        if self._released is not None and self._generation == generation:
            self._released.update(stream for stream, _ in releases)
        metrics = self.metrics
        metrics.messages_written += counts.messages
        metrics.interfaces_written += counts.interfaces
        metrics.reactions_written += counts.reactions
        metrics.changes_applied += change_counts.applied + dm_counts.applied
        metrics.changes_pending += change_counts.pending
        metrics.member_events += member_events
        metrics.content_withheld += derived.content_withheld
        for channel, count in derived.skipped_unmapped.items():
            metrics.unmapped[channel] = metrics.unmapped.get(channel, 0) + count

    def _admit_dms(
        self,
        messages: list[MessageRecord],
        authors: dict[int, AuthorContext],
        channels: dict[int, ChannelContext],
    ) -> list[MessageRecord]:
        """DMs are stored only for people who consented; their university's mode applies."""
        admitted = []
        for record in messages:
            if not record.is_dm:
                admitted.append(record)
                continue
            author = authors.get(record.author_id)
            if author is None or not consented(author):
                self.metrics.dms_without_consent += 1
                continue
            channels[record.channel_id] = ChannelContext(
                record.channel_id, None, None, None, author.university_id
            )
            admitted.append(record)
        return admitted

    async def _refresh_context(self, repo: CaptureRepository) -> None:
        now = time.monotonic()
        if now - self._context_loaded_at >= self.context_ttl:
            self._channels = await repo.channel_contexts()
            self._consent_modes = await repo.consent_modes()
            self._context_loaded_at = now

    def mapped_channel_ids(self) -> set[int]:
        return set(self._channels)
