"""Store a :class:`ChangeSet` idempotently: tasks, events, handoffs, interfaces, dependencies.

The same function serves polls and webhooks, so a change seen both ways is stored once:
events are unique on (task, dedupe key) and connectors build the key from what the change
*is* (a vendor change id, or the assignee and moment), never from how it arrived.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.db.repositories.pm import PMRepository, StoredEvent, StoredTask
from core.pm.identities import record_accounts
from core.pm.records import (
    ASSIGNED,
    CLOSED,
    COMMENTED,
    CREATED,
    DEPENDENCY_ADDED,
    REASSIGNED,
    REOPENED,
    REVIEWED,
    STATUS_CHANGED,
    UNASSIGNED,
    ChangeSet,
    ConnectionInfo,
    TaskEvent,
    TaskSnapshot,
    iso,
)

log = logging.getLogger(__name__)

TASK_ASSIGNMENT = "task_assignment"
COLLABORATION = "collaboration"
HANDOFF = "handoff"
COMMENT = "comment"
REVIEW = "review"


@dataclass
class IngestReport:
    tasks: int = 0
    events: int = 0
    interfaces: int = 0
    dependencies: int = 0
    accounts: int = 0
    linked: int = 0
    suggested: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def add(self, other: IngestReport) -> None:
        self.tasks += other.tasks
        self.events += other.events
        self.interfaces += other.interfaces
        self.dependencies += other.dependencies
        self.accounts += other.accounts
        self.linked += other.linked
        self.suggested += other.suggested
        self.skipped.extend(other.skipped)


# --- pure derivations (unit-tested) --------------------------------------------------------
def snapshot_events(stored: StoredTask | None, snapshot: TaskSnapshot) -> list[TaskEvent]:
    """Assignment and open/closed changes implied by a newer snapshot of the same task.

    Keys match the ones the tool's webhooks produce for the same change (the assignee and
    the task's ``updated_at``), which is what makes a poll and a webhook store one event.
    """
    if snapshot.partial or snapshot.updated_at is None or snapshot.assignees is None:
        return []
    if (
        stored is not None
        and stored.updated_at is not None
        and snapshot.updated_at <= stored.updated_at
    ):
        return []
    moment = snapshot.updated_at
    inferred = {"inferred": "snapshot"}
    events: list[TaskEvent] = []
    before = set(stored.assigned_to) if stored is not None else set()
    after = set(snapshot.assignees)
    for ref in sorted(after - before):
        events.append(
            TaskEvent(
                snapshot.id,
                ASSIGNED,
                moment,
                f"assigned:{ref}:{iso(moment)}",
                subject=ref,
                to_value=ref,
                raw=inferred,
            )
        )
    for ref in sorted(before - after):
        events.append(
            TaskEvent(
                snapshot.id,
                UNASSIGNED,
                moment,
                f"unassigned:{ref}:{iso(moment)}",
                subject=ref,
                from_value=ref,
                raw=inferred,
            )
        )
    was_closed = stored.closed if stored is not None else False
    if snapshot.closed is not None and snapshot.closed != was_closed:
        if snapshot.closed:
            when = snapshot.completed_at or moment
            events.append(
                TaskEvent(
                    snapshot.id,
                    CLOSED,
                    when,
                    f"closed:{iso(when)}",
                    to_value=snapshot.status,
                    raw=inferred,
                )
            )
        elif stored is not None:
            events.append(
                TaskEvent(
                    snapshot.id,
                    REOPENED,
                    moment,
                    f"reopened:{iso(moment)}",
                    to_value=snapshot.status,
                    raw=inferred,
                )
            )
    elif stored is not None and snapshot.status and snapshot.status != stored.status:
        events.append(
            TaskEvent(
                snapshot.id,
                STATUS_CHANGED,
                moment,
                f"status:{stored.status}->{snapshot.status}:{iso(moment)}",
                subject="status",
                from_value=stored.status,
                to_value=snapshot.status,
                raw=inferred,
            )
        )
    return events


def created_event(snapshot: TaskSnapshot) -> TaskEvent | None:
    if snapshot.partial or snapshot.created_at is None:
        return None
    creator = snapshot.metadata.get("creator")
    return TaskEvent(
        snapshot.id,
        CREATED,
        snapshot.created_at,
        "created",
        actor=creator if isinstance(creator, str) else None,
    )


OPPOSITE = {ASSIGNED: UNASSIGNED, UNASSIGNED: ASSIGNED, CLOSED: REOPENED, REOPENED: CLOSED}


def superseded_inferences(events: Sequence[StoredEvent]) -> list[StoredEvent]:
    """Inferred events that a vendor-reported event explains, when they arrived out of order.

    A snapshot only shows that a change happened by its ``updated_at``; when the vendor's own
    report of that change (same type and subject, at or before that moment, nothing undoing
    it in between) is also stored, the inference is a duplicate and gives way.
    """
    doomed: list[StoredEvent] = []
    for inferred in events:
        if inferred.raw.get("inferred") != "snapshot" or inferred.event_type not in OPPOSITE:
            continue
        for reported in events:
            if (
                reported.raw.get("inferred")
                or reported.task_id != inferred.task_id
                or reported.event_type != inferred.event_type
                or reported.subject != inferred.subject
                or reported.occurred_at > inferred.occurred_at
            ):
                continue
            undone = any(
                e.task_id == inferred.task_id
                and e.event_type == OPPOSITE[inferred.event_type]
                and e.subject == inferred.subject
                and reported.occurred_at < e.occurred_at <= inferred.occurred_at
                for e in events
            )
            if not undone:
                doomed.append(inferred)
                break
    return doomed


def pair_handoffs(events: Sequence[StoredEvent], window: dt.timedelta) -> list[TaskEvent]:
    """Pair an unassignment of A with an assignment of B on the same task, close in time.

    Tools that report a reassignment as two changes (GitHub, Trello, Asana, Monday) get one
    ``reassigned`` event for the pair; greedy by smallest gap, each change used once, so the
    result does not depend on the order the changes arrived in.
    """
    by_task: dict[str, list[StoredEvent]] = defaultdict(list)
    for event in events:
        by_task[event.task_id].append(event)
    handoffs: list[TaskEvent] = []
    for task_id, task_events in sorted(by_task.items()):
        unassigns = [e for e in task_events if e.event_type == UNASSIGNED and e.from_value]
        assigns = [e for e in task_events if e.event_type == ASSIGNED and e.to_value]
        candidates = sorted(
            (
                (
                    abs((a.occurred_at - u.occurred_at).total_seconds()),
                    u.occurred_at,
                    a.occurred_at,
                    u.id,
                    a.id,
                    u,
                    a,
                )
                for u in unassigns
                for a in assigns
                if u.from_value != a.to_value and abs(a.occurred_at - u.occurred_at) <= window
            ),
            key=lambda c: c[:5],
        )
        used: set[int] = set()
        for *_, u, a in candidates:
            if u.id in used or a.id in used:
                continue
            used.update((u.id, a.id))
            moment = max(u.occurred_at, a.occurred_at)
            handoffs.append(
                TaskEvent(
                    task_id,
                    REASSIGNED,
                    moment,
                    f"reassigned:{u.from_value}->{a.to_value}:{iso(moment)}",
                    actor=a.actor or u.actor,
                    subject="assignee",
                    from_value=u.from_value,
                    to_value=a.to_value,
                    raw={"paired": [u.dedupe_key, a.dedupe_key]},
                )
            )
    return handoffs


@dataclass(frozen=True)
class Edge:
    event_id: int
    task_id: str
    interface_type: str
    from_entity: str
    to_entity: str
    timestamp: dt.datetime


def derive_interfaces(
    event: StoredEvent,
    assignees: Sequence[str],
    prior_commenters: Iterable[str],
    author: str | None,
) -> list[Edge]:
    """The interfaces one event implies (DOMAIN.md: assignment, collaboration, handoff,
    comment → assignee, review)."""
    edges: list[Edge] = []

    def edge(kind: str, source: str | None, target: str | None) -> None:
        if source and target and source != target:
            edges.append(Edge(event.id, event.task_id, kind, source, target, event.occurred_at))

    if event.event_type == ASSIGNED:
        edge(TASK_ASSIGNMENT, event.actor, event.to_value)
        for other in assignees:
            edge(COLLABORATION, event.to_value, other)
    elif event.event_type == REASSIGNED:
        edge(HANDOFF, event.from_value, event.to_value)
        if "paired" not in event.raw:  # a paired handoff's assignment already has its edge
            edge(TASK_ASSIGNMENT, event.actor, event.to_value)
    elif event.event_type == COMMENTED:
        for assignee in assignees:
            edge(COMMENT, event.actor, assignee)
        for other in sorted(set(prior_commenters)):
            edge(COLLABORATION, event.actor, other)
    elif event.event_type == REVIEWED:
        edge(REVIEW, event.actor, author)
    return edges


# --- storing --------------------------------------------------------------------------------
def _task_row(
    snapshot: TaskSnapshot, connection: ConnectionInfo, fallback: dt.datetime
) -> tuple[dict[str, Any], set[str]]:
    """The row to insert, and the columns an update may write (a partial writes what it has)."""
    row: dict[str, Any] = {
        "id": snapshot.id,
        "source": connection.tool,
        "connection_id": connection.id,
        "team_id": connection.team_id,
        "university_id": connection.university_id,
        "project_id": connection.project_id,
        "metadata": snapshot.metadata,
        "raw": snapshot.raw,
    }
    optional = {
        "title": snapshot.title,
        "status": snapshot.status,
        "description": snapshot.description,
        "assigned_to": list(snapshot.assignees) if snapshot.assignees is not None else None,
        "completed_at": snapshot.completed_at,
        "due_at": snapshot.due_at,
        "url": snapshot.url,
        "parent_id": snapshot.parent_id,
        "updated_at": snapshot.updated_at,
        "created_at": snapshot.created_at,
    }
    row.update(optional)
    if snapshot.partial:
        updatable = {
            "source",
            "connection_id",
            "team_id",
            "university_id",
            "project_id",
            "metadata",
        }
        updatable |= {k for k, v in optional.items() if v is not None and k != "created_at"}
    else:
        updatable = set(row) - {"id"}
    # NOT NULL columns need a value on first insert.
    row["title"] = row["title"] or snapshot.id
    row["status"] = row["status"] or "unknown"
    row["created_at"] = row["created_at"] or snapshot.updated_at or fallback
    if row["assigned_to"] is None:
        row["assigned_to"] = []
    return row, updatable


def _event_row(event: TaskEvent, connection: ConnectionInfo) -> dict[str, Any]:
    return {
        "task_id": event.task_id,
        "event_type": event.event_type,
        "actor": event.actor,
        "subject": event.subject,
        "from_value": event.from_value,
        "to_value": event.to_value,
        "occurred_at": event.occurred_at,
        "dedupe_key": event.dedupe_key,
        "university_id": connection.university_id,
        "raw": event.raw,
    }


def _merge_snapshots(snapshots: Iterable[TaskSnapshot]) -> list[TaskSnapshot]:
    """Within one change set keep the newest full snapshot per task (partials fill gaps)."""
    chosen: dict[str, TaskSnapshot] = {}
    for snapshot in snapshots:
        current = chosen.get(snapshot.id)
        if current is None:
            chosen[snapshot.id] = snapshot
            continue
        if (current.partial and not snapshot.partial) or (
            current.partial == snapshot.partial
            and (snapshot.updated_at or dt.datetime.min.replace(tzinfo=dt.UTC))
            >= (current.updated_at or dt.datetime.min.replace(tzinfo=dt.UTC))
        ):
            chosen[snapshot.id] = snapshot
    return list(chosen.values())


async def ingest(
    session: AsyncSession,
    connection: ConnectionInfo,
    changes: ChangeSet,
    *,
    handoff_window: dt.timedelta,
    now: dt.datetime | None = None,
) -> IngestReport:
    """Write one change set in the caller's transaction; safe to repeat."""
    now = now or dt.datetime.now(dt.UTC)
    repo = PMRepository(session)
    report = IngestReport(skipped=list(changes.skipped))

    outcome = await record_accounts(session, changes.accounts, connection.university_id, now)
    report.accounts, report.linked, report.suggested = (
        len(outcome.accounts),
        outcome.linked,
        outcome.suggested,
    )

    snapshots = _merge_snapshots(changes.tasks)
    event_task_ids = {e.task_id for e in changes.events} | {d.task_id for d in changes.dependencies}
    missing = event_task_ids - {s.id for s in snapshots}
    stored = await repo.stored_tasks({s.id for s in snapshots} | event_task_ids)
    for task_id in sorted(missing - stored.keys()):
        # An event about a task no snapshot described: keep the event, with a stub task.
        snapshots.append(TaskSnapshot(task_id, None, None, None, partial=True))

    events: list[TaskEvent] = []
    if changes.derive_from_snapshots:
        # Walk every full snapshot of a task in time order, so a batch of deliveries infers
        # exactly what the same deliveries processed one by one would.
        versions_by_task: dict[str, list[TaskSnapshot]] = defaultdict(list)
        for snapshot in changes.tasks:
            if not snapshot.partial and snapshot.updated_at is not None:
                versions_by_task[snapshot.id].append(snapshot)
        for task_id, versions in versions_by_task.items():
            previous = stored.get(task_id)
            for version in sorted(versions, key=lambda v: v.updated_at or now):
                moment = version.updated_at or now
                events.extend(snapshot_events(previous, version))
                if previous is None or previous.updated_at is None or previous.updated_at <= moment:
                    previous = StoredTask(
                        task_id,
                        moment,
                        tuple(version.assignees or ()),
                        version.status or "unknown",
                        bool(version.closed),
                        version.metadata,
                    )
    for snapshot in snapshots:
        created = created_event(snapshot)
        if created is not None:
            events.append(created)
        row, updatable = _task_row(snapshot, connection, now)
        await repo.upsert_task(row, updatable)
        report.tasks += 1
    events.extend(changes.events)

    new_dependencies = await repo.insert_dependencies(
        [
            {
                "task_id": d.task_id,
                "depends_on_task_id": d.depends_on_task_id,
                "kind": d.kind,
                "university_id": connection.university_id,
            }
            for d in {
                (d.task_id, d.depends_on_task_id, d.kind): d for d in changes.dependencies
            }.values()
            if d.task_id != d.depends_on_task_id
        ]
    )
    report.dependencies = len(new_dependencies)
    observed = {
        (d.task_id, d.depends_on_task_id, d.kind): d.observed_at for d in changes.dependencies
    }
    for task_id, other, kind in new_dependencies:
        when = observed.get((task_id, other, kind)) or now
        events.append(
            TaskEvent(
                task_id,
                DEPENDENCY_ADDED,
                when,
                f"dependency:{kind}:{other}",
                subject=other,
                to_value=kind,
            )
        )

    unique = {(e.task_id, e.dedupe_key): e for e in events}
    report.events = await repo.insert_events([_event_row(e, connection) for e in unique.values()])

    touched = {task_id for task_id, _ in unique}
    assignment_tasks = {
        e.task_id for e in unique.values() if e.event_type in (ASSIGNED, UNASSIGNED)
    }
    state_tasks = {e.task_id for e in unique.values() if e.event_type in OPPOSITE}
    if state_tasks:
        history = await repo.events_of(state_tasks, (*OPPOSITE, REASSIGNED))
        doomed = superseded_inferences(history)
        if doomed:
            doomed_keys = {(e.task_id, e.dedupe_key) for e in doomed}
            doomed += [
                e
                for e in history
                if e.event_type == REASSIGNED
                and any((e.task_id, key) in doomed_keys for key in e.raw.get("paired", []))
            ]
            await repo.delete_events([e.id for e in doomed])
            report.events -= sum(1 for e in doomed if (e.task_id, e.dedupe_key) in unique)
            for event in doomed:
                unique.pop((event.task_id, event.dedupe_key), None)
    if assignment_tasks:
        history = await repo.events_of(assignment_tasks, (ASSIGNED, UNASSIGNED))
        handoffs = pair_handoffs(history, dt.timedelta(seconds=handoff_window.total_seconds()))
        report.events += await repo.insert_events([_event_row(e, connection) for e in handoffs])
        unique.update({(e.task_id, e.dedupe_key): e for e in handoffs})

    report.interfaces = await _store_interfaces(repo, connection, list(unique), touched)
    return report


