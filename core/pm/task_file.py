"""Import a project-tool task file (the simulator's ``pm/tasks.json``) through the connector path.

The file is a JSON array of tasks, each with its event history (docs/simulator.md). It is read
element by element, so memory holds one read-ahead block and one batch of tasks whatever the
file's size. Every task is validated on its own: a bad one is skipped and reported with its
index and the field at fault, and the rest import. Valid tasks become the connector layer's
records (:mod:`core.pm.records`) and are stored with :func:`core.pm.ingest.ingest`, the same
idempotent path polls and webhooks use, so importing a file twice changes nothing, and a
reassignment becomes a handoff exactly as the tool's connector would report it: Jira reports
one ``reassigned`` change, GitHub an unassignment and an assignment that ingest pairs.
"""

from __future__ import annotations

import asyncio
import codecs
import datetime as dt
import json
import os
import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Annotated, Any, BinaryIO, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.engine import Database
from core.db.repositories.audit import AuditRepository
from core.db.repositories.pm import PMRepository
from core.errors import InputError, InputProblem
from core.pm.connections import CONNECTION_ID
from core.pm.ingest import ingest
from core.pm.records import (
    ASSIGNED,
    BLOCKED_BY,
    CLOSED,
    COMMENTED,
    CREATED,
    REASSIGNED,
    REOPENED,
    STATUS_CHANGED,
    SUBTASK_OF,
    UNASSIGNED,
    Account,
    ChangeSet,
    ConnectionInfo,
    Dependency,
    TaskEvent,
    TaskSnapshot,
    entity,
    iso,
)

SOURCE = "tasks-file"
DEFAULT_BATCH_SIZE = 200
READ_BLOCK_BYTES = 64 * 1024
CLOSED_STATUSES = ("done", "closed")
# Tools that report a reassignment as an unassignment plus an assignment (docs/pm.md).
TWO_CHANGE_TOOLS = ("github",)
TASK_ID = r"^(github:[^\s/#]+/[^\s#]+#[0-9]+|jira:[A-Za-z][A-Za-z0-9_]*-[0-9]+)$"


def _must_be_text(value: Any) -> Any:
    # Pydantic would read a bare number as seconds since 1970; the format says ISO 8601 text.
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 date-time string with a time zone")
    return value


