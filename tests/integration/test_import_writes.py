"""How imports write: straight COPY for new batches, the upsert for anything already stored,
and reply inference in a second process giving what it gives in the importing one."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from core.capture.derive import CaptureContext, ChannelStreams
from core.capture.records import MessageRecord
from core.db.engine import Database
from core.db.repositories.capture import AuthorDetails, CaptureRepository
from core.imports.dce import dce_files, read_dce_file
from core.imports.discord_import import import_discord
from core.simulate import SimulationConfig, simulate
from tests.programs import load_organisation

# Captured tables, and their columns that say when (or in which order) a row was written.
TABLES = {
    "discord_messages": ("captured_at",),
    "discord_interfaces": ("id", "created_at"),
    "discord_reactions": (),
    "capture_checkpoints": ("id", "updated_at"),
}


@pytest.fixture(scope="module")
def program(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("program")
    simulate(SimulationConfig(seed=4, universities=2, weeks=6), out)
    return out


async def table_rows(db: Database) -> dict[str, list[str]]:
    """Every row of the captured tables, less when it was written, for a database diff."""
    found = {}
    async with db.sessions() as session:
        for table, written in TABLES.items():
            rows = (await session.execute(text(f"SELECT * FROM {table}"))).mappings().all()
            found[table] = sorted(
                repr({k: v for k, v in row.items() if k not in written}) for row in rows
            )
    return found


async def largest_channel(
    db: Database, program: Path
) -> tuple[list[MessageRecord], CaptureContext]:
    """The organisation loaded and the largest export's records, with their capture context."""
    await load_organisation(db, program, outcomes=False)
    path = max(dce_files([program / "discord"]), key=lambda p: p.stat().st_size)
    records = list(read_dce_file(path)[1])
    async with db.transaction() as session:
        repo = CaptureRepository(session)
        await repo.ensure_authors({r.author_id: AuthorDetails(r.author_name) for r in records})
        context = CaptureContext(
            await repo.channel_contexts(),
            await repo.author_contexts(sorted({r.author_id for r in records})),
            await repo.consent_modes(),
        )
    return records, context


async def test_a_separate_linker_process_imports_exactly_what_one_process_does(
    db: Database, program: Path
) -> None:
    await load_organisation(db, program, outcomes=False)
    alone = await import_discord(db, [program / "discord"], actor="test", separate_linker=False)
    in_one_process = await table_rows(db)
    async with db.transaction() as session:
        await session.execute(text(f"TRUNCATE {', '.join(TABLES)} CASCADE"))

    linked = await import_discord(db, [program / "discord"], actor="test", separate_linker=True)

    assert linked.interfaces_written == alone.interfaces_written > 0
    assert linked.messages_written == alone.messages_written > 0
    assert await table_rows(db) == in_one_process
    inferred = [r for r in in_one_process["discord_interfaces"] if "inferred_reply" in r]
    assert len(inferred) > 100


async def test_rows_already_stored_fall_back_to_the_upsert_and_change_nothing(
    db: Database, program: Path
) -> None:
    """Messages gone (their reactions with them) but their interfaces still there: the
    straight COPY of the interfaces hits their keys, leaves nothing behind, and the upsert
    finds every row as it was."""
    records, context = await largest_channel(db, program)
    derived = ChannelStreams().derive(records, context)
    assert derived.interfaces and derived.reactions

    async with db.transaction() as session:
        first = await CaptureRepository(session).write(derived)
    assert first.messages == len(derived.messages)
    assert first.interfaces == len(derived.interfaces)
    stored = await table_rows(db)
    async with db.transaction() as session:
        interfaces = (
            await session.execute(text("SELECT count(*) FROM discord_interfaces"))
        ).scalar_one()
        await session.execute(text("DELETE FROM discord_messages"))  # reactions cascade

    async with db.transaction() as session:
        again = await CaptureRepository(session).write(derived)

    # Messages and reactions are new again (copied straight in); the interfaces are stored,
    # so the upsert ran and changed nothing.
    assert (again.messages, again.reactions) == (len(derived.messages), len(derived.reactions))
    assert again.interfaces == 0
    after = await table_rows(db)
    assert after["discord_interfaces"] == stored["discord_interfaces"]
    assert after["discord_reactions"] == stored["discord_reactions"]
    assert len(after["discord_messages"]) == len(stored["discord_messages"])
    async with db.sessions() as session:
        count = (await session.execute(text("SELECT count(*) FROM discord_interfaces"))).scalar()
    assert count == interfaces


async def test_a_batch_repeating_a_message_takes_the_upsert(db: Database, program: Path) -> None:
    records, context = await largest_channel(db, program)
    derived = ChannelStreams(infer_replies=False).derive(records[:50] + records[:10], context)

    async with db.transaction() as session:
        counts = await CaptureRepository(session).write(derived)

    assert counts.messages == 50
    async with db.sessions() as session:
        stored = (await session.execute(text("SELECT count(*) FROM discord_messages"))).scalar()
    assert stored == 50
