"""The simulator's program through the importer, and live capture meeting an import."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from sqlalchemy import text

from core.capture.derive import CaptureContext, ChannelStreams
from core.db.engine import Database
from core.db.repositories.capture import AuthorDetails, CaptureRepository
from core.imports.dce import dce_files, read_dce_file
from core.imports.discord_import import import_discord
from core.simulate import SimulationConfig, simulate
from tests.programs import load_organisation


@pytest.fixture(scope="module")
def program(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("program")
    simulate(SimulationConfig(seed=3, universities=2, weeks=16), out)
    return out


async def scalar(db: Database, sql: str) -> object:
    async with db.sessions() as session:
        return (await session.execute(text(sql))).scalar_one()


async def table_rows(db: Database, table: str) -> list[str]:
    async with db.sessions() as session:
        return sorted(
            repr(tuple(r)) for r in (await session.execute(text(f"SELECT * FROM {table}"))).all()
        )


async def test_simulated_program_imports_completely_and_idempotently(
    db: Database, program: Path
) -> None:
    manifest = json.loads((program / "manifest.json").read_text())
    await load_organisation(db, program)
    report = await import_discord(db, [program / "discord"], actor="test")

    assert report.unmapped_channels == {} and report.truncated_files == {}
    assert report.messages_read == manifest["counts"]["messages"]
    assert (
        await scalar(db, "SELECT count(*) FROM discord_messages") == manifest["counts"]["messages"]
    )
    replies = await scalar(
        db, "SELECT count(*) FROM discord_messages WHERE reference_id IS NOT NULL"
    )
    assert replies == manifest["explicit_replies"]
    deleted = manifest["deleted_messages"]
    present = await scalar(
        db,
        f"SELECT count(*) FROM discord_messages WHERE id = ANY(ARRAY[{','.join(deleted) or '0'}]::bigint[])",
    )
    assert present == 0
    for failure in manifest["planted_failures"]:
        count = await scalar(
            db, f"SELECT count(*) FROM discord_messages WHERE team_id = '{failure['team_id']}'"
        )
        assert count > 0, failure
    # Every type of explicit interface the simulator writes is derived.
    kinds = await scalar(
        db,
        "SELECT array_agg(DISTINCT interaction_type ORDER BY interaction_type) FROM discord_interfaces",
    )
    assert {"mention", "reaction", "reply", "thread"} <= set(kinds)  # type: ignore[arg-type]
    types = await scalar(
        db, "SELECT array_agg(DISTINCT message_type ORDER BY message_type) FROM discord_messages"
    )
    assert set(types) == {"announcement", "answer", "documentation", "handoff", "other", "question"}  # type: ignore[arg-type]

    tables = (
        "discord_messages",
        "discord_interfaces",
        "discord_reactions",
        "identities",
        "capture_checkpoints",
    )
    before = {t: await table_rows(db, t) for t in tables}
    again = await import_discord(db, [program / "discord"], actor="test")
    assert (again.messages_written, again.interfaces_written, again.reactions_written) == (0, 0, 0)
    assert {t: await table_rows(db, t) for t in tables} == before


async def test_live_capture_then_import_of_the_same_channel(db: Database, program: Path) -> None:
    await load_organisation(db, program)
    path = max(dce_files([program / "discord"]), key=lambda p: p.stat().st_size)
    _, records = read_dce_file(path)
    everything = list(records)
    live = [dataclasses.replace(r, source="gateway") for r in everything[: len(everything) // 2]]

    # Live capture wrote the first half through the same stage and writer.
    async with db.transaction() as session:
        repo = CaptureRepository(session)
        await repo.ensure_authors(
            {r.author_id: AuthorDetails(r.author_name, r.author_is_bot) for r in live}
        )
        context = CaptureContext(
            await repo.channel_contexts(),
            await repo.author_contexts(sorted({r.author_id for r in live})),
            await repo.consent_modes(),
        )
        await repo.write(ChannelStreams().derive(live, context))

    report = await import_discord(db, [path], actor="test")
    assert report.messages_read == len(everything)
    # The second half is new; a message near the seam may be re-typed now that reply
    # inference sees more of the stream (an update in place, never a second row).
    assert len(everything) - len(live) <= report.messages_written <= len(everything) - len(live) + 5
    assert await scalar(db, "SELECT count(*) FROM discord_messages") == len(everything)
    assert await scalar(db, "SELECT count(DISTINCT id) FROM discord_messages") == len(everything)
    assert await scalar(
        db, "SELECT count(*) FROM discord_messages WHERE source = 'gateway'"
    ) == len(live)
    duplicates = await scalar(
        db,
        "SELECT count(*) FROM (SELECT 1 FROM discord_interfaces GROUP BY interaction_type, "
        "source_message_id, from_user_id, to_user_id HAVING count(*) > 1) d",
    )
    assert duplicates == 0


async def test_inferred_replies_recover_the_planted_ones(db: Database, program: Path) -> None:
    """Replies written without the reply feature become inferred_reply interfaces."""
    manifest = json.loads((program / "manifest.json").read_text())
    planted = {int(k): int(v) for k, v in manifest["inferred_replies"].items()}
    await load_organisation(db, program)
    await import_discord(db, [program / "discord"], actor="test")
    async with db.sessions() as session:
        rows = await session.execute(
            text(
                "SELECT source_message_id, message_ids, confidence, features "
                "FROM discord_interfaces WHERE interaction_type = 'inferred_reply'"
            )
        )
        inferred: dict[int, set[int]] = {}
        for source, evidence, confidence, features in rows.all():
            inferred.setdefault(source, set()).update(evidence[1:])
            assert 0 < confidence <= 1 and "kts_type" in features and len(features) > 6
    recovered = sum(
        1 for message, answered in planted.items() if answered in inferred.get(message, ())
    )
    assert len(planted) > 200
    print(f"recovered {recovered}/{len(planted)}")
    assert recovered / len(planted) >= 0.9, f"{recovered}/{len(planted)}"
