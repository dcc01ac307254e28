"""Build an :class:`NDADataset` from plain records, without a database.

For worked examples (tests, docs, notebooks) and benchmarks: add universities, teams,
people, interfaces, messages and tasks by id, then ``build()``.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pandas as pd

from core.nda.dataset import NDADataset, build_dataset
from core.nda.energy import EnergyModel


def _frame(records: list[dict[str, Any]], columns: tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame(records, columns=list(columns))


class DatasetBuilder:
    def __init__(self, program_id: str = "program", data_start: dt.date | None = None) -> None:
        self.program_id = program_id
        self.data_start = data_start
        self.people: list[dict[str, Any]] = []
        self.memberships: list[dict[str, Any]] = []
        self.teams: list[dict[str, Any]] = []
        self.terms: list[dict[str, Any]] = []
        self.interfaces: list[dict[str, Any]] = []
        self.messages: list[dict[str, Any]] = []
        self.links: list[dict[str, Any]] = []
        self.tasks: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.dependencies: list[dict[str, Any]] = []
        self.energy_model: EnergyModel | None = None
        self._ids = itertools.count(1)

    def team(
        self, team_id: str, university_id: str, discipline: str | None = None
    ) -> DatasetBuilder:
        self.teams.append(
            {
                "team_id": team_id,
                "university_id": university_id,
                "program_id": self.program_id,
                "discipline": discipline,
                "name": team_id,
            }
        )
        return self

    def person(
        self,
        person_id: str,
        university_id: str,
        team: str | None = None,
        *,
        role: str = "student",
        lifecycle: str | None = None,
        graduation_term: str | None = None,
        joined_on: dt.date | None = None,
        discipline: str | None = None,
        is_bot: bool = False,
        excluded: bool = False,
        membership_role: str = "member",
    ) -> DatasetBuilder:
        self.people.append(
            {
                "person_id": person_id,
                "university_id": university_id,
                "role": role,
                "discipline": discipline,
                "lifecycle": lifecycle,
                "graduation_term": graduation_term,
                "joined_on": joined_on,
                "is_bot": is_bot,
                "excluded_from_analysis": excluded,
            }
        )
        if team is not None:
            self.memberships.append(
                {
                    "person_id": person_id,
                    "team_id": team,
                    "role": membership_role,
                    "started_on": None,
                    "ended_on": None,
                }
            )
        return self

    def term(
        self, university_id: str, name: str, starts_on: dt.date, ends_on: dt.date
    ) -> DatasetBuilder:
        self.terms.append(
            {
                "university_id": university_id,
                "name": name,
                "starts_on": starts_on,
                "ends_on": ends_on,
            }
        )
        return self

    def interface(
        self,
        src: str,
        dst: str | None,
        at: dt.datetime,
        *,
        type: str = "reply",
        weight: float = 1.0,
        kts: float = 1.0,
        confidence: float = 1.0,
        source: str = "discord",
        to_team: str | None = None,
        codified: bool = False,
        message_id: int | None = None,
        task_id: str | None = None,
        channel_team: str | None = None,
    ) -> DatasetBuilder:
        self.interfaces.append(
            {
                "timestamp": at,
                "source": source,
                "interface_type": type,
                "from_person_id": src,
                "to_person_id": dst,
                "to_team_id": to_team,
                "team_id": channel_team,
                "weight": weight,
                "knowledge_transfer_score": kts,
                "confidence": confidence,
                "codified": codified,
                "source_id": next(self._ids),
                "message_id": message_id,
                "task_id": task_id,
            }
        )
        return self

    def message(
        self,
        message_id: int,
        author: str,
        at: dt.datetime,
        message_type: str = "other",
        *,
        topic: int = 1,
        team: str | None = None,
        reply_to: int | None = None,
    ) -> DatasetBuilder:
        self.messages.append(
            {
                "id": message_id,
                "timestamp": at,
                "author_person_id": author,
                "message_type": message_type,
                "topic": topic,
                "team_id": team,
            }
        )
        if reply_to is not None:
            self.links.append({"answer_id": message_id, "question_id": reply_to})
        return self

    def task(
        self,
        task_id: str,
        team: str,
        created_at: dt.datetime,
        *,
        assignees: tuple[str, ...] = (),
        status: str = "open",
        completed_at: dt.datetime | None = None,
        due_at: dt.datetime | None = None,
    ) -> DatasetBuilder:
        self.tasks.append(
            {
                "task_id": task_id,
                "team_id": team,
                "status": status,
                "created_at": created_at,
                "completed_at": completed_at,
                "due_at": due_at,
                "assignee_person_ids": list(assignees),
            }
        )
        return self

    def task_event(
        self,
        task_id: str,
        event_type: str,
        at: dt.datetime,
        *,
        from_value: str | None = None,
        to_value: str | None = None,
        actor: str | None = None,
    ) -> DatasetBuilder:
        self.events.append(
            {
                "task_id": task_id,
                "event_type": event_type,
                "from_value": from_value,
                "to_value": to_value,
                "occurred_at": at,
                "actor_person_id": actor,
            }
        )
        return self

    def dependency(self, task_id: str, depends_on: str, kind: str = "blocks") -> DatasetBuilder:
        self.dependencies.append(
            {"task_id": task_id, "depends_on_task_id": depends_on, "kind": kind}
        )
        return self

    def build(self) -> NDADataset:
        return build_dataset(
            people=pd.DataFrame(self.people),
            memberships=_frame(
                self.memberships, ("person_id", "team_id", "role", "started_on", "ended_on")
            ),
            teams=_frame(
                self.teams, ("team_id", "university_id", "program_id", "discipline", "name")
            ),
            terms=_frame(self.terms, ("university_id", "name", "starts_on", "ends_on")),
            interfaces=_frame(
                self.interfaces,
                (
                    "timestamp",
                    "source",
                    "interface_type",
                    "from_person_id",
                    "to_person_id",
                    "to_team_id",
                    "team_id",
                    "weight",
                    "knowledge_transfer_score",
                    "confidence",
                    "codified",
                    "source_id",
                    "message_id",
                    "task_id",
                ),
            ),
            messages=_frame(
                self.messages,
                ("id", "timestamp", "author_person_id", "message_type", "topic", "team_id"),
            ),
            answer_links=_frame(self.links, ("answer_id", "question_id")).astype("int64"),
            tasks=_frame(
                self.tasks,
                (
                    "task_id",
                    "team_id",
                    "status",
                    "created_at",
                    "completed_at",
                    "due_at",
                    "assignee_person_ids",
                ),
            ),
            task_events=_frame(
                self.events,
                (
                    "task_id",
                    "event_type",
                    "from_value",
                    "to_value",
                    "occurred_at",
                    "actor_person_id",
                ),
            ),
            task_dependencies=_frame(self.dependencies, ("task_id", "depends_on_task_id", "kind")),
            energy_model=self.energy_model,
            program_id=self.program_id,
            data_start=self.data_start,
        )
