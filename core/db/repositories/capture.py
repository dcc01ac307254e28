"""Bulk writes of captured messages, reactions and interfaces, and the context capture needs.

Writes go COPY → temporary staging table → one idempotent upsert per table, inside the
caller's transaction. Re-writing rows that are already stored changes nothing (the upserts
only touch rows whose values differ), so imports are replay-safe.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core.capture.derive import (
    INTERFACE_COLUMNS,
    MESSAGE_COLUMNS,
    REACTION_COLUMNS,
    AuthorContext,
    ChannelContext,
    DerivedBatch,
    MessageSummary,
)


@dataclass(frozen=True)
class AuthorDetails:
    """What an export tells about an account, for its identity row."""

    name: str | None
    is_bot: bool = False
    email: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class WriteCounts:
    messages: int
    interfaces: int
    reactions: int


_MESSAGE_ID = MESSAGE_COLUMNS.index("id")
_MESSAGE_UPDATE = """
    content = CASE WHEN m.deleted_at IS NOT NULL THEN NULL ELSE excluded.content END,
    edited_at = excluded.edited_at, message_type = excluded.message_type,
    metadata = excluded.metadata, university_id = excluded.university_id,
    team_id = excluded.team_id, program_id = excluded.program_id,
    reference_id = excluded.reference_id, is_bot = excluded.is_bot
"""
# Only a newer or equal version replaces what is stored, and only when something differs.
_MESSAGE_CHANGED = """
    coalesce(excluded.edited_at, excluded.timestamp) >= coalesce(m.edited_at, m.timestamp)
    AND (m.content, m.edited_at, m.message_type, m.metadata, m.university_id, m.team_id,
         m.program_id, m.reference_id, m.is_bot)
        IS DISTINCT FROM
        (CASE WHEN m.deleted_at IS NOT NULL THEN NULL ELSE excluded.content END,
         excluded.edited_at, excluded.message_type, excluded.metadata, excluded.university_id,
         excluded.team_id, excluded.program_id, excluded.reference_id, excluded.is_bot)
