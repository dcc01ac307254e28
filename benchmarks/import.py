"""Import throughput against raw COPY of the same rows into the same table, in one run.

    python benchmarks/import.py [--messages 200000] [--seed 7] [--linker auto|on|off|compare]

1. simulates a program with the given number of messages (DiscordChatExporter files);
2. imports it end to end with ``import_discord`` (parsing, consent, classification,
   interfaces, COPY into staging and idempotent upserts), on a fresh embedded PostgreSQL;
3. empties the captured tables and COPYs the very same message rows into
   ``discord_messages`` with asyncpg's ``copy_records_to_table`` (no parsing, no interfaces);
4. prints both rates and their ratio (target: import ≥ 0.6 × raw COPY);
5. beside them, the write stage alone: the importer's derived batches (messages, their
   interfaces and reactions) written as the importer writes them, without reading or
   deriving: the rate no import can pass, however cheap its Python.

``--linker on`` runs reply inference in a second process whatever the machine (``auto``:
as the importer decides, by export size and cores); ``--linker compare`` imports without it,
then again with it, and prints both rates (the evidence for the importer's rule).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import text

from core.capture.derive import MESSAGE_COLUMNS, CaptureContext, ChannelStreams
from core.db.embedded import EmbeddedPostgres
from core.db.engine import Database, open_database
from core.db.repositories.capture import CaptureRepository
from core.imports.dce import dce_files
from core.imports.discord_import import dce_batches, import_discord
from core.org.channels import map_channels, parse_channels_csv
from core.org.roster import parse_roster
from core.org.service import import_roster
from core.settings import Settings
from core.simulate import SimulationConfig, simulate


async def measure(
    program: Path, url: str, linker: bool | None = None, *, compare_linker: bool = False
) -> None:
    settings = Settings(DATABASE_URL=url)  # type: ignore[call-arg]
    async with open_database(settings, migrate=True) as db:
        async with db.transaction() as session:
            roster = parse_roster(program / "roster.csv", program / "terms.csv")
            await import_roster(session, roster, actor="benchmark", source="roster.csv")
            channels = parse_channels_csv(program / "channels.csv")
            await map_channels(session, channels, actor="benchmark", source="channels.csv")

        started = time.perf_counter()
        report = await import_discord(
            db, [program / "discord"], actor="benchmark", separate_linker=linker
        )
        import_seconds = time.perf_counter() - started
        import_rate = report.messages_read / import_seconds

        # The same rows the importer wrote, prepared outside the timed section.
        async with db.sessions() as session:
            repo = CaptureRepository(session)
            context = CaptureContext(await repo.channel_contexts(), {}, await repo.consent_modes())
            stored = await session.scalars(text("SELECT DISTINCT author_id FROM discord_messages"))
            authors = await repo.author_contexts(list(stored))
        context.authors = authors
        streams = ChannelStreams()
        next_batch = dce_batches(dce_files([program / "discord"]))
        batches = []
        while batch := next_batch():
            batches.append(streams.derive(batch, context))
        rows = [row for derived in batches for row in derived.messages]

        # The write stage alone: the importer's batches of derived rows (messages,
        # interfaces, reactions, checkpoints), each batch in its own transaction.
        await _empty_captured_tables(db)
        started = time.perf_counter()
        for derived in batches:
            async with db.transaction() as session:
                await CaptureRepository(session).write(derived)
        write_seconds = time.perf_counter() - started
        write_rate = len(rows) / write_seconds
        rows_written = sum(len(d.messages) + len(d.interfaces) + len(d.reactions) for d in batches)

        await _empty_captured_tables(db)
        async with db.engine.connect() as connection:
            raw = await connection.get_raw_connection()
            driver = raw.driver_connection
            assert driver is not None
            started = time.perf_counter()
            await driver.copy_records_to_table(
                "discord_messages", records=rows, columns=MESSAGE_COLUMNS
            )
            copy_seconds = time.perf_counter() - started
        copy_rate = len(rows) / copy_seconds

        linked_rate = None
        if compare_linker:
            # The same import again, reply inference in a second process, on empty tables.
            await _empty_captured_tables(db)
            started = time.perf_counter()
            await import_discord(db, [program / "discord"], actor="benchmark", separate_linker=True)
            linked_rate = report.messages_read / (time.perf_counter() - started)

    print(f"messages                      {report.messages_read:>10,}")
    print(f"interfaces derived            {report.interfaces_written:>10,}")
    print(
        f"import, end to end            {import_rate:>10,.0f} messages/s  ({import_seconds:.2f} s)"
    )
    print(f"raw COPY of the same rows     {copy_rate:>10,.0f} rows/s      ({copy_seconds:.2f} s)")
    print(f"ratio import / raw COPY       {import_rate / copy_rate:>10.2f}   (target ≥ 0.60)")
    print(
        f"write stage alone             {write_rate:>10,.0f} messages/s  ({write_seconds:.2f} s, "
        f"{rows_written / len(rows):.2f} rows per message)"
    )
    print(f"ratio write alone / raw COPY  {write_rate / copy_rate:>10.2f}   (the import's ceiling)")
    if linked_rate is not None:
        print(f"import, linker process        {linked_rate:>10,.0f} messages/s")
        print(f"ratio linker / one process    {linked_rate / import_rate:>10.2f}")


async def _empty_captured_tables(db: Database) -> None:
    async with db.engine.begin() as connection:
        await connection.exec_driver_sql(
            "TRUNCATE discord_messages, discord_interfaces, discord_reactions, "
            "capture_checkpoints CASCADE"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--linker", choices=("auto", "on", "off", "compare"), default="auto")
    args = parser.parse_args()
    linker = {"auto": None, "on": True, "off": False, "compare": False}[args.linker]
    with tempfile.TemporaryDirectory(prefix="frames-bench-") as work:
        program = Path(work) / "program"
        simulate(SimulationConfig(seed=args.seed, messages=args.messages), program)
        server = EmbeddedPostgres(Path(work) / "pgdata")
        url = server.start()
        try:
            asyncio.run(measure(program, url, linker, compare_linker=args.linker == "compare"))
        finally:
            server.stop()


if __name__ == "__main__":
    main()
