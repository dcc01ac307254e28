"""Project-management tools: connections, tasks, events, interfaces, identities, deliveries.

Every write is idempotent: tasks upsert on id, events on (task_id, dedupe_key), interfaces on
(event_id, type, from, to), dependencies on their key, deliveries on (connection, delivery id).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.models import (
    Identity,
    IdentitySuggestion,
    Person,
    PMConnection,
    PMInterface,
    PMTask,
    PMTaskDependency,
    PMTaskEvent,
    PMWebhookDelivery,
    PMWebhookSecret,
    Team,
)


@dataclass(frozen=True)
class StoredTask:
    id: str
    updated_at: dt.datetime | None
    assigned_to: tuple[str, ...]
    status: str
    closed: bool
    metadata: dict[str, Any]


@dataclass(frozen=True)
class StoredEvent:
    id: int
    task_id: str
    event_type: str
    actor: str | None
    subject: str | None
    from_value: str | None
    to_value: str | None
    occurred_at: dt.datetime
    dedupe_key: str
    raw: dict[str, Any]


@dataclass(frozen=True)
class AccountRow:
    id: int
    provider: str
    external_id: str
    username: str | None
    display_name: str | None
    email: str | None
    person_id: str | None
    university_id: str | None
    metadata: dict[str, Any]


def _event(row: PMTaskEvent) -> StoredEvent:
    return StoredEvent(
        row.id,
        row.task_id,
        row.event_type,
        row.actor,
        row.subject,
        row.from_value,
        row.to_value,
        row.occurred_at,
        row.dedupe_key,
        row.raw,
    )


class PMRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- connections ----------------------------------------------------------------------
    async def get_connection(self, connection_id: str) -> PMConnection | None:
        return await self.session.get(PMConnection, connection_id)

    async def connections(self, *, enabled_only: bool = False) -> list[PMConnection]:
        query = select(PMConnection).order_by(PMConnection.id)
        if enabled_only:
            query = query.where(PMConnection.enabled.is_(True))
        return list((await self.session.scalars(query)).all())

    async def upsert_connection(self, row: dict[str, Any]) -> None:
        statement = insert(PMConnection).values(**row)
        kept = {"id", "cursor", "last_synced_at", "created_at"}
        statement = statement.on_conflict_do_update(
            index_elements=["id"],
            set_={c: statement.excluded[c] for c in row if c not in kept},
        )
        await self.session.execute(statement)

    async def save_cursor(
        self, connection_id: str, cursor: dict[str, Any], synced_at: dt.datetime | None
    ) -> None:
        values: dict[str, Any] = {"cursor": cursor}
        if synced_at is not None:
            values["last_synced_at"] = synced_at
        await self.session.execute(
            update(PMConnection).where(PMConnection.id == connection_id).values(**values)
        )

    async def team(self, team_id: str) -> Team | None:
        return await self.session.get(Team, team_id)

    # --- tasks ----------------------------------------------------------------------------
    async def stored_tasks(self, task_ids: Iterable[str]) -> dict[str, StoredTask]:
        ids = sorted(set(task_ids))
        if not ids:
            return {}
        query = select(
            PMTask.id,
            PMTask.updated_at,
            PMTask.assigned_to,
            PMTask.status,
            PMTask.completed_at,
            PMTask.metadata_,
        ).where(PMTask.id.in_(ids))
        return {
            row.id: StoredTask(
                row.id,
                row.updated_at,
                tuple(row.assigned_to or ()),
                row.status,
                row.completed_at is not None,
                dict(row.metadata_ or {}),
            )
            for row in (await self.session.execute(query)).all()
        }

    async def upsert_task(self, row: dict[str, Any], updatable: set[str]) -> None:
        """Insert, or update ``updatable`` columns unless the stored task is newer (a late
        webhook never rolls a task back). Metadata is merged, not replaced."""
        statement = insert(PMTask).values(**row)
        table = PMTask.__table__
        set_: dict[str, Any] = {}
        for column in sorted(updatable):
            if column == "metadata":
                set_["metadata"] = table.c.metadata.op("||")(statement.excluded.metadata)
            else:
                set_[column] = statement.excluded[column]
        newer_or_equal = or_(
            table.c.updated_at.is_(None),
            statement.excluded.updated_at.is_(None),
            statement.excluded.updated_at >= table.c.updated_at,
        )
        await self.session.execute(
            statement.on_conflict_do_update(index_elements=["id"], set_=set_, where=newer_or_equal)
        )

    async def tasks(self, connection_id: str | None = None) -> list[PMTask]:
        query = select(PMTask).order_by(PMTask.id)
        if connection_id is not None:
            query = query.where(PMTask.connection_id == connection_id)
        return list((await self.session.scalars(query)).all())

    # --- events ---------------------------------------------------------------------------
    async def insert_events(self, rows: list[dict[str, Any]]) -> int:
        """Insert new events; a known (task, key) only gains an actor it lacked. Returns new."""
        if not rows:
            return 0
        statement = insert(PMTaskEvent).on_conflict_do_nothing(
            index_elements=["task_id", "dedupe_key"]
        )
        inserted = await self.session.scalars(statement.returning(PMTaskEvent.id), rows)
        new = len(inserted.all())
        for row in rows:
            if row.get("actor"):
                await self.session.execute(
                    update(PMTaskEvent)
                    .where(
                        PMTaskEvent.task_id == row["task_id"],
                        PMTaskEvent.dedupe_key == row["dedupe_key"],
                        PMTaskEvent.actor.is_(None),
                    )
                    .values(actor=row["actor"])
                )
        return new

    async def delete_events(self, event_ids: Sequence[int]) -> None:
        """Remove superseded inferences (their interfaces go with them: ON DELETE CASCADE)."""
        if event_ids:
            await self.session.execute(
                delete(PMTaskEvent).where(PMTaskEvent.id.in_(list(event_ids)))
            )

    async def events_by_key(self, keys: Iterable[tuple[str, str]]) -> list[StoredEvent]:
        pairs = sorted(set(keys))
        if not pairs:
            return []
        query = (
            select(PMTaskEvent)
            .where(tuple_(PMTaskEvent.task_id, PMTaskEvent.dedupe_key).in_(pairs))
            .order_by(PMTaskEvent.id)
        )
        return [_event(row) for row in (await self.session.scalars(query)).all()]

    async def events_of(
        self, task_ids: Iterable[str], types: Sequence[str] | None = None
    ) -> list[StoredEvent]:
        ids = sorted(set(task_ids))
        if not ids:
            return []
        query = select(PMTaskEvent).where(PMTaskEvent.task_id.in_(ids))
        if types is not None:
            query = query.where(PMTaskEvent.event_type.in_(list(types)))
        query = query.order_by(PMTaskEvent.occurred_at, PMTaskEvent.id)
        return [_event(row) for row in (await self.session.scalars(query)).all()]

    # --- interfaces and dependencies ------------------------------------------------------
    async def insert_interfaces(self, rows: list[dict[str, Any]]) -> int:
        if not rows:
            return 0
        statement = insert(PMInterface).on_conflict_do_nothing(
            index_elements=["event_id", "interface_type", "from_entity", "to_entity"]
        )
        return len((await self.session.scalars(statement.returning(PMInterface.id), rows)).all())

    async def insert_dependencies(self, rows: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
        """Insert dependencies; return the (task, depends_on, kind) keys that are new."""
        if not rows:
            return []
        statement = insert(PMTaskDependency).on_conflict_do_nothing()
        returned = await self.session.execute(
            statement.returning(
                PMTaskDependency.task_id, PMTaskDependency.depends_on_task_id, PMTaskDependency.kind
            ),
            rows,
        )
        return [tuple(r) for r in returned.all()]  # type: ignore[misc]

    async def refresh_interface_people(self, ref: str, person_id: str | None) -> None:
        """After a link or an unlink, point the account's interfaces at the right person."""
        await self.session.execute(
            update(PMInterface)
            .where(PMInterface.from_entity == ref)
            .values(from_person_id=person_id)
        )
        await self.session.execute(
            update(PMInterface).where(PMInterface.to_entity == ref).values(to_person_id=person_id)
        )

    # --- identities -----------------------------------------------------------------------
    async def upsert_accounts(self, rows: list[dict[str, Any]]) -> list[AccountRow]:
        """Create or refresh tool accounts; known fields are never blanked by a thinner payload."""
        if not rows:
            return []
        statement = insert(Identity)
        table = Identity.__table__
        statement = statement.on_conflict_do_update(
            index_elements=["provider", "external_id"],
            set_={
                c: func.coalesce(statement.excluded[c], table.c[c])
                for c in ("username", "display_name", "email", "university_id")
            },
        )
        returned = await self.session.scalars(statement.returning(Identity), rows)
        return [
            AccountRow(
                i.id,
                i.provider,
                i.external_id,
                i.username,
                i.display_name,
                i.email,
                i.person_id,
                i.university_id,
                dict(i.metadata_ or {}),
            )
            for i in returned.all()
        ]

    async def person_ids_for(self, provider: str, external_ids: Iterable[str]) -> dict[str, str]:
        ids = sorted(set(external_ids))
        if not ids:
            return {}
        query = select(Identity.external_id, Identity.person_id).where(
            Identity.provider == provider,
            Identity.external_id.in_(ids),
            Identity.person_id.is_not(None),
        )
        return {e: p for e, p in (await self.session.execute(query)).all() if p is not None}

    async def people_by_email(self, emails: Iterable[str]) -> dict[str, Person]:
        lowered = sorted({e.lower() for e in emails if e})
        if not lowered:
            return {}
        query = select(Person).where(func.lower(Person.email).in_(lowered))
        return {p.email.lower(): p for p in (await self.session.scalars(query)).all() if p.email}

    async def linked_usernames(self, usernames: Iterable[str]) -> list[tuple[str, str, str]]:
        """(lower username, provider, person_id) of linked accounts with these usernames."""
        lowered = sorted({u.lower() for u in usernames if u})
        if not lowered:
            return []
        query = select(func.lower(Identity.username), Identity.provider, Identity.person_id).where(
            func.lower(Identity.username).in_(lowered), Identity.person_id.is_not(None)
        )
        return [(u, p, person) for u, p, person in (await self.session.execute(query)).all()]

    async def people_named(self, university_id: str | None) -> list[Person]:
        query = select(Person).where(Person.is_bot.is_(False))
        if university_id is not None:
            query = query.where(Person.university_id == university_id)
        return list((await self.session.scalars(query.order_by(Person.id))).all())

    async def link_account(
        self, identity_id: int, person_id: str | None, source: str | None, now: dt.datetime
    ) -> Identity | None:
        identity = await self.session.get(Identity, identity_id)
        if identity is None:
            return None
        identity.person_id = person_id
        identity.link_source = source
        identity.linked_at = now if person_id is not None else None
        metadata = dict(identity.metadata_ or {})
        if person_id is None:
            # An undone automatic link must not come back on the next sync.
            metadata["auto_link_blocked"] = True
        else:
            metadata.pop("auto_link_blocked", None)
        identity.metadata_ = metadata
        await self.session.flush()
        return identity

    async def get_identity(self, identity_id: int) -> Identity | None:
        return await self.session.get(Identity, identity_id)

    async def add_suggestions(self, rows: list[dict[str, Any]]) -> int:
        if not rows:
            return 0
        statement = insert(IdentitySuggestion).on_conflict_do_nothing(
            index_elements=["identity_id", "person_id"]
        )
        return len(
            (await self.session.scalars(statement.returning(IdentitySuggestion.id), rows)).all()
        )

    async def suggestions(
        self, *, statuses: Sequence[str] = ("pending",), now: dt.datetime | None = None
    ) -> list[tuple[IdentitySuggestion, Identity, Person]]:
        """Suggestions with their account and person; snoozed ones reappear once due."""
        query = (
            select(IdentitySuggestion, Identity, Person)
            .join(Identity, Identity.id == IdentitySuggestion.identity_id)
            .join(Person, Person.id == IdentitySuggestion.person_id)
            .order_by(IdentitySuggestion.id)
        )
        conditions: list[Any] = [IdentitySuggestion.status.in_(list(statuses))]
        if now is not None and "pending" in statuses:
            conditions.append(
                and_(
                    IdentitySuggestion.status == "snoozed",
                    IdentitySuggestion.snoozed_until <= now,
                )
            )
        query = query.where(or_(*conditions))
        return [(s, i, p) for s, i, p in (await self.session.execute(query)).all()]

    async def get_suggestion(self, suggestion_id: int) -> IdentitySuggestion | None:
        return await self.session.get(IdentitySuggestion, suggestion_id)

    # --- webhook deliveries ---------------------------------------------------------------
    async def enqueue_delivery(self, row: dict[str, Any]) -> bool:
        """Queue a verified delivery; False when this delivery id was already received."""
        statement = (
            insert(PMWebhookDelivery)
            .values(**row)
            .on_conflict_do_nothing(index_elements=["connection_id", "delivery_id"])
            .returning(PMWebhookDelivery.id)
        )
        return (await self.session.scalar(statement)) is not None

    async def claim_deliveries(self, limit: int, max_attempts: int) -> list[PMWebhookDelivery]:
        """Lock a batch of pending deliveries; other workers skip them (SKIP LOCKED)."""
        query = (
            select(PMWebhookDelivery)
            .where(
                PMWebhookDelivery.status == "pending",
                PMWebhookDelivery.attempts < max_attempts,
            )
            .order_by(PMWebhookDelivery.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return list((await self.session.scalars(query)).all())

    async def finish_delivery(
        self, delivery_id: int, status: str, error: str | None, now: dt.datetime
    ) -> None:
        await self.session.execute(
            update(PMWebhookDelivery)
            .where(PMWebhookDelivery.id == delivery_id)
            .values(
                status=status,
                error=error,
                attempts=PMWebhookDelivery.attempts + 1,
                processed_at=now if status != "pending" else None,
            )
        )

    async def delivery_counts(self) -> dict[str, int]:
        query = select(PMWebhookDelivery.status, func.count()).group_by(PMWebhookDelivery.status)
        return {s: n for s, n in (await self.session.execute(query)).all()}

    async def deliveries(self, connection_id: str | None = None) -> list[PMWebhookDelivery]:
        query = select(PMWebhookDelivery).order_by(PMWebhookDelivery.id)
        if connection_id is not None:
            query = query.where(PMWebhookDelivery.connection_id == connection_id)
        return list((await self.session.scalars(query)).all())

    # --- handshake secrets ----------------------------------------------------------------
    async def webhook_secret(self, connection_id: str) -> str | None:
        row = await self.session.get(PMWebhookSecret, connection_id)
        return row.encrypted_secret if row is not None else None

    async def store_webhook_secret(self, connection_id: str, encrypted: str) -> bool:
        """Store a handshake secret unless one is already armed; True when stored."""
        statement = (
            insert(PMWebhookSecret)
            .values(connection_id=connection_id, encrypted_secret=encrypted)
            .on_conflict_do_nothing(index_elements=["connection_id"])
            .returning(PMWebhookSecret.connection_id)
        )
        return (await self.session.scalar(statement)) is not None

    async def clear_webhook_secret(self, connection_id: str) -> bool:
        result = await self.session.execute(
            delete(PMWebhookSecret)
            .where(PMWebhookSecret.connection_id == connection_id)
            .returning(PMWebhookSecret.connection_id)
        )
        return result.first() is not None

    # --- advisory lock (scheduler leadership) ---------------------------------------------
    @staticmethod
    def try_lock_sql() -> Any:
        return text("SELECT pg_try_advisory_lock(:key)")

    @staticmethod
    def unlock_sql() -> Any:
        return text("SELECT pg_advisory_unlock(:key)")

    # --- task-file imports ----------------------------------------------------------------
    async def insert_connection_if_missing(self, row: dict[str, Any]) -> bool:
        """Create a connection unless its id exists (an existing one is left as it is)."""
        statement = (
            insert(PMConnection)
            .values(**row)
            .on_conflict_do_nothing(index_elements=["id"])
            .returning(PMConnection.id)
        )
        return (await self.session.scalar(statement)) is not None

    async def count_events(self, task_ids: Iterable[str], types: Sequence[str]) -> int:
        ids = sorted(set(task_ids))
        if not ids:
            return 0
        query = (
            select(func.count())
            .select_from(PMTaskEvent)
            .where(PMTaskEvent.task_id.in_(ids), PMTaskEvent.event_type.in_(list(types)))
        )
        return int(await self.session.scalar(query) or 0)
