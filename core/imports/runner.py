"""The import pipeline shared by every history format.

A source yields ``MessageRecord`` batches (spanning files, so commits stay few); each
batch's authors are resolved, then it is classified and turned into interfaces in a worker
thread while the previous batch is written (COPY into staging and an idempotent upsert),
so CPU and database work overlap. For large exports, reply inference runs ahead in a
second process that reads the same batches (``core.imports.linker``). Re-importing
changes nothing; a crash loses at most the batch in flight, which the next run writes again.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass, field

from core.capture.derive import (
    AuthorContext,
    CaptureContext,
    ChannelContext,
    ChannelStreams,
    DerivedBatch,
)
from core.capture.records import MessageRecord
from core.db.engine import Database
from core.db.repositories.audit import AuditRepository
from core.db.repositories.capture import AuthorDetails, CaptureRepository, WriteCounts
from core.imports.linker import BatchReader, Linker
from core.process import GC_THRESHOLD

BATCH_SIZE = 5_000  # messages per transaction (10,000 took a 1M import to 498 MB; 5,000: 442 MB)


@dataclass
class ImportReport:
    files: int = 0
    messages_read: int = 0
    messages_written: int = 0
    interfaces_written: int = 0
    reactions_written: int = 0
    content_withheld: int = 0
    skipped: dict[str, int] = field(default_factory=dict)  # reason → messages
    unmapped_channels: dict[str, int] = field(default_factory=dict)  # channel id → messages
    channel_names: dict[str, str] = field(default_factory=dict)  # channel id → name, if known
    truncated_files: dict[str, str] = field(default_factory=dict)  # file → where it stopped
    count_mismatches: dict[str, tuple[int, int]] = field(default_factory=dict)  # (declared, read)
    bad_files: dict[str, str] = field(default_factory=dict)  # file → why it was skipped
    newly_mapped: list[str] = field(default_factory=list)
    dry_run: bool = False
    seconds: float = 0.0

    def skip(self, reason: str, count: int = 1) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + count

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


ProgressCallback = Callable[[int, int], None]  # (files finished, messages read in total)
AuthorsOf = Callable[[list[MessageRecord]], dict[int, AuthorDetails]]


@dataclass
class ImportSource:
    """What a format contributes: its batches and how its authors become identities."""

    provider: str  # identities.provider of the authors: discord, slack
    audit_action: str
    target: str
    next_batch: BatchReader
    authors_of: AuthorsOf
    planned_channels: dict[int, ChannelContext] = field(default_factory=dict)
    # Set for large exports: a picklable way to read the same batches again, so that reply
    # inference runs in a process of its own (``core.imports.linker``).
    open_batches: Callable[[], BatchReader] | None = None


async def run_import(
    db: Database,
    source: ImportSource,
    report: ImportReport,
    *,
    actor: str,
    progress: ProgressCallback | None = None,
) -> ImportReport:
    started = time.perf_counter()
    dry_run = report.dry_run
    async with db.sessions() as session:
        repo = CaptureRepository(session)
        # A dry run maps nothing, but reports as if the planned mappings existed.
        channels = {**source.planned_channels, **await repo.channel_contexts()}
        context = CaptureContext(channels, {}, await repo.consent_modes())
    streams = ChannelStreams()
    authors_known: dict[int, AuthorContext | None] = {}
    # One derived batch waits while one is written: two in memory keeps 1M imports < 500 MB.
    derived_batches: asyncio.Queue[DerivedBatch | None] = asyncio.Queue(maxsize=1)

    async def read_and_derive(linker: Linker | None) -> None:
        while batch := await asyncio.to_thread(source.next_batch):
            report.messages_read += len(batch)
            new_authors = {
                author_id: details
                for author_id, details in source.authors_of(batch).items()
                if author_id not in authors_known
            }
            async with db.transaction() as session:
                repo = CaptureRepository(session)
                if new_authors:
                    if not dry_run:
                        await repo.ensure_authors(new_authors, provider=source.provider)
                    found = await repo.author_contexts(list(new_authors), provider=source.provider)
                    for author_id in new_authors:
                        authors_known[author_id] = found.get(author_id)
                    context.authors = {a: c for a, c in authors_known.items() if c is not None}
                missing = list(streams.missing_references(batch))
                streams.remember(await repo.message_summaries(missing))
            inferred = await linker.inferred(batch) if linker else None
            derived = await asyncio.to_thread(streams.derive, batch, context, inferred)
            del batch, inferred  # the records are done with; free them while the put waits
            await derived_batches.put(derived)
            del derived  # the writer holds it now, and frees it once written
        await derived_batches.put(None)

    async def write() -> None:
        while (derived := await derived_batches.get()) is not None:
            if dry_run:
                counts = WriteCounts(
                    len(derived.messages), len(derived.interfaces), len(derived.reactions)
                )
            else:
                async with db.transaction() as session:
                    counts = await CaptureRepository(session).write(derived)
            _account(report, derived, counts)
            del derived  # not kept while the next batch is awaited
            if progress:
                progress(report.files, report.messages_read)

    linker = Linker(source.open_batches, frozenset(channels)) if source.open_batches else None
    async with linker or nullcontext():
        with _collecting_seldom():
            async with asyncio.TaskGroup() as stages:
                stages.create_task(read_and_derive(linker))
                stages.create_task(write())
    report.seconds = round(time.perf_counter() - started, 3)
    if progress:
        progress(report.files, report.messages_read)
    if not dry_run:
        async with db.transaction() as session:
            await CaptureRepository(session).analyze()
        details = {
            k: v
            for k, v in report.as_dict().items()
            if k not in ("unmapped_channels", "channel_names")
        }
        async with db.transaction() as session:
            await AuditRepository(session).record(
                actor,
                source.audit_action,
                target_type="files",
                target_id=source.target[:500],
                details=details,
            )
    return report


@contextmanager
def _collecting_seldom() -> Iterator[None]:
    before = gc.get_threshold()
    gc.set_threshold(*GC_THRESHOLD)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def _account(report: ImportReport, derived: DerivedBatch, counts: WriteCounts) -> None:
    report.messages_written += counts.messages
    report.interfaces_written += counts.interfaces
    report.reactions_written += counts.reactions
    report.content_withheld += derived.content_withheld
    if derived.dms_without_consent:
        report.skip("DM without consent", derived.dms_without_consent)
    for channel, count in derived.skipped_unmapped.items():
        key = str(channel)
        report.unmapped_channels[key] = report.unmapped_channels.get(key, 0) + count
        report.skip("unmapped channel", count)
