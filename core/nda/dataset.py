"""The in-memory input of one NDA run: plain pandas frames, picklable for the process pool.

Everything is keyed by small integer codes (people are rows of ``people``; ``-1`` means
none) so the hot paths are numpy operations. Bots and people excluded from analysis are
left out when the dataset is built, and interfaces whose ends are not analysable people
(or a team, for manual interfaces logged against a team) are dropped with them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from core.nda.energy import EnergyModel

PEOPLE_COLUMNS = (
    "person_id",
    "university_id",
    "role",
    "discipline",
    "lifecycle",
    "graduation_term",
    "joined_on",
)
MEMBERSHIP_COLUMNS = ("person_id", "team_id", "role", "started_on", "ended_on")
TEAM_COLUMNS = ("team_id", "university_id", "program_id", "discipline", "name")
TERM_COLUMNS = ("university_id", "name", "starts_on", "ends_on")
# ``weight`` is already the knowledge-carrying weight (see ``interface_weight``); ``to_team``
# and ``channel_team`` are team codes and ``task`` a row of ``tasks`` (all -1 for none).
INTERFACE_COLUMNS = (
    "ts",
    "source",
    "interface_type",
    "src",
    "dst",
    "to_team",
    "channel_team",
    "weight",
    "raw_weight",
    "kts",
    "confidence",
    "codified",
    "source_id",
    "message_id",
    "task",
)
MESSAGE_COLUMNS = ("id", "ts", "author", "message_type", "topic", "channel_team")
ANSWER_LINK_COLUMNS = ("answer_id", "question_id")
TASK_COLUMNS = (
    "task_id",
    "team_id",
    "status",
    "created_at",
    "completed_at",
    "due_at",
    "assignees",
)
TASK_EVENT_COLUMNS = ("task_id", "event_type", "from_value", "to_value", "ts", "actor")
DEPENDENCY_COLUMNS = ("task_id", "depends_on_task_id", "kind")
# Researchers' category for an interface under a layer (energy factors not measured).
ASSESSMENT_COLUMNS = ("source", "source_id", "layer_id", "category")


def interface_weight(weight: Any, kts: Any) -> Any:
    """The knowledge an interface carries: weight × knowledge-transfer score.

    Weight says how much interaction there was and the knowledge-transfer score how much of
    it moved knowledge (a reaction moves little, an answer much), so the product is the
    knowledge carried. Confidence is not multiplied in again: the capture pipeline already
    writes an inferred reply's confidence into its weight (docs/interfaces.md), and a
    second factor would count the doubt twice. Works on scalars and numpy arrays.
    """
    return weight * kts


def codes_in(values: pd.Series, index: pd.Index) -> np.ndarray:
    """Position of each value in ``index`` (-1 where absent or null), by hash lookup.

    Categorical input (what the CSV reader yields for id columns) is looked up once per
    category, so a million rows naming a thousand people cost a thousand lookups.
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        per_category = index.get_indexer(values.cat.categories.astype(object))
        codes = values.cat.codes.to_numpy()
        if not len(per_category):
            return np.full(len(codes), -1, dtype=np.int64)
        return np.where(codes >= 0, per_category[np.maximum(codes, 0)], -1).astype(np.int64)
    return index.get_indexer(values.astype(object)).astype(np.int64)


