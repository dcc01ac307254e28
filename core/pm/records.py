"""The normalised shape every connector produces, for polls and webhooks alike.

Plain dataclasses, no ORM: connectors are pure translators from vendor payloads to these
records, and :mod:`core.pm.ingest` is the only code that writes them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

# Event types (pm_task_events.event_type).
CREATED = "created"
ASSIGNED = "assigned"
UNASSIGNED = "unassigned"
REASSIGNED = "reassigned"  # a handoff: from_value → to_value
STATUS_CHANGED = "status_changed"
COMMENTED = "commented"
CLOSED = "closed"
REOPENED = "reopened"
DEPENDENCY_ADDED = "dependency_added"
REVIEWED = "reviewed"
EVENT_TYPES = (
    CREATED,
    ASSIGNED,
    UNASSIGNED,
    REASSIGNED,
    STATUS_CHANGED,
    COMMENTED,
    CLOSED,
    REOPENED,
    DEPENDENCY_ADDED,
    REVIEWED,
)

# Dependency kinds (pm_task_dependencies.kind): task_id depends on depends_on_task_id.
BLOCKED_BY = "blocked_by"
SUBTASK_OF = "subtask_of"
LINKED = "linked"


class MalformedPayload(ValueError):
    """A vendor payload lacks what the connector needs; the item is skipped and logged."""


def entity(tool: str, key: str) -> str:
    """The identity reference used in pm_tasks.assigned_to and pm_interfaces (github:octocat)."""
    return f"{tool}:{key}"


def iso(moment: dt.datetime) -> str:
    """Canonical UTC text for dedupe keys, so a poll and a webhook spell a moment alike."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Account:
    """A tool account seen in a payload; becomes (or refreshes) one ``identities`` row."""

    tool: str
    external_id: str
    username: str | None = None
    display_name: str | None = None
    email: str | None = None
    is_bot: bool = False

    @property
    def ref(self) -> str:
        return entity(self.tool, self.external_id)


@dataclass
class TaskSnapshot:
    """A task's state as the vendor reports it at ``updated_at``.

    ``partial`` snapshots (built from a webhook that carries only some fields) never blank
    out stored values: only the fields they hold are written.
    """

    id: str
    title: str | None
    status: str | None
    updated_at: dt.datetime | None
    created_at: dt.datetime | None = None
    description: str | None = None
    assignees: tuple[str, ...] | None = None
    completed_at: dt.datetime | None = None
    due_at: dt.datetime | None = None
    url: str | None = None
    parent_id: str | None = None
    closed: bool | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)
    partial: bool = False


@dataclass(frozen=True)
class TaskEvent:
    """One change to a task. ``dedupe_key`` is the same whichever door the change came in by."""

    task_id: str
    event_type: str
    occurred_at: dt.datetime
    dedupe_key: str
    actor: str | None = None
    subject: str | None = None
    from_value: str | None = None
    to_value: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class Dependency:
    task_id: str
    depends_on_task_id: str
    kind: str
    observed_at: dt.datetime | None = None


@dataclass
class ChangeSet:
    """Everything one page of a poll, or one webhook delivery, says about a tool."""

    tasks: list[TaskSnapshot] = field(default_factory=list)
    events: list[TaskEvent] = field(default_factory=list)
    dependencies: list[Dependency] = field(default_factory=list)
    accounts: list[Account] = field(default_factory=list)
    # Tools whose feeds carry no per-change ids (GitHub) derive assignment and open/closed
    # events by comparing a snapshot with the stored task; the keys match their webhooks'.
    derive_from_snapshots: bool = False
    # Items skipped as malformed: (item id or "?", reason), for the log and the sync report.
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def extend(self, other: ChangeSet) -> None:
        self.tasks.extend(other.tasks)
        self.events.extend(other.events)
        self.dependencies.extend(other.dependencies)
        self.accounts.extend(other.accounts)
        self.skipped.extend(other.skipped)
        self.derive_from_snapshots = self.derive_from_snapshots or other.derive_from_snapshots

    def __bool__(self) -> bool:
        return bool(self.tasks or self.events or self.dependencies or self.accounts)


@dataclass(frozen=True)
class ConnectionInfo:
    """What normalisation needs to know about the connection a change came through."""

    id: str
    tool: str
    scope: dict[str, Any]
    team_id: str | None = None
    university_id: str | None = None
    project_id: str | None = None
    base_url: str | None = None
