"""Live capture writes that the bulk writer does not cover: edits, deletes and reactions in
arrival order (kept as pending changes until their message is stored), threads, guild
channels, counts of unmapped channels, member events, backfill checkpoints, and the
advisory lock that elects the command-sync process; and what ``frames capture status`` and
``frames channels list --unmapped`` read.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession

from core.capture.records import (
    MemberEventRecord,
    MessageDeleteRecord,
    MessageEditRecord,
    ReactionChangeRecord,
    ThreadRecord,
)
from core.capture.scoring import score_parts
from core.capture.sightings import GuildChannelRecord, UnmappedSighting

MessageChange: TypeAlias = MessageEditRecord | MessageDeleteRecord | ReactionChangeRecord

# pg_advisory_lock key for "this process syncs application commands" ('FRMS' in ASCII).
COMMAND_SYNC_LOCK = 0x46524D53


@dataclass
class ChangeCounts:
    applied: int = 0
    pending: int = 0


@dataclass(frozen=True, slots=True)
class _StoredMessage:
    author_id: int
    message_type: str
    channel_id: int
    guild_id: int | None
    university_id: str | None
    team_id: str | None
    codified: bool


def _kind(change: MessageChange) -> str:
    if isinstance(change, MessageEditRecord):
        return "edit"
    if isinstance(change, MessageDeleteRecord):
        return "delete"
    return "reaction_add" if change.added else "reaction_remove"


def _when(change: MessageChange) -> dt.datetime:
    if isinstance(change, MessageEditRecord):
        return change.edited_at
    if isinstance(change, MessageDeleteRecord):
        return change.deleted_at
    return change.at


# ``checkpoints_for`` marks a stream that has no checkpoint row (no id is negative).
ABSENT = -1


@dataclass(frozen=True, slots=True)
class BackfillStream:
    """A channel (``parent_id`` None) or thread to catch up, and where its capture stands."""

    stream_id: int
    parent_id: int | None
    guild_id: int | None
    checkpoint: int | None


@dataclass(frozen=True, slots=True)
class UnmappedChannel:
    """A channel the bot has seen that is not mapped (``messages`` 0: seen only as a
    channel of its guild, no message yet)."""

    guild_id: int | None
    channel_id: int
    name: str | None
    category_id: int | None
    messages: int
    first_seen_at: dt.datetime | None
    last_seen_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class StreamState:
    """A mapped channel (``parent_id`` None) or a thread under one: its checkpoint and
    what is stored."""

    stream_id: int
    parent_id: int | None
    guild_id: int | None
    name: str | None
    team_id: str | None
    program_id: str | None
    last_message_id: int | None
    messages: int
    deleted: int


class LiveCaptureRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _driver(self) -> Any:
        connection = await self.session.connection()
        await connection.exec_driver_sql("SELECT 1")  # opens the transaction (see capture.py)
        raw = await connection.get_raw_connection()
        return raw.driver_connection

    # --- message changes --------------------------------------------------------------------
    async def apply_changes(
        self, changes: Sequence[MessageChange], *, keep_missing: bool = True
    ) -> ChangeCounts:
        """Apply changes in order to stored messages; keep the others as pending changes
        (or, with ``keep_missing=False``, ignore them: DMs that were never stored)."""
        counts = ChangeCounts()
        if not changes:
            return counts
        driver = await self._driver()
        stored = await self._stored(driver, {c.message_id for c in changes})
        pending = []
        for change in changes:
            message = stored.get(change.message_id)
            if message is None:
                pending.append(change)
                continue
            await self._apply(driver, change, message)
            counts.applied += 1
        if pending and keep_missing:
            await driver.executemany(
                """
                INSERT INTO capture_pending_changes
                    (message_id, channel_id, guild_id, kind, user_id, emoji, content, happened_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                ON CONFLICT DO NOTHING
                """,
                [
                    (
                        c.message_id,
                        c.channel_id,
                        c.guild_id,
                        _kind(c),
                        c.user_id if isinstance(c, ReactionChangeRecord) else 0,
                        c.emoji if isinstance(c, ReactionChangeRecord) else "",
                        c.content if isinstance(c, MessageEditRecord) else None,
                        _when(c),
                    )
                    for c in pending
                ],
            )
            counts.pending = len(pending)
        return counts

    async def apply_pending(self, message_ids: Sequence[int]) -> int:
        """Apply (in arrival order) and forget the pending changes of messages now stored."""
        if not message_ids:
            return 0
        driver = await self._driver()
        rows = await driver.fetch(
            """
            DELETE FROM capture_pending_changes p
            USING unnest($1::bigint[]) AS stored(id)
            WHERE p.message_id = stored.id
              AND EXISTS (SELECT 1 FROM discord_messages m WHERE m.id = stored.id)
            RETURNING p.id, p.message_id, p.channel_id, p.guild_id, p.kind, p.user_id, p.emoji,
                      p.content, p.happened_at
            """,
            list(message_ids),
        )
        if not rows:
            return 0
        changes: list[MessageChange] = []
        for row in sorted(rows, key=lambda r: r["id"]):
            kind = row["kind"]
            common = (row["message_id"], row["channel_id"])
            if kind == "edit":
                changes.append(
                    MessageEditRecord(*common, row["happened_at"], row["content"], row["guild_id"])
                )
            elif kind == "delete":
                changes.append(MessageDeleteRecord(*common, row["happened_at"], row["guild_id"]))
            else:
                changes.append(
                    ReactionChangeRecord(
                        *common,
                        row["user_id"],
                        row["emoji"],
                        kind == "reaction_add",
                        row["happened_at"],
                        row["guild_id"],
                    )
                )
        stored = await self._stored(driver, {c.message_id for c in changes})
        for change in changes:
            await self._apply(driver, change, stored[change.message_id])
        return len(changes)

    async def _stored(self, driver: Any, ids: set[int]) -> dict[int, _StoredMessage]:
        rows = await driver.fetch(
            """
            SELECT id, author_id, message_type, channel_id, guild_id, university_id, team_id,
                   coalesce((metadata->'signals'->>'codified')::boolean, false) AS codified
            FROM unnest($1::bigint[]) AS wanted(id) JOIN discord_messages m USING (id)
            """,
            list(ids),
        )
        return {
            r["id"]: _StoredMessage(
                r["author_id"],
                r["message_type"],
                r["channel_id"],
                r["guild_id"],
                r["university_id"],
                r["team_id"],
                r["codified"],
            )
            for r in rows
        }

    async def _apply(self, driver: Any, change: MessageChange, message: _StoredMessage) -> None:
        if isinstance(change, MessageEditRecord):
            # NULL content means consent withheld it (or a delete): an edit never brings it back.
            await driver.execute(
                """
                UPDATE discord_messages
                SET content = CASE WHEN content IS NULL OR deleted_at IS NOT NULL
                                   THEN NULL ELSE $2 END,
                    edited_at = $3
                WHERE id = $1 AND coalesce(edited_at, timestamp) <= $3
                """,
                change.message_id,
                change.content,
                change.edited_at,
            )
        elif isinstance(change, MessageDeleteRecord):
            await driver.execute(
                "UPDATE discord_messages SET deleted_at = $2, content = NULL "
                "WHERE id = $1 AND deleted_at IS NULL",
                change.message_id,
                change.deleted_at,
            )
        elif change.added:
            await driver.execute(
                """
                INSERT INTO discord_reactions
                    (message_id, user_id, emoji, channel_id, university_id, created_at)
                VALUES ($1, $2, $3, $4, $5, $6)
                ON CONFLICT (message_id, user_id, emoji) DO UPDATE
                SET removed_at = NULL, created_at = excluded.created_at
                WHERE discord_reactions.removed_at IS NOT NULL
                """,
                change.message_id,
                change.user_id,
                change.emoji,
                message.channel_id,
                message.university_id,
                change.at,
            )
            if change.user_id != message.author_id:
                parts = score_parts("reaction", message.message_type, codified=message.codified)
                await driver.execute(
                    """
                    INSERT INTO discord_interfaces
                        (from_user_id, to_user_id, interaction_type, knowledge_transfer_score,
                         timestamp, message_ids, source_message_id, guild_id, channel_id,
                         university_id, team_id, weight, confidence, features)
                    VALUES ($1, $2, 'reaction', $3, $4, $5, $6, $7, $8, $9, $10, 0.5, 1.0, $11)
                    ON CONFLICT (interaction_type, source_message_id, from_user_id, to_user_id)
                    DO NOTHING
                    """,
                    change.user_id,
                    message.author_id,
                    parts.score,
                    change.at,
                    [change.message_id],
                    change.message_id,
                    message.guild_id,
                    message.channel_id,
                    message.university_id,
                    message.team_id,
                    json.dumps({**parts.as_features(), "emoji": change.emoji}),
                )
        else:
            await driver.execute(
                "UPDATE discord_reactions SET removed_at = $4 "
                "WHERE message_id = $1 AND user_id = $2 AND emoji = $3 AND removed_at IS NULL",
                change.message_id,
                change.user_id,
                change.emoji,
                change.at,
            )

    # --- threads and members ----------------------------------------------------------------
    async def upsert_threads(self, threads: Sequence[ThreadRecord]) -> None:
        if not threads:
            return
        driver = await self._driver()
        await driver.executemany(
            """
            INSERT INTO discord_channels (id, guild_id, parent_id, kind, name, metadata)
            VALUES ($1, $2, $3, 'thread', $4, $5::jsonb)
            ON CONFLICT (id) DO UPDATE
            SET name = excluded.name, metadata = discord_channels.metadata || excluded.metadata
            WHERE discord_channels.name IS DISTINCT FROM excluded.name
               OR NOT discord_channels.metadata @> excluded.metadata
            """,
            [
                (
                    t.thread_id,
                    t.guild_id,
                    t.parent_id,
                    t.name,
                    json.dumps(
                        {
                            "thread_kind": t.kind,
                            "owner_id": str(t.owner_id) if t.owner_id else None,
                            "created_at": t.created_at.isoformat(),
                        }
                    ),
                )
                for t in threads
            ],
        )

    async def upsert_guild_channels(self, channels: Sequence[GuildChannelRecord]) -> None:
        """Guild channels and categories as the gateway last described them."""
        if not channels:
            return
        latest = {c.channel_id: c for c in channels}  # a later description wins
        driver = await self._driver()
        await driver.executemany(
            """
            INSERT INTO discord_channels AS c (id, guild_id, parent_id, kind, name)
            VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (id) DO UPDATE
            SET guild_id = excluded.guild_id, parent_id = excluded.parent_id,
                kind = excluded.kind, name = excluded.name
            WHERE (c.guild_id, c.parent_id, c.kind, c.name)
                  IS DISTINCT FROM (excluded.guild_id, excluded.parent_id, excluded.kind,
                                    excluded.name)
            """,
            [
                (c.channel_id, c.guild_id, c.parent_id, c.kind, c.name)
                for c in sorted(latest.values(), key=lambda c: c.channel_id)
            ],
        )

    async def record_unmapped(self, sightings: Sequence[UnmappedSighting]) -> None:
        """Add messages seen in unmapped channels to their counts (nothing else is kept).
        Rows are written in channel order so concurrent shard processes cannot deadlock."""
        if not sightings:
            return
        driver = await self._driver()
        await driver.executemany(
            """
            INSERT INTO unmapped_channels_seen AS u
                (channel_id, guild_id, name, message_count, first_seen_at, last_seen_at)
            SELECT $1, $2, (SELECT name FROM discord_channels WHERE id = $1), $3, $4, $5
            ON CONFLICT (channel_id) DO UPDATE
            SET guild_id = coalesce(excluded.guild_id, u.guild_id),
                name = coalesce(excluded.name, u.name),
                message_count = u.message_count + excluded.message_count,
                first_seen_at = least(u.first_seen_at, excluded.first_seen_at),
                last_seen_at = greatest(u.last_seen_at, excluded.last_seen_at)
            """,
            [
                (s.channel_id, s.guild_id, s.messages, s.first_at, s.last_at)
                for s in sorted(sightings, key=lambda s: s.channel_id)
            ],
        )

    async def unmapped_channels(self) -> list[UnmappedChannel]:
        """Channels seen (messages counted, or listed at GUILD_CREATE) with no mapping now;
        mapping a channel removes it from this list."""
        rows = await self.session.execute(
            text(
                """
                WITH seen AS (
                    SELECT channel_id, guild_id, name, message_count, first_seen_at,
                           last_seen_at
                    FROM unmapped_channels_seen
                    UNION ALL
                    SELECT c.id, c.guild_id, c.name, 0, NULL, NULL
                    FROM discord_channels c
                    WHERE c.guild_id IS NOT NULL AND c.kind NOT IN ('thread', 'category', 'dm')
                      AND NOT EXISTS (
                          SELECT 1 FROM unmapped_channels_seen u WHERE u.channel_id = c.id
                      )
                )
                SELECT s.guild_id, s.channel_id, coalesce(c.name, s.name), c.parent_id,
                       s.message_count, s.first_seen_at, s.last_seen_at
                FROM seen s
                LEFT JOIN discord_channels c ON c.id = s.channel_id
                WHERE NOT EXISTS (
                    SELECT 1 FROM channel_mappings m WHERE m.channel_id = s.channel_id
                )
                ORDER BY s.guild_id, s.message_count DESC, s.channel_id
                """
            )
        )
        return [UnmappedChannel(*row) for row in rows.all()]

    async def stream_states(self) -> list[StreamState]:
        """Every mapped channel and every known thread under one, with its checkpoint and
        stored message counts (threads' messages count for the thread, not the channel)."""
        rows = await self.session.execute(
            text(
                """
                WITH streams AS (
                    SELECT m.channel_id AS stream_id, NULL::bigint AS parent_id, m.guild_id,
                           m.team_id, m.program_id
                    FROM channel_mappings m
                    UNION ALL
                    SELECT t.id, t.parent_id, t.guild_id, m.team_id, m.program_id
                    FROM discord_channels t
                    JOIN channel_mappings m ON m.channel_id = t.parent_id
                    WHERE t.kind = 'thread'
                ),
                counts AS (
                    SELECT coalesce(d.thread_id, d.channel_id) AS stream_id, count(*) AS messages,
                           count(*) FILTER (WHERE d.deleted_at IS NOT NULL) AS deleted
                    FROM discord_messages d
                    WHERE d.channel_id IN (SELECT channel_id FROM channel_mappings)
                    GROUP BY 1
                )
                SELECT s.stream_id, s.parent_id, s.guild_id, c.name, s.team_id, s.program_id,
                       cp.last_message_id, coalesce(n.messages, 0), coalesce(n.deleted, 0)
                FROM streams s
                LEFT JOIN discord_channels c ON c.id = s.stream_id
                LEFT JOIN capture_checkpoints cp ON cp.channel_id = s.stream_id
                LEFT JOIN counts n ON n.stream_id = s.stream_id
                ORDER BY s.guild_id, coalesce(s.parent_id, s.stream_id), s.parent_id NULLS FIRST,
                         s.stream_id
                """
            )
        )
        return [StreamState(*row) for row in rows.all()]

    async def record_member_events(self, events: Sequence[MemberEventRecord]) -> int:
        if not events:
            return 0
        driver = await self._driver()
        before = await driver.fetchval("SELECT count(*) FROM discord_member_events")
        await driver.executemany(
            """
            INSERT INTO discord_member_events (guild_id, user_id, kind, role_ids, happened_at)
            VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT DO NOTHING
            """,
            [(e.guild_id, e.user_id, e.kind, list(e.role_ids), e.at) for e in events],
        )
        after = await driver.fetchval("SELECT count(*) FROM discord_member_events")
        return int(after - before)

    # --- backfill checkpoints ---------------------------------------------------------------
    async def backfill_streams(self) -> list[BackfillStream]:
        """Every mapped channel and every known thread under one, with its checkpoint."""
        rows = await self.session.execute(
            text(
                """
                SELECT m.channel_id, NULL::bigint, m.guild_id, c.last_message_id
                FROM channel_mappings m
                LEFT JOIN capture_checkpoints c ON c.channel_id = m.channel_id
                UNION
                SELECT t.id, t.parent_id, t.guild_id, c.last_message_id
                FROM discord_channels t
                JOIN channel_mappings m ON m.channel_id = t.parent_id
                LEFT JOIN capture_checkpoints c ON c.channel_id = t.id
                WHERE t.kind = 'thread'
                ORDER BY 1
                """
            )
        )
        return [BackfillStream(*row) for row in rows.all()]

    async def checkpoints_for(self, stream_ids: Sequence[int]) -> dict[int, int | None]:
        """The checkpoints of these streams as they are now; a stream without a row maps to
        ``ABSENT`` so ``restore_checkpoints`` can remove the row a write creates."""
        if not stream_ids:
            return {}
        driver = await self._driver()
        rows = await driver.fetch(
            "SELECT channel_id, last_message_id FROM unnest($1::bigint[]) AS held(channel_id) "
            "JOIN capture_checkpoints USING (channel_id)",
            list(stream_ids),
        )
        found = {r["channel_id"]: r["last_message_id"] for r in rows}
        return {s: found.get(s, ABSENT) for s in stream_ids}

    async def restore_checkpoints(self, saved: dict[int, int | None]) -> None:
        """Put held checkpoints back where ``checkpoints_for`` found them."""
        if not saved:
            return
        driver = await self._driver()
        absent = [s for s, last in saved.items() if last == ABSENT]
        kept = [(s, last) for s, last in saved.items() if last != ABSENT]
        if absent:
            await driver.execute(
                "DELETE FROM capture_checkpoints c USING unnest($1::bigint[]) AS absent(id) "
                "WHERE c.channel_id = absent.id",
                absent,
            )
        if kept:
            await driver.executemany(
                "UPDATE capture_checkpoints SET last_message_id = $2 "
                "WHERE channel_id = $1 AND last_message_id IS DISTINCT FROM $2",
                kept,
            )

    async def complete_checkpoints(self, streams: Sequence[tuple[int, int | None]]) -> None:
        """Streams ``(id, parent or None)`` whose backfill is committed: each is complete up
        to its newest stored message, which becomes its checkpoint."""
        if not streams:
            return
        driver = await self._driver()
        await driver.executemany(
            """
            INSERT INTO capture_checkpoints
                (channel_id, guild_id, university_id, last_message_id, backfilled_until,
                 updated_at)
            SELECT $1, newest.guild_id, newest.university_id, newest.id, now(), now()
            FROM (SELECT 1) one
            LEFT JOIN LATERAL (
                SELECT id, guild_id, university_id FROM discord_messages
                WHERE channel_id = coalesce($2::bigint, $1)
                  AND thread_id IS NOT DISTINCT FROM
                      (CASE WHEN $2::bigint IS NULL THEN NULL ELSE $1 END)
                ORDER BY timestamp DESC, id DESC LIMIT 1
            ) newest ON true
            ON CONFLICT (channel_id) DO UPDATE
            SET last_message_id = greatest(capture_checkpoints.last_message_id,
                                           excluded.last_message_id),
                guild_id = coalesce(capture_checkpoints.guild_id, excluded.guild_id),
                university_id = coalesce(capture_checkpoints.university_id,
                                         excluded.university_id),
                backfilled_until = now(), updated_at = now()
            """,
            list(streams),
        )


class CommandSyncLock:
    """A session-level advisory lock held on its own connection for the bot's lifetime:
    exactly one process (whichever gets it first) syncs application commands."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._connection: AsyncConnection | None = None

    async def acquire(self) -> bool:
        connection = await self._engine.connect()
        connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
        held = bool(
            await connection.scalar(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": COMMAND_SYNC_LOCK}
            )
        )
        if held:
            self._connection = connection
        else:
            await connection.close()
        return held

    async def release(self) -> None:
        if self._connection is not None:
            try:
                await self._connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": COMMAND_SYNC_LOCK}
                )
            finally:
                await self._connection.close()
                self._connection = None
