"""``frames import discord``: DiscordChatExporter files through the shared capture stage.

Each file is one channel or thread in timestamp order. Messages stream from disk in
batches; each batch is classified, turned into interfaces and written with COPY and an
idempotent upsert in its own transaction, so a re-import (or an overlapping export, or a
channel already captured live) changes nothing and a crash loses at most one batch,
which the next run writes again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from itertools import islice
from pathlib import Path

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
from core.db.repositories.capture import CaptureRepository, WriteCounts
from core.db.repositories.organisation import OrganisationRepository
from core.errors import InputError, InputProblem, NotFoundError
from core.imports.dce import DceReadResult, dce_files, read_dce_file
from core.org.channels import ChannelMappingRecord, map_channels

BATCH_SIZE = 10_000  # messages per transaction: few commits, bounded memory


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
    truncated_files: dict[str, str] = field(default_factory=dict)  # file → where it stopped
    count_mismatches: dict[str, tuple[int, int]] = field(
        default_factory=dict
    )  # file → (declared, read)
    newly_mapped: list[str] = field(default_factory=list)
    dry_run: bool = False
    seconds: float = 0.0

    def skip(self, reason: str, count: int = 1) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + count

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


ProgressCallback = Callable[[int, int], None]  # (files finished, messages read in total)


async def import_discord(
    db: Database,
    paths: list[Path],
    *,
    actor: str,
    map_unmapped_team: str | None = None,
    dry_run: bool = False,
    progress: ProgressCallback | None = None,
) -> ImportReport:
    files = dce_files(paths)
    if not files:
        raise InputError(
            [InputProblem(", ".join(map(str, paths)), None, None, "no .json export files found")]
        )
    started = time.perf_counter()
    report = ImportReport(dry_run=dry_run)
    planned: dict[int, ChannelContext] = {}
    if map_unmapped_team is not None:
        planned = await _map_unmapped(
            db, files, map_unmapped_team, actor=actor, dry_run=dry_run, report=report
        )
    async with db.sessions() as session:
        repo = CaptureRepository(session)
        # A dry run maps nothing, but reports as if the planned mappings existed.
        channels = {**planned, **await repo.channel_contexts()}
        context = CaptureContext(channels, {}, await repo.consent_modes())
    streams = ChannelStreams()
    authors_known: dict[int, AuthorContext | None] = {}
    next_batch = _batch_reader(files, report)
    derived_batches: asyncio.Queue[DerivedBatch | None] = asyncio.Queue(maxsize=2)

    async def read_and_derive() -> None:
        # Parsing and derivation run in a worker thread while the writer below keeps
        # PostgreSQL busy with the previous batch: CPU and database work overlap.
        while batch := await asyncio.to_thread(next_batch):
            report.messages_read += len(batch)
            derived = await _derive_batch(
                db, batch, context, streams, authors_known, dry_run=dry_run
            )
            await derived_batches.put(derived)
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
            if progress:
                progress(report.files, report.messages_read)

    async with asyncio.TaskGroup() as stages:
        stages.create_task(read_and_derive())
        stages.create_task(write())
    report.seconds = round(time.perf_counter() - started, 3)
    if not dry_run:
        async with db.transaction() as session:
            await AuditRepository(session).record(
                actor,
                "import.discord",
                target_type="files",
                target_id=", ".join(str(p) for p in paths)[:500],
                details={k: v for k, v in report.as_dict().items() if k != "unmapped_channels"},
            )
    return report


def _batch_reader(files: list[Path], report: ImportReport) -> Callable[[], list[MessageRecord]]:
    """A function returning the next batch (empty at the end); batches span files, since
    exports hold many small thread files and one commit per batch keeps fsyncs few."""

    def records() -> Iterator[MessageRecord]:
        for path in files:
            result, messages = read_dce_file(path)
            yield from messages
            report.files += 1
            _note_file(report, path, result)

    stream = records()
    return lambda: list(islice(stream, BATCH_SIZE))


async def _derive_batch(
    db: Database,
    batch: list[MessageRecord],
    context: CaptureContext,
    streams: ChannelStreams,
    authors_known: dict[int, AuthorContext | None],
    *,
    dry_run: bool,
) -> DerivedBatch:
    """Resolve authors and replied-to messages, then classify and derive (off the loop)."""
    new_authors = {
        r.author_id: (r.author_name, r.author_is_bot)
        for r in batch
        if r.author_id and r.author_id not in authors_known
    }
    async with db.transaction() as session:
        repo = CaptureRepository(session)
        if new_authors:
            if not dry_run:
                # Committed before the batch's messages: an identity without messages is harmless.
                await repo.ensure_authors(new_authors)
            found = await repo.author_contexts(list(new_authors))
            for author_id in new_authors:
                authors_known[author_id] = found.get(author_id)
            context.authors = {a: c for a, c in authors_known.items() if c is not None}
        streams.remember(await repo.message_summaries(list(streams.missing_references(batch))))
    return await asyncio.to_thread(streams.derive, batch, context)


def _account(report: ImportReport, derived: DerivedBatch, counts: WriteCounts) -> None:
    report.messages_written += counts.messages
    report.interfaces_written += counts.interfaces
    report.reactions_written += counts.reactions
    report.content_withheld += derived.content_withheld
    for channel, count in derived.skipped_unmapped.items():
        key = str(channel)
        report.unmapped_channels[key] = report.unmapped_channels.get(key, 0) + count
        report.skip("unmapped channel", count)


def _note_file(report: ImportReport, path: Path, result: DceReadResult) -> None:
    if result.truncated_at:
        report.truncated_files[path.name] = result.truncated_at
    if result.count_mismatch and result.declared_count is not None:
        report.count_mismatches[path.name] = (result.declared_count, result.messages_read)
    if result.skipped:
        report.skip("unreadable message", len(result.skipped))


async def _map_unmapped(
    db: Database,
    files: list[Path],
    team_id: str,
    *,
    actor: str,
    dry_run: bool,
    report: ImportReport,
) -> dict[int, ChannelContext]:
    """Map every top-level channel in the export that has no mapping yet to ``team_id``."""
    async with db.sessions() as session:
        mapped = await CaptureRepository(session).channel_contexts()
        team = await OrganisationRepository(session).get_team(team_id)
    if team is None:
        raise NotFoundError(f"unknown team {team_id!r}; see `frames org show` for the known ids")
    wanted: dict[int, ChannelMappingRecord] = {}
    for path in files:
        result, records = read_dce_file(path)
        next(records, None)  # reads the header (and one message)
        channel = result.channel
        if channel is None or channel.is_thread or channel.channel_id in mapped:
            continue
        wanted[channel.channel_id] = ChannelMappingRecord(
            channel.guild_id or 0, channel.channel_id, team_id
        )
    report.newly_mapped = [str(c) for c in wanted]
    if wanted and not dry_run:
        async with db.transaction() as session:
            await map_channels(session, list(wanted.values()), actor=actor, source="--map-unmapped")
    return {
        channel_id: ChannelContext(channel_id, record.guild_id, team.id, None, team.university_id)
        for channel_id, record in wanted.items()
    }