async def _store_interfaces(
    repo: PMRepository, connection: ConnectionInfo, keys: list[tuple[str, str]], touched: set[str]
) -> int:
    rows = await repo.events_by_key(keys)
    if not rows:
        return 0
    tasks = await repo.stored_tasks(touched)
    comment_history: dict[str, list[StoredEvent]] = defaultdict(list)
    if any(r.event_type == COMMENTED for r in rows):
        for event in await repo.events_of(
            {r.task_id for r in rows if r.event_type == COMMENTED}, (COMMENTED,)
        ):
            comment_history[event.task_id].append(event)

    edges: list[Edge] = []
    for event in rows:
        task = tasks.get(event.task_id)
        assignees = task.assigned_to if task is not None else ()
        prior = [
            e.actor
            for e in comment_history.get(event.task_id, [])
            if e.actor and (e.occurred_at, e.id) < (event.occurred_at, event.id)
        ]
        author = task.metadata.get("author") if task is not None else None
        edges.extend(
            derive_interfaces(event, assignees, prior, author if isinstance(author, str) else None)
        )
    if not edges:
        return 0
    refs = {e.from_entity for e in edges} | {e.to_entity for e in edges}
    people: dict[str, str] = {}
    prefix = f"{connection.tool}:"
    external = [r[len(prefix) :] for r in refs if r.startswith(prefix)]
    for external_id, person_id in (await repo.person_ids_for(connection.tool, external)).items():
        people[prefix + external_id] = person_id
    return await repo.insert_interfaces(
        [
            {
                "task_id": e.task_id,
                "event_id": e.event_id,
                "interface_type": e.interface_type,
                "from_entity": e.from_entity,
                "to_entity": e.to_entity,
                "from_person_id": people.get(e.from_entity),
                "to_person_id": people.get(e.to_entity),
                "timestamp": e.timestamp,
                "university_id": connection.university_id,
                "team_id": connection.team_id,
                "metadata": {"source": connection.tool, "connection": connection.id},
            }
            for e in edges
        ]
    )