Moment = Annotated[AwareDatetime, BeforeValidator(_must_be_text)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
TaskId = Annotated[str, StringConstraints(strip_whitespace=True, pattern=TASK_ID)]


class FileEvent(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    type: Literal[
        "created",
        "assigned",
        "unassigned",
        "reassigned",
        "status_changed",
        "commented",
        "dependency_added",
        "closed",
        "reopened",
    ]
    actor: Text | None = None
    subject: Text | None = None
    from_: Text | None = Field(default=None, alias="from")
    to: Text | None = None
    at: Moment


class FileTask(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: TaskId
    tool: Literal["github", "jira"]
    connection_id: Annotated[str, StringConstraints(pattern=CONNECTION_ID.pattern)]
    team_id: Text
    university_id: Text
    title: Text
    status: Literal["open", "in_progress", "done", "closed"]
    assignees: list[Text] = Field(default_factory=list)
    created_at: Moment
    closed_at: Moment | None = None
    due_at: Moment | None = None
    depends_on: list[TaskId] = Field(default_factory=list)
    parent_id: TaskId | None = None
    events: list[FileEvent]


# --- reading --------------------------------------------------------------------------------
@dataclass(frozen=True)
class SkippedTask:
    index: int  # position in the file's array, from 0
    task_id: str | None
    field: str
    reason: str

    def __str__(self) -> str:
        named = f" ({self.task_id})" if self.task_id else ""
        return f"task {self.index}{named}: {self.field}: {self.reason}"


def _field_path(location: tuple[int | str, ...]) -> str:
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += ("." if path else "") + ("from" if part == "from_" else part)
    return path or "task"


def _event_problem(task: FileTask) -> tuple[str, str] | None:
    """What the types cannot say: which values each kind of event needs."""
    for position, event in enumerate(task.events):
        where = f"events[{position}]"
        if event.type == "assigned" and not (event.subject or event.to):
            return f"{where}.to", "an assigned event names the person (subject or to)"
        if event.type == "unassigned" and not (event.subject or event.from_):
            return f"{where}.from", "an unassigned event names the person (subject or from)"
        if event.type == "reassigned" and not (event.from_ and event.to):
            missing = "from" if not event.from_ else "to"
            return f"{where}.{missing}", "a reassigned event names the old (from) and new (to)"
        if event.type == "status_changed" and not event.to:
            return f"{where}.to", "a status_changed event names the new status (to)"
        if event.type == "dependency_added":
            other = event.subject or event.to
            if other is None or not re.match(TASK_ID, other):
                return f"{where}.subject", "a dependency_added event names a task id"
            if other == task.id:
                return f"{where}.subject", "a task cannot depend on itself"
    return None


def validate_task(index: int, value: Any) -> FileTask | SkippedTask:
    """One element of the array, checked; a problem names the element's index and field."""
    task_id = value.get("id") if isinstance(value, dict) else None
    named = task_id if isinstance(task_id, str) and task_id else None
    if not isinstance(value, dict):
        return SkippedTask(
            index, None, "task", f"must be a JSON object, not {type(value).__name__}"
        )
    try:
        task = FileTask.model_validate(value)
    except ValidationError as exc:
        errors = exc.errors()
        first = errors[0]
        reason = first["msg"] + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else "")
        return SkippedTask(index, named, _field_path(tuple(first["loc"])), reason)
    if not task.id.startswith(f"{task.tool}:"):
        return SkippedTask(index, named, "id", f"a {task.tool} task's id starts with {task.tool}:")
    for position, other in enumerate(task.depends_on):
        if other == task.id:
            return SkippedTask(
                index, named, f"depends_on[{position}]", "a task cannot depend on itself"
            )
    if task.parent_id == task.id:
        return SkippedTask(index, named, "parent_id", "a task cannot be its own parent")
    problem = _event_problem(task)
    if problem is not None:
        return SkippedTask(index, named, *problem)
    return task


@dataclass
class ReadPosition:
    bytes_read: int = 0


def read_task_elements(
    stream: BinaryIO, source: str, position: ReadPosition | None = None
) -> Iterator[tuple[int, Any]]:
    """Yield ``(index, value)`` for each element of the top-level JSON array, reading the
    stream a block at a time. Broken JSON cannot be resynchronised, so it raises
    :class:`InputError` naming the line and element; the elements before it were yielded."""
    position = position or ReadPosition()
    decoder = json.JSONDecoder()
    text_decoder = codecs.getincrementaldecoder("utf-8")()
    buffer = ""
    cursor = 0
    lines_before = 0  # newlines in the text already dropped from the buffer
    eof = False

    def more() -> bool:
        nonlocal buffer, cursor, lines_before, eof
        if eof:
            return False
        block = stream.read(READ_BLOCK_BYTES)
        try:
            text = text_decoder.decode(block, final=not block)
        except UnicodeDecodeError as exc:
            where = position.bytes_read + exc.start
            raise InputError(
                [InputProblem(source, None, None, f"not UTF-8 text at byte {where}")]
            ) from None
        position.bytes_read += len(block)
        if not block:
            eof = True
            buffer += text
            return bool(text)
        # Drop what was consumed. Only a successful read trims, so the offset of a decode
        # error that ends the file still points into the buffer it was found in.
        if cursor > READ_BLOCK_BYTES:
            lines_before += buffer.count("\n", 0, cursor)
            buffer, cursor = buffer[cursor:], 0
        buffer += text
        return True

    def line_at(offset: int) -> int:
        return lines_before + buffer.count("\n", 0, offset) + 1

    def refuse(offset: int, reason: str) -> InputError:
        return InputError([InputProblem(source, line_at(offset), None, reason)])

    def skip_space() -> str | None:
        nonlocal cursor
        while True:
            while cursor < len(buffer) and buffer[cursor] in " \t\r\n\ufeff":
                cursor += 1
            if cursor < len(buffer):
                return buffer[cursor]
            if not more():
                return None

    if skip_space() != "[":
        raise refuse(cursor, "a task file is a JSON array of tasks ([...])")
    cursor += 1
    index = 0
    while True:
        found = skip_space()
        if found == "]":
            cursor += 1
            break
        if found is None:
            raise refuse(cursor, f"the array ends early, in task {index} (missing ']')")
        if index:
            if found != ",":
                raise refuse(cursor, f"expected ',' or ']' after task {index - 1}")
            cursor += 1
            if skip_space() is None:
                raise refuse(cursor, f"the array ends early, after task {index - 1}")
        while True:
            try:
                value, end = decoder.raw_decode(buffer, cursor)
            except json.JSONDecodeError as exc:
                if more():
                    continue
                raise refuse(exc.pos, f"task {index} is not valid JSON: {exc.msg}") from None
            # A value that ends where the buffer does may continue in the next block.
            if end == len(buffer) and more():
                continue
            break
        cursor = end
        yield index, value
        index += 1
    if skip_space() is not None:
        raise refuse(cursor, "unexpected text after the array's closing ']'")


# --- translating ----------------------------------------------------------------------------
def account_key(name: str) -> str:
    """GitHub logins and e-mail addresses are case-insensitive; the roster stores them lower."""
    return name.strip().lower()


def task_changes(task: FileTask, raw: dict[str, Any] | None = None) -> ChangeSet:
    """The records a connector would produce for this task's state and history; ``raw`` is
    the task as it stood in the file (kept, without its events, as the vendor payload)."""
    tool = task.tool
    accounts: dict[str, Account] = {}

    def ref(name: str) -> str:
        key = account_key(name)
        if key not in accounts:
            is_email = "@" in key
            accounts[key] = Account(
                tool,
                key,
                username=None if is_email else key,
                email=key if is_email else None,
            )
        return entity(tool, key)

    def maybe_ref(name: str | None) -> str | None:
        return ref(name) if name else None

    events: list[TaskEvent] = []
    dependencies: dict[tuple[str, str], Dependency] = {}
    seen_keys: Counter[str] = Counter()

    def add(kind: str, at: dt.datetime, key: str, raw: dict[str, Any], **values: Any) -> None:
        # Two identical changes at the same second are still two changes: number the repeats.
        seen_keys[key] += 1
        if seen_keys[key] > 1:
            key = f"{key}:{seen_keys[key]}"
        events.append(TaskEvent(task.id, kind, at, key, raw=raw, **values))

    creator: str | None = None
    for event in task.events:
        at, actor, moment = event.at, maybe_ref(event.actor), iso(event.at)
        changes: list[tuple[str, str, dict[str, Any]]]  # (event type, dedupe key, values)
        if event.type == "dependency_added":
            # Ingest records the dependency_added event when the dependency is new.
            other = event.subject or event.to or ""
            dependencies.setdefault((other, BLOCKED_BY), Dependency(task.id, other, BLOCKED_BY, at))
            continue
        if event.type == "created":
            creator = creator or actor
            changes = [(CREATED, "created", {"to_value": event.to})]
        elif event.type == "assigned":
            person = ref(event.subject or event.to or "")
            changes = [
                (ASSIGNED, f"assigned:{person}:{moment}", {"subject": person, "to_value": person})
            ]
        elif event.type == "unassigned":
            person = ref(event.subject or event.from_ or "")
            changes = [
                (
                    UNASSIGNED,
                    f"unassigned:{person}:{moment}",
                    {"subject": person, "from_value": person},
                )
            ]
        elif event.type == "reassigned" and tool in TWO_CHANGE_TOOLS:
            # GitHub says "unassigned A" and "assigned B"; ingest pairs them into a handoff.
            old, new = ref(event.from_ or ""), ref(event.to or "")
            changes = [
                (UNASSIGNED, f"unassigned:{old}:{moment}", {"subject": old, "from_value": old}),
                (ASSIGNED, f"assigned:{new}:{moment}", {"subject": new, "to_value": new}),
            ]
        elif event.type == "reassigned":
            # Jira reports one change, old → new (subject "assignee", as its connector does).
            old, new = ref(event.from_ or ""), ref(event.to or "")
            values: dict[str, Any] = {"subject": "assignee", "from_value": old, "to_value": new}
            changes = [(REASSIGNED, f"reassigned:{old}->{new}:{moment}", values)]
        elif event.type == "status_changed":
            values = {"subject": "status", "from_value": event.from_, "to_value": event.to}
            changes = [(STATUS_CHANGED, f"status:{event.from_}->{event.to}:{moment}", values)]
        elif event.type == "commented":
            changes = [(COMMENTED, f"comment:{actor}:{moment}", {})]
        else:  # closed, reopened
            values = {"from_value": event.from_, "to_value": event.to}
            changes = [
                (CLOSED if event.type == "closed" else REOPENED, f"{event.type}:{moment}", values)
            ]
        event_raw = event.model_dump(by_alias=True, mode="json")
        for kind, key, values in changes:
            add(kind, at, key, event_raw, actor=actor, **values)
    for other in task.depends_on:
        dependencies.setdefault(
            (other, BLOCKED_BY), Dependency(task.id, other, BLOCKED_BY, task.created_at)
        )
    if task.parent_id:
        dependencies.setdefault(
            (task.parent_id, SUBTASK_OF),
            Dependency(task.id, task.parent_id, SUBTASK_OF, task.created_at),
        )

    assignees = tuple(dict.fromkeys(ref(name) for name in task.assignees))
    moments = [task.created_at, *(e.at for e in task.events)]
    moments += [m for m in (task.closed_at,) if m is not None]
    closed = task.status in CLOSED_STATUSES
    metadata: dict[str, Any] = {"creator": creator, "imported_from": SOURCE}
    if tool == "github":
        metadata["author"] = creator
        metadata["number"] = int(task.id.rsplit("#", 1)[1])
    else:
        metadata["key"] = task.id.split(":", 1)[1]
    snapshot = TaskSnapshot(
        id=task.id,
        title=task.title,
        status=task.status,
        updated_at=max(moments),
        created_at=task.created_at,
        assignees=assignees,
        completed_at=task.closed_at if closed else None,
        due_at=task.due_at,
        parent_id=task.parent_id,
        closed=closed,
        metadata=metadata,
        raw={k: v for k, v in (raw or task.model_dump(mode="json")).items() if k != "events"},
    )
    return ChangeSet(
        tasks=[snapshot],
        events=events,
        dependencies=list(dependencies.values()),
        accounts=list(accounts.values()),
    )


# --- storing --------------------------------------------------------------------------------
@dataclass
class TaskImportReport:
    tasks_read: int = 0  # array elements, valid or not
    tasks: int = 0  # stored (new or refreshed)
    new_tasks: int = 0
    events: int = 0  # new events, handoffs and dependency_added included
    handoffs: int = 0  # new reassigned events
    interfaces: int = 0
    dependencies: int = 0
    linked: int = 0  # accounts newly linked to people (e-mail matches)
    connections_created: list[str] = field(default_factory=list)
    skipped: list[SkippedTask] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["skipped"] = [
            {**asdict(s), "message": str(s)} for s in self.skipped
        ]  # a reader needs no re-formatting
        return data


# (tasks read so far, bytes read so far, file size in bytes)
TaskProgress = Callable[[int, int, int], None]


@dataclass(frozen=True)
class _Pending:
    index: int
    task: FileTask
    raw: dict[str, Any]


@dataclass(frozen=True)
class _Team:
    university_id: str
    project_id: str | None


class _Importer:
    def __init__(self, actor: str, handoff_window: dt.timedelta, report: TaskImportReport) -> None:
        self.actor = actor
        self.handoff_window = handoff_window
        self.report = report
        self.teams: dict[str, _Team | None] = {}
        self.connections: dict[str, tuple[str, str | None]] = {}  # id → (tool, university)

    async def _team(self, repo: PMRepository, team_id: str) -> _Team | None:
        if team_id not in self.teams:
            team = await repo.team(team_id)
            self.teams[team_id] = (
                _Team(team.university_id, team.project_id) if team is not None else None
            )
        return self.teams[team_id]

    async def _connection(
        self, session: AsyncSession, repo: PMRepository, task: FileTask
    ) -> tuple[str, str | None]:
        known = self.connections.get(task.connection_id)
        if known is not None:
            return known
        existing = await repo.get_connection(task.connection_id)
        if existing is None:
            # A record of where the tasks came from, not a live connection: no scope to poll,
            # no secrets, disabled so the scheduler leaves it alone. It spans the teams of an
            # organisation or Jira site, so each task keeps its own team.
            row = {
                "id": task.connection_id,
                "tool": task.tool,
                "team_id": None,
                "university_id": task.university_id,
                "scope": {"imported_from": SOURCE},
                "cursor": {},
                "enabled": False,
            }
            if await repo.insert_connection_if_missing(row):
                self.report.connections_created.append(task.connection_id)
                await AuditRepository(session).record(
                    self.actor,
                    "pm.connect",
                    target_type="pm_connection",
                    target_id=task.connection_id,
                    university_id=task.university_id,
                    details={"tool": task.tool, "source": SOURCE, "enabled": False},
                )
            known = (task.tool, task.university_id)
        else:
            known = (existing.tool, existing.university_id)
        self.connections[task.connection_id] = known
        return known

    async def _check(
        self, session: AsyncSession, repo: PMRepository, index: int, task: FileTask
    ) -> SkippedTask | None:
        """What only the database can tell: the team, its university, the connection's tool."""
        team = await self._team(repo, task.team_id)
        if team is None:
            return SkippedTask(
                index, task.id, "team_id", f"no team {task.team_id!r}; import the roster first"
            )
        if team.university_id != task.university_id:
            return SkippedTask(
                index,
                task.id,
                "university_id",
                f"team {task.team_id!r} belongs to {team.university_id!r}, "
                f"not {task.university_id!r}",
            )
        tool, university_id = await self._connection(session, repo, task)
        if tool != task.tool:
            return SkippedTask(
                index,
                task.id,
                "connection_id",
                f"connection {task.connection_id!r} is a {tool} connection",
            )
        if university_id is not None and university_id != task.university_id:
            return SkippedTask(
                index,
                task.id,
                "connection_id",
                f"connection {task.connection_id!r} belongs to {university_id!r}",
            )
        return None

    async def store(self, session: AsyncSession, batch: list[_Pending]) -> None:
        repo = PMRepository(session)
        groups: dict[tuple[str, str], list[_Pending]] = defaultdict(list)
        for pending in batch:
            task = pending.task
            problem = await self._check(session, repo, pending.index, task)
            if problem is not None:
                self.report.skipped.append(problem)
            else:
                groups[(task.connection_id, task.team_id)].append(pending)
        for (connection_id, team_id), group in groups.items():
            first = group[0].task
            team = self.teams[team_id]
            info = ConnectionInfo(
                id=connection_id,
                tool=first.tool,
                scope={"imported_from": SOURCE},
                team_id=team_id,
                university_id=first.university_id,
                project_id=team.project_id if team is not None else None,
            )
            changes = ChangeSet()
            for pending in group:
                changes.extend(task_changes(pending.task, pending.raw))
            ids = [p.task.id for p in group]
            before = await repo.stored_tasks(ids)
            handoffs_before = await repo.count_events(ids, (REASSIGNED,))
            stored = await ingest(session, info, changes, handoff_window=self.handoff_window)
            handoffs_after = await repo.count_events(ids, (REASSIGNED,))
            report = self.report
            report.tasks += len(ids)
            report.new_tasks += len(set(ids) - before.keys())
            report.events += stored.events
            report.handoffs += handoffs_after - handoffs_before
            report.interfaces += stored.interfaces
            report.dependencies += stored.dependencies
            report.linked += stored.linked


@dataclass
class _Block:
    """Elements read and validated together off the event loop."""

    elements: list[tuple[int, Any, FileTask | SkippedTask]] = field(default_factory=list)
    broken: InputError | None = None  # the file broke after these elements
    done: bool = False


def _read_block(elements: Iterator[tuple[int, Any]], size: int) -> _Block:
    block = _Block()
    try:
        for index, value in elements:
            block.elements.append((index, value, validate_task(index, value)))
            if len(block.elements) >= size:
                return block
    except InputError as exc:
        block.broken = exc
    block.done = True
    return block


async def import_task_file(
    db: Database,
    path: Path,
    *,
    actor: str,
    handoff_window: dt.timedelta,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: TaskProgress | None = None,
) -> TaskImportReport:
    """Import ``path``; one transaction per batch, so a failure keeps the batches before it
    and a second run (idempotent) completes the rest.

    Reading and validating run in a worker thread, a batch at a time, so the event loop only
    waits on the database. Broken JSON ends the read (the array cannot be resynchronised):
    the valid tasks before it are stored, then :class:`InputError` says where the file broke.
    """
    started = time.perf_counter()
    report = TaskImportReport()
    importer = _Importer(actor, handoff_window, report)
    position = ReadPosition()
    first_index: dict[str, int] = {}
    stream = await asyncio.to_thread(path.open, "rb")
    try:
        total = os.fstat(stream.fileno()).st_size
        elements = read_task_elements(stream, str(path), position)
        while True:
            block = await asyncio.to_thread(_read_block, elements, batch_size)
            batch: list[_Pending] = []
            for index, value, checked in block.elements:
                report.tasks_read += 1
                if isinstance(checked, SkippedTask):
                    report.skipped.append(checked)
                elif checked.id in first_index:
                    repeated = f"repeats task {first_index[checked.id]}"
                    report.skipped.append(SkippedTask(index, checked.id, "id", repeated))
                else:
                    first_index[checked.id] = index
                    batch.append(_Pending(index, checked, value))
            if batch:
                async with db.transaction() as session:
                    await importer.store(session, batch)
            if progress is not None:
                progress(report.tasks_read, position.bytes_read, total)
            if block.broken is not None:
                stored = f"the {report.tasks} valid tasks before it were imported"
                raise InputError(
                    [
                        InputProblem(p.source, p.line, p.column, f"{p.reason}; {stored}")
                        for p in block.broken.problems
                    ]
                )
            if block.done:
                break
    finally:
        stream.close()

    report.skipped.sort(key=lambda s: s.index)
    async with db.transaction() as session:
        await AuditRepository(session).record(
            actor,
            "import.tasks",
            target_type="file",
            target_id=path.name,
            details={
                "tasks_read": report.tasks_read,
                "tasks": report.tasks,
                "new_tasks": report.new_tasks,
                "events": report.events,
                "handoffs": report.handoffs,
                "interfaces": report.interfaces,
                "dependencies": report.dependencies,
                "skipped": [str(s) for s in report.skipped],
            },
        )
    report.seconds = time.perf_counter() - started
    return report
