"""What the database hands the engine: a picklable payload, turned into a dataset in a worker.

Bulk tables (interfaces, messages, reply links) travel as CSV produced by PostgreSQL's
``COPY ... TO STDOUT``; parsing them is CPU work, so it happens in the pool's workers.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from core.nda.dataset import NDADataset, build_dataset
from core.nda.energy import EnergyModel

# ``weight`` here is already weight × knowledge-transfer score (the SQL does it).
INTERFACE_CSV_COLUMNS = (
    "timestamp",
    "source",
    "interface_type",
    "from_person_id",
    "to_person_id",
    "to_team_id",
    "weight",
    "source_id",
    "message_id",
    "task_id",
)
MESSAGE_CSV_COLUMNS = (
    "id",
    "timestamp",
    "author_person_id",
    "message_type",
    "topic",
    "team_id",
    "codified",
)
LINK_CSV_COLUMNS = ("answer_id", "question_id")


@dataclass
class Payload:
    """Everything one run reads from the database, as plain data."""

    people: list[dict[str, Any]]
    memberships: list[dict[str, Any]]
    teams: list[dict[str, Any]]
    terms: list[dict[str, Any]]
    interfaces_csv: bytes
    messages_csv: bytes
    links_csv: bytes
    tasks: list[dict[str, Any]] = field(default_factory=list)
    task_events: list[dict[str, Any]] = field(default_factory=list)
    task_dependencies: list[dict[str, Any]] = field(default_factory=list)
    assessments: list[dict[str, Any]] = field(default_factory=list)
    energy_model_id: int | None = None
    energy_model_name: str = "prototype-defaults"
    energy_model_factors: dict[str, Any] = field(default_factory=dict)
    program_id: str | None = None
    data_start: dt.date | None = None


def read_csv(data: bytes, columns: tuple[str, ...], dtypes: dict[str, Any]) -> pd.DataFrame:
    if not data:
        return pd.DataFrame({c: pd.Series(dtype=dtypes.get(c, object)) for c in columns})
    frame = pd.read_csv(
        io.BytesIO(data),
        names=list(columns),
        header=None,
        dtype=dtypes,
        engine="c",
        keep_default_na=False,
        na_values=[""],
    )
    return frame


def dataset_from_payload(payload: Payload) -> NDADataset:
    # Ids as categories: the C parser builds them once per distinct value, and the dataset
    # looks each category up once (see core.nda.dataset.codes_in).
    interfaces = read_csv(
        payload.interfaces_csv,
        INTERFACE_CSV_COLUMNS,
        {
            "timestamp": float,
            "source": "category",
            "interface_type": "category",
            "from_person_id": "category",
            "to_person_id": "category",
            "to_team_id": "category",
            "weight": float,
            "source_id": np.int64,
            "message_id": "Int64",
            "task_id": "category",
        },
    )
    messages = read_csv(
        payload.messages_csv,
        MESSAGE_CSV_COLUMNS,
        {
            "id": np.int64,
            "timestamp": float,
            "author_person_id": "category",
            "message_type": "category",
            "topic": np.int64,
            "team_id": "category",
            "codified": np.int8,
        },
    )
    links = read_csv(
        payload.links_csv, LINK_CSV_COLUMNS, {"answer_id": np.int64, "question_id": np.int64}
    )
    # The SQL already multiplied weight and knowledge-transfer score.
    interfaces["knowledge_transfer_score"] = 1.0
    interfaces["confidence"] = 1.0
    # Codified knowledge is a property of the source message.
    position = pd.Index(messages["id"]).get_indexer(
        interfaces["message_id"].fillna(-1).astype(np.int64)
    )
    codified = messages["codified"].to_numpy(bool)
    interfaces["codified"] = (
        np.where(position >= 0, codified[np.maximum(position, 0)], False)
        if len(codified)
        else False
    )

    def frame(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> pd.DataFrame:
        return pd.DataFrame(rows, columns=list(columns))

    return build_dataset(
        people=frame(payload.people, PEOPLE_FIELDS),
        memberships=frame(
            payload.memberships, ("person_id", "team_id", "role", "started_on", "ended_on")
        ),
        teams=frame(
            payload.teams, ("team_id", "university_id", "program_id", "discipline", "name")
        ),
        terms=frame(payload.terms, ("university_id", "name", "starts_on", "ends_on")),
        interfaces=interfaces,
        messages=messages,
        answer_links=links,
        tasks=frame(payload.tasks, TASK_FIELDS),
        task_events=frame(payload.task_events, TASK_EVENT_FIELDS),
        task_dependencies=frame(
            payload.task_dependencies, ("task_id", "depends_on_task_id", "kind")
        ),
        energy_model=(
            EnergyModel.from_factors(
                payload.energy_model_id, payload.energy_model_name, payload.energy_model_factors
            )
            if payload.energy_model_factors
            else EnergyModel.prototype()
        ),
        program_id=payload.program_id,
        data_start=payload.data_start,
        assessments=frame(payload.assessments, ("source", "source_id", "layer_id", "category")),
    )


PEOPLE_FIELDS = (
    "person_id",
    "university_id",
    "role",
    "discipline",
    "lifecycle",
    "graduation_term",
    "joined_on",
    "is_bot",
    "excluded_from_analysis",
)
TASK_FIELDS = (
    "task_id",
    "team_id",
    "status",
    "created_at",
    "completed_at",
    "due_at",
    "assignee_person_ids",
)
TASK_EVENT_FIELDS = (
    "task_id",
    "event_type",
    "from_value",
    "to_value",
    "occurred_at",
    "actor_person_id",
)
