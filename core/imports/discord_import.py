"""``frames import discord``: DiscordChatExporter files through the shared import pipeline.

Each file is one channel or thread in timestamp order; messages stream from disk (constant
memory) and go through ``core.imports.runner``, the pipeline every history format shares.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from itertools import islice
from pathlib import Path

from core.capture.derive import ChannelContext
from core.capture.records import MessageRecord
from core.db.engine import Database
from core.db.repositories.capture import AuthorDetails, CaptureRepository
from core.db.repositories.organisation import OrganisationRepository
from core.errors import InputError, InputProblem, NotFoundError
from core.imports.dce import DceReadResult, dce_files, read_dce_file
from core.imports.runner import (
    BATCH_SIZE,
    BatchReader,
    ImportReport,
    ImportSource,
    ProgressCallback,
    run_import,
)
from core.org.channels import ChannelMappingRecord, map_channels
from core.process import usable_cores

__all__ = ["ImportReport", "ProgressCallback", "import_discord", "map_unmapped"]

# Reply inference runs in a second process for exports from this size on (about 60,000
# messages), on machines with a core for each of importer, linker and PostgreSQL. On two
# cores it measured 1.05x one process at 100,000 messages (`benchmarks/import.py --linker
# compare`), for some 250 MB more memory (the linker loads its own XGBoost); its start
# (about 2 s) and reading the export twice weigh on smaller imports.
LINKER_MIN_BYTES = 64_000_000
LINKER_MIN_CPUS = 3


async def import_discord(
    db: Database,
    paths: list[Path],
    *,
    actor: str,
    map_unmapped_team: str | None = None,
    dry_run: bool = False,
    progress: ProgressCallback | None = None,
    separate_linker: bool | None = None,
) -> ImportReport:
    """Import DCE files; ``separate_linker`` runs reply inference in a second process
    (default: for exports of ``LINKER_MIN_BYTES`` or more, given ``LINKER_MIN_CPUS``)."""
    files = dce_files(paths)
    if not files:
        raise InputError(
            [InputProblem(", ".join(map(str, paths)), None, None, "no .json export files found")]
        )
    report = ImportReport(dry_run=dry_run)
    planned: dict[int, ChannelContext] = {}
    if map_unmapped_team is not None:
        wanted = _unmapped_channels(files)
        planned = await map_unmapped(
            db, wanted, map_unmapped_team, actor=actor, dry_run=dry_run, report=report
        )
    source = ImportSource(
        provider="discord",
        audit_action="import.discord",
        target=", ".join(str(p) for p in paths),
        next_batch=_batch_reader(files, report),
        authors_of=_authors_of,
        planned_channels=planned,
    )
    if separate_linker is None:
        separate_linker = (
            usable_cores() >= LINKER_MIN_CPUS
            and sum(path.stat().st_size for path in files) >= LINKER_MIN_BYTES
        )
    if separate_linker:
        source.open_batches = partial(dce_batches, files)
    return await run_import(db, source, report, actor=actor, progress=progress)


def _authors_of(batch: list[MessageRecord]) -> dict[int, AuthorDetails]:
    return {
        r.author_id: AuthorDetails(r.author_name, r.author_is_bot) for r in batch if r.author_id
    }


def _batch_reader(files: list[Path], report: ImportReport | None) -> BatchReader:
    """Batches span files: exports hold many small thread files."""

    def records() -> Iterator[MessageRecord]:
        for path in files:
            result, messages = read_dce_file(path)
            yield from messages
            if report is not None:
                report.files += 1
                _note_file(report, path, result)

    stream = records()
    return lambda: list(islice(stream, BATCH_SIZE))


def dce_batches(files: list[Path]) -> BatchReader:
    """The import's batches of ``files``, read again (by the linker process)."""
    return _batch_reader(files, None)


def _note_file(report: ImportReport, path: Path, result: DceReadResult) -> None:
    if result.truncated_at:
        report.truncated_files[path.name] = result.truncated_at
    if result.count_mismatch and result.declared_count is not None:
        report.count_mismatches[path.name] = (result.declared_count, result.messages_read)
    if result.skipped:
        report.skip("unreadable message", len(result.skipped))


def _unmapped_channels(files: list[Path]) -> dict[int, ChannelMappingRecord]:
    """Top-level channels named by the files' headers (threads follow their parent)."""
    found: dict[int, ChannelMappingRecord] = {}
    for path in files:
        result, records = read_dce_file(path)
        next(records, None)  # reads the header (and one message)
        channel = result.channel
        if channel is not None and not channel.is_thread:
            found[channel.channel_id] = ChannelMappingRecord(
                channel.guild_id or 0, channel.channel_id, None
            )
    return found


async def map_unmapped(
    db: Database,
    channels: dict[int, ChannelMappingRecord],
    team_id: str,
    *,
    actor: str,
    dry_run: bool,
    report: ImportReport,
) -> dict[int, ChannelContext]:
    """Map the given channels that have no mapping yet to ``team_id`` (``--map-unmapped``)."""
    async with db.sessions() as session:
        mapped = await CaptureRepository(session).channel_contexts()
        team = await OrganisationRepository(session).get_team(team_id)
    if team is None:
        raise NotFoundError(f"unknown team {team_id!r}; see `frames org show` for the known ids")
    wanted = {
        channel_id: ChannelMappingRecord(record.guild_id, channel_id, team_id)
        for channel_id, record in channels.items()
        if channel_id not in mapped
    }
    report.newly_mapped = [str(c) for c in wanted]
    if wanted and not dry_run:
        async with db.transaction() as session:
            await map_channels(session, list(wanted.values()), actor=actor, source="--map-unmapped")
    return {
        channel_id: ChannelContext(channel_id, record.guild_id, team.id, None, team.university_id)
        for channel_id, record in wanted.items()
    }