def empty_frame(columns: tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame({column: pd.Series(dtype=object) for column in columns})


def utc(values: Any) -> pd.Series:
    """Timestamps (datetimes, strings or epoch seconds) as a tz-aware UTC series."""
    series = pd.Series(values)
    if series.empty:
        return pd.Series(pd.to_datetime([], utc=True))
    if pd.api.types.is_numeric_dtype(series):
        return pd.to_datetime(series, unit="s", utc=True)
    return pd.to_datetime(series, utc=True)


@dataclass
class NDADataset:
    """Frames described by the ``*_COLUMNS`` tuples above; build with :func:`build_dataset`."""

    people: pd.DataFrame
    memberships: pd.DataFrame
    teams: pd.DataFrame
    terms: pd.DataFrame
    interfaces: pd.DataFrame
    messages: pd.DataFrame
    answer_links: pd.DataFrame
    tasks: pd.DataFrame
    task_events: pd.DataFrame
    task_dependencies: pd.DataFrame
    energy_model: EnergyModel
    program_id: str | None = None
    # First week with any captured data: earlier weeks are unknown, not silent.
    data_start: dt.date | None = None
    assessments: pd.DataFrame = field(default_factory=lambda: empty_frame(ASSESSMENT_COLUMNS))
    person_code: dict[str, int] = field(default_factory=dict)
    team_code: dict[str, int] = field(default_factory=dict)

    @property
    def team_ids(self) -> list[str]:
        return list(self.teams["team_id"])

    def team_university(self) -> np.ndarray:
        """University id of each team code."""
        return self.teams["university_id"].to_numpy(dtype=object)

    def person_teams(self, on: dt.date) -> np.ndarray:
        """Team code of each person on a day (``-1``: none).

        A person in several teams is placed in the one they joined first (then by team id),
        so every person is in exactly one module when groups are compared.
        """
        result = np.full(len(self.people), -1, dtype=np.int64)
        m = self.memberships
        if m.empty:
            return result
        started = m["started_on"].isna() | (m["started_on"] <= on)
        not_ended = m["ended_on"].isna() | (m["ended_on"] >= on)
        active = m[started & not_ended].copy()
        if active.empty:
            return result
        active["order"] = active["started_on"].fillna(dt.date.min)
        active = active.sort_values(["person", "order", "team_id"]).drop_duplicates("person")
        result[active["person"].to_numpy(dtype=np.int64)] = active["team"].to_numpy(np.int64)
        return result

    def is_faculty(self) -> np.ndarray:
        return (self.people["role"] == "faculty").to_numpy()

    def is_student(self) -> np.ndarray:
        return (self.people["role"] == "student").to_numpy()


def build_dataset(
    *,
    people: pd.DataFrame,
    memberships: pd.DataFrame,
    teams: pd.DataFrame,
    terms: pd.DataFrame,
    interfaces: pd.DataFrame,
    messages: pd.DataFrame | None = None,
    answer_links: pd.DataFrame | None = None,
    tasks: pd.DataFrame | None = None,
    task_events: pd.DataFrame | None = None,
    task_dependencies: pd.DataFrame | None = None,
    energy_model: EnergyModel | None = None,
    program_id: str | None = None,
    data_start: dt.date | None = None,
    assessments: pd.DataFrame | None = None,
) -> NDADataset:
    """Encode raw frames (person and team ids as text) into a dataset.

    ``people`` may carry ``is_bot`` and ``excluded_from_analysis``; those rows are dropped
    here, and every interface, message and task reference to them with them.
    """
    people = people.copy()
    for flag in ("is_bot", "excluded_from_analysis"):
        if flag in people:
            people = people[~people[flag].astype(object).fillna(False).astype(bool)]
    people = people.reset_index(drop=True)
    for column in PEOPLE_COLUMNS:
        if column not in people:
            people[column] = None
    person_code = {pid: code for code, pid in enumerate(people["person_id"])}
    teams = teams.reset_index(drop=True).copy()
    for column in TEAM_COLUMNS:
        if column not in teams:
            teams[column] = None
    team_code = {tid: code for code, tid in enumerate(teams["team_id"])}

    person_ids = pd.Index(people["person_id"].astype(object))

    def persons(values: pd.Series) -> np.ndarray:
        return codes_in(values, person_ids)

    memberships = memberships.copy()
    memberships["person"] = persons(memberships["person_id"])
    memberships["team"] = memberships["team_id"].map(team_code).fillna(-1).astype(np.int64)
    memberships = memberships[(memberships["person"] >= 0) & (memberships["team"] >= 0)]
    for column in ("started_on", "ended_on"):
        memberships[column] = memberships[column].where(memberships[column].notna(), None)

    team_ids = pd.Index(teams["team_id"].astype(object))

    def team_codes(values: pd.Series) -> np.ndarray:
        return codes_in(values, team_ids)

    tasks, task_events = _encode_tasks(tasks, task_events, persons, person_code)
    task_index = {task_id: i for i, task_id in enumerate(tasks["task_id"])}
    interfaces = _encode_interfaces(interfaces, persons, team_codes, task_index)
    messages = _encode_messages(messages, persons, team_codes)
    return NDADataset(
        people=people[list(PEOPLE_COLUMNS)],
        memberships=memberships.reset_index(drop=True),
        teams=teams[list(TEAM_COLUMNS)],
        terms=terms.reset_index(drop=True) if terms is not None else empty_frame(TERM_COLUMNS),
        interfaces=interfaces,
        messages=messages,
        answer_links=(
            answer_links.reset_index(drop=True)
            if answer_links is not None
            else pd.DataFrame(
                {"answer_id": pd.Series(dtype=np.int64), "question_id": pd.Series(dtype=np.int64)}
            )
        ),
        tasks=tasks,
        task_events=task_events,
        task_dependencies=(
            task_dependencies.reset_index(drop=True)
            if task_dependencies is not None
            else empty_frame(DEPENDENCY_COLUMNS)
        ),
        energy_model=energy_model or EnergyModel.prototype(),
        program_id=program_id,
        data_start=data_start,
        assessments=(
            assessments.reset_index(drop=True)
            if assessments is not None
            else empty_frame(ASSESSMENT_COLUMNS)
        ),
        person_code=person_code,
        team_code=team_code,
    )


def _categories(values: pd.Series) -> pd.Categorical:
    """Low-cardinality text (sources, types) as a plain-object categorical."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return pd.Categorical.from_codes(
            values.cat.codes.to_numpy(), categories=values.cat.categories.astype(object)
        )
    return pd.Categorical(values.astype(object))


def _column(raw: pd.DataFrame, name: str, default: Any) -> pd.Series:
    return raw[name] if name in raw else pd.Series([default] * len(raw), dtype=object)


def _encode_interfaces(
    raw: pd.DataFrame, persons: Any, team_codes: Any, task_index: dict[str, int]
) -> pd.DataFrame:
    """Raw rows with ``from_person_id``/``to_person_id`` (text) → coded, weighted rows."""
    frame = pd.DataFrame(
        {
            "ts": utc(raw["timestamp"]).array,
            "source": _categories(raw["source"]),
            "interface_type": _categories(raw["interface_type"]),
            "src": persons(raw["from_person_id"]),
            "dst": persons(raw["to_person_id"]),
            "to_team": team_codes(_column(raw, "to_team_id", None)),
            "channel_team": team_codes(_column(raw, "team_id", None)),
            "raw_weight": raw["weight"].astype(float).to_numpy(),
            "kts": raw["knowledge_transfer_score"].astype(float).to_numpy(),
            "confidence": _column(raw, "confidence", 1.0).astype(float).to_numpy(),
            "codified": _column(raw, "codified", False).fillna(False).astype(bool).to_numpy(),
            "source_id": _column(raw, "source_id", 0).fillna(0).astype(np.int64).to_numpy(),
            "message_id": _column(raw, "message_id", -1).fillna(-1).astype(np.int64).to_numpy(),
            "task": codes_in(
                _column(raw, "task_id", None), pd.Index(list(task_index), dtype=object)
            ),
        }
    )
    frame["weight"] = interface_weight(frame["raw_weight"], frame["kts"])
    # An interface must leave an analysable person and reach one (or a known team).
    keep = (frame["src"] >= 0) & ((frame["dst"] >= 0) | (frame["to_team"] >= 0))
    keep &= frame["src"] != frame["dst"]
    frame = frame[keep].sort_values("ts", kind="stable").reset_index(drop=True)
    return frame[list(INTERFACE_COLUMNS)]


def _encode_messages(raw: pd.DataFrame | None, persons: Any, team_codes: Any) -> pd.DataFrame:
    if raw is None or raw.empty:
        return pd.DataFrame(
            {
                "id": pd.Series(dtype=np.int64),
                "ts": pd.Series(pd.to_datetime([], utc=True)),
                "author": pd.Series(dtype=np.int64),
                "message_type": pd.Series(dtype=object),
                "topic": pd.Series(dtype=np.int64),
                "channel_team": pd.Series(dtype=np.int64),
            }
        )
    frame = pd.DataFrame(
        {
            "id": raw["id"].astype(np.int64).to_numpy(),
            "ts": utc(raw["timestamp"]).array,
            "author": persons(raw["author_person_id"]),
            "message_type": _categories(raw["message_type"]),
            "topic": raw["topic"].astype(np.int64).to_numpy(),
            "channel_team": team_codes(_column(raw, "team_id", None)),
        }
    )
    return frame[frame["author"] >= 0].sort_values("ts", kind="stable").reset_index(drop=True)


def _as_list(value: object) -> list[Any]:
    return list(value) if isinstance(value, list | tuple | np.ndarray) else []


def _encode_tasks(
    tasks: pd.DataFrame | None,
    events: pd.DataFrame | None,
    persons: Any,
    person_code: dict[str, int],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    if tasks is None or tasks.empty:
        coded_tasks = empty_frame(TASK_COLUMNS)
    else:
        coded_tasks = tasks.reset_index(drop=True).copy()
        for column in ("created_at", "completed_at", "due_at"):
            coded_tasks[column] = utc(coded_tasks[column]).array
        coded_tasks["assignees"] = [
            tuple(person_code[p] for p in _as_list(people) if p in person_code)
            for people in coded_tasks["assignee_person_ids"]
        ]
        coded_tasks = coded_tasks[list(TASK_COLUMNS)]
    if events is None or events.empty:
        coded_events = empty_frame(TASK_EVENT_COLUMNS)
    else:
        coded_events = events.reset_index(drop=True).copy()
        coded_events["ts"] = utc(coded_events["occurred_at"]).array
        coded_events["actor"] = persons(coded_events["actor_person_id"])
        coded_events = coded_events[list(TASK_EVENT_COLUMNS)].sort_values("ts", kind="stable")
    return coded_tasks, coded_events.reset_index(drop=True)
