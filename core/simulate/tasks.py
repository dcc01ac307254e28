"""Project-tool tasks (GitHub issues, Jira issues) with their event histories.

Task ids are namespaced by tool and connection (``github:<org>/<repo>#<n>``,
``jira:<KEY>-<n>``). Assignees are GitHub logins on GitHub (email when a person has no
login) and emails on Jira, which is how the connectors identify people. Reassigning an
outgoing student's open task to the person taking over is the task side of a handoff.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from core.simulate.behaviour import weekly_decay
from core.simulate.calendar import DAY_MS, HOUR_MS, epoch_ms, iso_utc
from core.simulate.content import SUBSYSTEMS, render
from core.simulate.organisation import Actor, Organisation, Team

TITLES = (
    "Bring up {comp} on rev {rev}",
    "Write {test} procedure",
    "Run {test} on the {comp}",
    "Fix {comp} timeout after reset",
    "Update {thing}",
    "Characterise {comp} {param}",
    "Review {comp} design",
    "Integrate {comp} on the flat-sat",
    "Document {comp} interface",
    "Order spare {comp}s",
    "Close out {test} findings",
    "Verify {param} requirement",
)
COMMENT_CHANCE = 0.6


@dataclass
class _Task:
    team: Team
    number: int
    id: str
    tool: str
    connection_id: str
    title: str
    created: int
    creator: Actor
    owners: list[Actor]
    due: int | None
    completed: bool
    closed: int | None = None
    depends_on: list[str] = field(default_factory=list)
    parent_id: str | None = None
    events: list[tuple[int, int, dict[str, object]]] = field(default_factory=list)

    def event(
        self,
        at: int,
        kind: str,
        actor: str,
        subject: str | None = None,
        before: str | None = None,
        after: str | None = None,
    ) -> None:
        order = len(self.events)
        self.events.append(
            (
                at,
                order,
                {
                    "type": kind,
                    "actor": actor,
                    "subject": subject,
                    "from": before,
                    "to": after,
                    "at": iso_utc(at),
                },
            )
        )


def identity(actor: Actor, tool: str) -> str:
    if tool == "github" and actor.github_login:
        return actor.github_login
    return actor.email


class _TaskBuilder:
    def __init__(self, org: Organisation) -> None:
        config = org.config
        self.org = org
        self.rng = random.Random(f"{config.seed}:tasks")
        self.start_ms = epoch_ms(config.start)
        self.end_ms = epoch_ms(config.end) - HOUR_MS
        self.weeks = config.weeks
        self.handoffs = {h.from_actor: h for h in org.handoffs}
        self.actors = org.actors

    def build(self) -> list[dict[str, object]]:
        tasks: list[_Task] = []
        by_team: dict[str, list[_Task]] = {}
        for team in self.org.teams:
            by_team[team.id] = self._team_tasks(team)
            tasks += by_team[team.id]
        self._dependencies(tasks, by_team)
        for task in tasks:
            self._history(task)
        return [self._render(task) for task in tasks]

    def _members(self, team: Team) -> tuple[list[Actor], list[Actor]]:
        people = [a for a in self.org.people if a.team_id == team.id]
        return [a for a in people if a.role == "student"], [
            a for a in people if a.role == "faculty"
        ]

    def _created_at(self, team: Team) -> int:
        rng = self.rng
        decay = weekly_decay(team.behaviour, self.weeks)
        if decay < 1.0:
            # A decaying team opens its work early and then goes quiet.
            weights = [decay**week for week in range(self.weeks)]
            week = rng.choices(range(self.weeks), weights=weights)[0]
        else:
            week = rng.randrange(self.weeks)
        day = week * 7 + rng.choice((0, 0, 1, 1, 2, 2, 3, 3, 4, 5, 6))
        return self.start_ms + day * DAY_MS + rng.randint(15 * HOUR_MS, 23 * HOUR_MS)

    def _team_tasks(self, team: Team) -> list[_Task]:
        rng, behaviour = self.rng, team.behaviour
        students, faculty = self._members(team)
        university = self.org.university(team.university_id)
        seed = university.seed
        subsystem = SUBSYSTEMS[team.subsystem]
        tool = seed.tracker
        key = "".join(ch for ch in f"{seed.id}{subsystem.key}".upper() if ch.isalpha())[:10]
        connection = f"{tool}-{seed.org}"
        count = max(3, round(self.weeks * rng.uniform(0.7, 1.1)))
        number = rng.randint(5, 120)
        tasks: list[_Task] = []
        creators = students + faculty
        for _ in range(count):
            number += rng.randint(1, 3)  # pull requests take numbers too
            task_id = (
                f"github:{seed.org}/{subsystem.channel}#{number}"
                if tool == "github"
                else f"jira:{key}-{number}"
            )
            created = self._created_at(team)
            owners: list[Actor] = []
            if students and rng.random() >= behaviour.unowned:
                pool = students
                if behaviour.dimension == "coupling_degradation":
                    pool = [s for s in students if s.lifecycle == "outgoing"] or students
                owners = [rng.choice(pool)]
                if rng.random() < 0.15 and len(students) > 1:
                    second = rng.choice(students)
                    if second not in owners:
                        owners.append(second)
            due = created + rng.randint(7, 35) * DAY_MS if rng.random() < 0.75 else None
            title = render(rng.choice(TITLES), rng, subsystem, None)
            tasks.append(
                _Task(
                    team,
                    number,
                    task_id,
                    tool,
                    connection,
                    title,
                    created,
                    rng.choice(creators),
                    owners,
                    due,
                    rng.random() < behaviour.completion,
                )
            )
        tasks.sort(key=lambda t: (t.created, t.number))
        for position, task in enumerate(tasks):
            if position and rng.random() < 0.1:
                task.parent_id = tasks[rng.randrange(position)].id
        return tasks

    def _dependencies(self, tasks: list[_Task], by_team: dict[str, list[_Task]]) -> None:
        rng = self.rng
        for task in tasks:
            team = task.team
            own = [t for t in by_team[team.id] if t.created < task.created]
            if own and rng.random() < 0.25:
                task.depends_on.append(rng.choice(own).id)
            if rng.random() < team.behaviour.cross_team_dependencies:
                others = [
                    t
                    for other in self.org.teams
                    if other.id != team.id
                    and other.behaviour.dimension != "partitioned_knowledge"
                    and (
                        other.university_id == team.university_id
                        or other.subsystem in ("integration", "kit")
                    )
                    for t in by_team[other.id]
                ]
                for _ in range(1 + (rng.random() < 0.4)):
                    if others:
                        dependency = rng.choice(others).id
                        if dependency not in task.depends_on:
                            task.depends_on.append(dependency)
            if team.behaviour.dimension == "integration_cost" and any(
                not d.startswith(task.id.split("#")[0]) for d in task.depends_on
            ):
                # Work blocked on other teams rarely gets finished.
                task.completed = rng.random() < team.behaviour.completion

    def _when(self, after: int, days: float) -> int:
        at = after + int(self.rng.uniform(0.1, days) * DAY_MS)
        return min(at, self.end_ms)

    def _history(self, task: _Task) -> None:
        rng, tool, behaviour = self.rng, task.tool, task.team.behaviour
        students, _ = self._members(task.team)
        creator = identity(task.creator, tool)
        task.event(task.created, "created", creator, after="open")
        for dependency in task.depends_on:
            task.event(
                task.created + 60_000,
                "dependency_added",
                creator,
                subject=dependency,
                after=dependency,
            )
        now = task.created + rng.randint(5, 600) * 60_000
        owners = [identity(owner, tool) for owner in task.owners]
        for owner in owners:
            task.event(now, "assigned", creator, subject=owner, after=owner)
        if (
            not owners
            and behaviour.dimension != "emergent_outputs"
            and students
            and rng.random() < 0.5
        ):
            now = self._when(now, 5)
            late_owner = identity(rng.choice(students), tool)
            task.event(now, "assigned", late_owner, subject=late_owner, after=late_owner)
            owners = [late_owner]
        actor = owners[0] if owners else creator
        now = self._when(now, 6)
        task.event(now, "status_changed", actor, before="open", after="in_progress")
        status = "in_progress"
        for _ in range(rng.randint(0, 3)):
            if rng.random() < COMMENT_CHANCE:
                now = self._when(now, 4)
                commenter = identity(rng.choice(students or [task.creator]), tool)
                task.event(now, "commented", commenter)
        if rng.random() < behaviour.churn:
            now = self._churn(task, now, owners, students)
            status = "open"
        handoff = next(
            (self.handoffs[o.index] for o in task.owners if o.index in self.handoffs), None
        )
        if task.completed:
            closed = self._close_time(task, now)
            if (
                handoff is not None
                and behaviour.task_handoff
                and now <= handoff_ms(handoff.day) < closed
            ):
                self._reassign(task, handoff_ms(handoff.day), owners, handoff.to_actor)
            task.event(
                closed,
                "closed",
                actor,
                before=status,
                after="done" if rng.random() < 0.85 else "closed",
            )
            task.closed = closed
            if rng.random() < behaviour.churn * 0.6:
                reopened = self._when(closed, 10)
                task.event(reopened, "reopened", creator, before="done", after="open")
                task.closed = None
                if rng.random() < 0.5:
                    again = self._when(reopened, 10)
                    task.event(again, "closed", actor, before="open", after="done")
                    task.closed = again
        elif handoff is not None and behaviour.task_handoff and now <= handoff_ms(handoff.day):
            self._reassign(task, handoff_ms(handoff.day), owners, handoff.to_actor)

    def _close_time(self, task: _Task, now: int) -> int:
        rng = self.rng
        if task.due is None:
            return self._when(now, 21)
        if rng.random() >= task.team.behaviour.missed_due and now + HOUR_MS < task.due:
            closed = rng.randint(now + HOUR_MS, task.due)
        else:
            closed = max(now, task.due) + rng.randint(1, 20) * DAY_MS
        return min(closed, self.end_ms)

    def _churn(self, task: _Task, now: int, owners: list[str], students: list[Actor]) -> int:
        """Reassigned, unassigned, sent back to the backlog: work without a settled owner."""
        rng, tool = self.rng, task.tool
        actor = identity(task.creator, tool)
        for _ in range(rng.randint(1, 3)):
            now = self._when(now, 7)
            if owners and students and rng.random() < 0.7:
                new = identity(rng.choice(students), tool)
                if new != owners[0]:
                    task.event(now, "reassigned", actor, subject=new, before=owners[0], after=new)
                    owners[0] = new
            elif owners:
                task.event(now, "unassigned", actor, subject=owners[0], before=owners[0])
                owners.clear()
        now = self._when(now, 5)
        task.event(now, "status_changed", actor, before="in_progress", after="open")
        return now

    def _reassign(self, task: _Task, at: int, owners: list[str], to_actor: int) -> None:
        tool = task.tool
        new = identity(self.actors[to_actor], tool)
        leaving = {identity(o, tool) for o in task.owners if o.index in self.handoffs}
        for old in [o for o in owners if o in leaving]:
            task.event(at, "reassigned", old, subject=new, before=old, after=new)
            owners[owners.index(old)] = new

    def _render(self, task: _Task) -> dict[str, object]:
        events = [event for _, _, event in sorted(task.events, key=lambda e: (e[0], e[1]))]
        assignees: list[str] = []
        for event in events:
            kind, subject = event["type"], event["subject"]
            if kind == "assigned" and isinstance(subject, str) and subject not in assignees:
                assignees.append(subject)
            elif kind == "unassigned" and subject in assignees:
                assignees.remove(str(subject))
            elif kind == "reassigned":
                old, new = str(event["from"]), str(event["to"])
                assignees = [new if a == old else a for a in assignees]
                if new not in assignees:
                    assignees.append(new)
        status = "open"
        for event in events:
            if event["type"] in ("status_changed", "closed", "reopened"):
                status = str(event["to"])
        status = {"done": "done", "closed": "closed", "in_progress": "in_progress"}.get(
            status, "open"
        )
        return {
            "id": task.id,
            "tool": task.tool,
            "connection_id": task.connection_id,
            "team_id": task.team.id,
            "university_id": task.team.university_id,
            "title": task.title,
            "status": status,
            "assignees": list(dict.fromkeys(assignees)),
            "created_at": iso_utc(task.created),
            "closed_at": iso_utc(task.closed)
            if task.closed and status in ("done", "closed")
            else None,
            "due_at": iso_utc(task.due) if task.due is not None else None,
            "depends_on": task.depends_on,
            "parent_id": task.parent_id,
            "events": events,
        }


def handoff_ms(day: dt.date) -> int:
    return epoch_ms(day) + 20 * HOUR_MS


def build_tasks(org: Organisation) -> list[dict[str, object]]:
    return _TaskBuilder(org).build()