"""


def _staging_table(stage: str, table: str, columns: str) -> str:
    """A per-connection staging table, emptied at each commit (names are constants)."""
    create = f"CREATE TEMP TABLE IF NOT EXISTS {stage} ON COMMIT DELETE ROWS AS "
    return create + f"SELECT {columns} FROM {table} WITH NO DATA"  # noqa: S608


class CaptureRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _driver(self) -> Any:
        """The session's asyncpg connection, for COPY, inside the session's transaction."""
        connection = await self.session.connection()
        # SQLAlchemy's asyncpg adapter opens the database transaction lazily, on its first
        # statement; without one, raw COPY would run in autocommit, outside our transaction.
        await connection.exec_driver_sql("SELECT 1")
        raw = await connection.get_raw_connection()
        return raw.driver_connection

    # --- context ----------------------------------------------------------------------------
    async def channel_contexts(self) -> dict[int, ChannelContext]:
        rows = await self.session.execute(
            text(
                "SELECT channel_id, guild_id, team_id, program_id, university_id "
                "FROM channel_mappings"
            )
        )
        return {r[0]: ChannelContext(*r) for r in rows.all()}

    async def consent_modes(self) -> dict[str, str]:
        rows = await self.session.execute(text("SELECT id, consent_mode FROM universities"))
        return {university: mode for university, mode in rows.all()}

    async def ensure_authors(
        self, authors: dict[int, AuthorDetails], *, provider: str = "discord"
    ) -> None:
        """Create identities for accounts not seen before, linked to a person when the roster
        named the account's username (Discord) or the export gives the person's email."""
        if not authors:
            return
        ids = list(authors)
        await self.session.execute(
            text(
                """
                INSERT INTO identities (provider, external_id, username, display_name, email,
                                        is_bot, metadata, person_id, university_id,
                                        link_source, linked_at)
                SELECT :provider, a.id::text, a.name, a.name, a.email, a.is_bot,
                       coalesce(a.metadata, '{}'::jsonb),
                       coalesce(n.person_id, p.id), coalesce(n.university_id, p.university_id),
                       CASE WHEN n.person_id IS NOT NULL THEN 'roster-name'
                            WHEN p.id IS NOT NULL THEN 'email-match' END,
                       CASE WHEN coalesce(n.person_id, p.id) IS NOT NULL THEN now() END
                FROM unnest(CAST(:ids AS bigint[]), CAST(:names AS text[]),
                            CAST(:emails AS text[]), CAST(:bots AS boolean[]),
                            CAST(:metadata AS jsonb[]))
                     AS a(id, name, email, is_bot, metadata)
                LEFT JOIN identities n
                       ON :provider = 'discord' AND n.provider = 'discord-name'
                      AND n.external_id = lower(a.name)
                LEFT JOIN people p ON a.email IS NOT NULL AND p.email = lower(a.email)
                ON CONFLICT (provider, external_id) DO NOTHING
                """
            ),
            {
                "provider": provider,
                "ids": ids,
                "names": [authors[i].name for i in ids],
                "emails": [authors[i].email for i in ids],
                "bots": [authors[i].is_bot for i in ids],
                "metadata": [json.dumps(authors[i].metadata) for i in ids],
            },
        )

    async def author_contexts(
        self, author_ids: Sequence[int], *, provider: str = "discord"
    ) -> dict[int, AuthorContext]:
        if not author_ids:
            return {}
        rows = await self.session.execute(
            text(
                """
                SELECT i.external_id::bigint, p.id, p.university_id, c.status,
                       i.is_bot OR coalesce(p.is_bot, false)
                FROM identities i
                LEFT JOIN people p ON p.id = i.person_id
                LEFT JOIN LATERAL (
                    SELECT status FROM consents
                    WHERE person_id = p.id AND scope = 'research'
                    ORDER BY recorded_at DESC, id DESC LIMIT 1
                ) c ON true
                JOIN unnest(CAST(:ids AS text[])) AS wanted(id) ON i.external_id = wanted.id
                WHERE i.provider = :provider
                """
            ),
            {"provider": provider, "ids": [str(a) for a in author_ids]},
        )
        return {r[0]: AuthorContext(r[1], r[2], r[3], bool(r[4])) for r in rows.all()}

    async def message_summaries(self, message_ids: Sequence[int]) -> list[MessageSummary]:
        if not message_ids:
            return []
        rows = await self.session.execute(
            text(
                "SELECT id, author_id, message_type, timestamp, "
                "coalesce((metadata->'signals'->>'codified')::boolean, false) "
                "FROM unnest(CAST(:ids AS bigint[])) AS wanted(id) "
                "JOIN discord_messages m USING (id)"
            ),
            {"ids": list(message_ids)},
        )
        return [MessageSummary(*r) for r in rows.all()]

    async def analyze(self) -> None:
        """Refresh planner statistics after a bulk load (fresh imports otherwise get plans
        tuned for empty tables, measured 30× slower in the NDA engine's reads)."""
        await self.session.execute(
            text("ANALYZE discord_messages, discord_interfaces, discord_reactions, identities")
        )

    # --- writes -----------------------------------------------------------------------------
    async def write(self, batch: DerivedBatch) -> WriteCounts:
        """Upsert a derived batch; returns rows inserted or changed per table."""
        driver = await self._driver()
        if batch.threads:
            await driver.executemany(
                "INSERT INTO discord_channels (id, guild_id, parent_id, kind) "
                "VALUES ($1, $2, $3, 'thread') "
                "ON CONFLICT (id) DO NOTHING",
                [(thread, guild, parent) for thread, (guild, parent) in batch.threads.items()],
            )
        # A batch of messages none of which is stored yet (a first import) goes straight into
        # the tables; whatever is derived from it is new too. Anything else, or a row that
        # turns out to exist after all (written concurrently), takes the upsert.
        fresh = await self._all_new(driver, batch.messages)
        messages = await self._copy_or_upsert(
            driver,
            fresh,
            "discord_messages",
            MESSAGE_COLUMNS,
            batch.messages,
            self._upsert_messages,
        )
        reactions = await self._copy_or_upsert(
            driver,
            fresh,
            "discord_reactions",
            REACTION_COLUMNS,
            batch.reactions,
            partial(
                self._copy_upsert,
                table="discord_reactions",
                columns=REACTION_COLUMNS,
                key=("message_id", "user_id", "emoji"),
                update=None,
            ),
        )
        interfaces = await self._copy_or_upsert(
            driver,
            fresh,
            "discord_interfaces",
            INTERFACE_COLUMNS,
            batch.interfaces,
            partial(
                self._copy_upsert,
                table="discord_interfaces",
                columns=INTERFACE_COLUMNS,
                key=("interaction_type", "source_message_id", "from_user_id", "to_user_id"),
                update=(
                    "knowledge_transfer_score",
                    "weight",
                    "confidence",
                    "features",
                    "university_id",
                    "team_id",
                ),
            ),
        )
        await self._advance_checkpoints(driver, batch.messages)
        return WriteCounts(messages, interfaces, reactions)

    async def _all_new(self, driver: Any, rows: list[tuple[object, ...]]) -> bool:
        """Whether no message of the batch is stored yet, nor repeated within it."""
        ids = [row[_MESSAGE_ID] for row in rows]
        if not ids or len(set(ids)) < len(ids):
            return False
        # One index probe per id. (``id = ANY($1)`` is as fast only in a custom plan: once
        # the statement asyncpg prepared turns generic, after five runs, each call read the
        # whole primary key, 0.5 s per 10,000-message batch at 100,000 stored messages.)
        stored = await driver.fetchval(
            "SELECT EXISTS (SELECT 1 FROM unnest($1::bigint[]) AS batch(id) "
            "JOIN discord_messages m ON m.id = batch.id)",
            ids,
        )
        return not stored

    async def _copy_or_upsert(
        self,
        driver: Any,
        fresh: bool,
        table: str,
        columns: Sequence[str],
        rows: list[tuple[object, ...]],
        upsert: Callable[[Any, list[tuple[object, ...]]], Awaitable[int]],
    ) -> int:
        """COPY ``rows`` straight into ``table`` when the batch is ``fresh``; if a key is taken
        after all, nothing of the attempt remains (a savepoint) and the upsert runs."""
        if fresh and rows:
            try:
                async with driver.transaction():  # a savepoint inside the caller's transaction
                    await driver.copy_records_to_table(table, records=rows, columns=columns)
                return len(rows)
            except asyncpg.UniqueViolationError:
                pass
        return await upsert(driver, rows)

    async def _upsert_messages(self, driver: Any, rows: list[tuple[object, ...]]) -> int:
        if not rows:
            return 0
        columns = ", ".join(MESSAGE_COLUMNS)
        await driver.execute(_staging_table("stage_discord_messages", "discord_messages", columns))
        # ON COMMIT DELETE ROWS empties the staging table when the batch's transaction ends.
        await driver.copy_records_to_table(
            "stage_discord_messages", records=rows, columns=MESSAGE_COLUMNS
        )
        status = await driver.execute(
            f"""
            INSERT INTO discord_messages AS m ({columns})
            SELECT DISTINCT ON (id) {columns} FROM stage_discord_messages
            ORDER BY id, coalesce(edited_at, timestamp) DESC
            ON CONFLICT (id) DO UPDATE SET {_MESSAGE_UPDATE} WHERE {_MESSAGE_CHANGED}
            """  # noqa: S608 - column names are constants, values travel by COPY
        )
        return int(status.rsplit(" ", 1)[-1])

    async def _copy_upsert(
        self,
        driver: Any,
        rows: list[tuple[object, ...]],
        *,
        table: str,
        columns: Sequence[str],
        key: Sequence[str],
        update: Sequence[str] | None,
    ) -> int:
        if not rows:
            return 0
        stage = f"stage_{table}"
        column_list = ", ".join(columns)
        key_list = ", ".join(key)
        await driver.execute(_staging_table(stage, table, column_list))
        await driver.copy_records_to_table(stage, records=rows, columns=list(columns))
        if update:
            assignments = ", ".join(f"{c} = excluded.{c}" for c in update)
            changed = " OR ".join(f"t.{c} IS DISTINCT FROM excluded.{c}" for c in update)
            conflict = f"DO UPDATE SET {assignments} WHERE {changed}"
        else:
            conflict = "DO NOTHING"
        status = await driver.execute(
            f"""
            INSERT INTO {table} AS t ({column_list})
            SELECT DISTINCT ON ({key_list}) {column_list} FROM {stage}
            ON CONFLICT ({key_list}) {conflict}
            """  # noqa: S608 - identifiers are constants, values travel by COPY
        )
        return int(status.rsplit(" ", 1)[-1])

    async def _advance_checkpoints(self, driver: Any, rows: list[tuple[object, ...]]) -> None:
        """The highest stored id per channel and thread, for gap-free backfill later."""
        latest: dict[int, tuple[int | None, str | None, int]] = {}
        id_at, channel_at, guild_at, thread_at, university_at = (
            MESSAGE_COLUMNS.index(c)
            for c in ("id", "channel_id", "guild_id", "thread_id", "university_id")
        )
        for row in rows:
            stream = row[thread_at] or row[channel_at]
            assert isinstance(stream, int)
            message_id = row[id_at]
            assert isinstance(message_id, int)
            current = latest.get(stream)
            if current is None or message_id > current[2]:
                latest[stream] = (row[guild_at], row[university_at], message_id)  # type: ignore[assignment]
        if not latest:
            return
        await driver.executemany(
            """
            INSERT INTO capture_checkpoints
                (channel_id, guild_id, university_id, last_message_id, updated_at)
            VALUES ($1, $2, $3, $4, now())
            ON CONFLICT (channel_id) DO UPDATE
            SET last_message_id = excluded.last_message_id, updated_at = now()
            WHERE capture_checkpoints.last_message_id IS NULL
               OR capture_checkpoints.last_message_id < excluded.last_message_id
            """,
            [
                (stream, guild, university, message_id)
                for stream, (guild, university, message_id) in latest.items()
            ],
        )
