"""What the engine reads: weeks, question resolution, task churn, the CSV payload, graphs."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from core.errors import InputError
from core.nda.builder import DatasetBuilder
from core.nda.graph import InterfaceFilter, project, select_interfaces
from core.nda.loading import Payload, dataset_from_payload
from core.nda.questions import resolve_questions
from core.nda.tasks import churn_mask, status_family
from core.nda.weeks import parse_week, week_label, week_of, weeks_between


def at(day: int, hour: int = 10, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 9, day, hour, minute, tzinfo=dt.UTC)


def test_iso_weeks() -> None:
    assert parse_week("2026-W47") == dt.date(2026, 11, 16)
    assert week_label(dt.date(2026, 11, 16)) == "2026-W47"
    assert parse_week("2020-W53") == dt.date(2020, 12, 28)  # a 53-week year
    assert week_of(dt.datetime(2026, 11, 22, 23, 59, tzinfo=dt.UTC)) == dt.date(2026, 11, 16)
    assert weeks_between(dt.date(2026, 11, 18), dt.date(2026, 12, 1)) == [
        dt.date(2026, 11, 16),
        dt.date(2026, 11, 23),
        dt.date(2026, 11, 30),
    ]
    for bad, why in (("2026-47", "not an ISO week"), ("2026-W54", "has no week 54")):
        with pytest.raises(InputError, match=why):
            parse_week(bad)


def people() -> DatasetBuilder:
    b = DatasetBuilder()
    b.team("t", "u")
    for name in ("ana", "ben", "cy"):
        b.person(name, "u", "t")
    return b


def test_the_three_ways_a_question_is_answered() -> None:
    b = people()
    # 1. A reply, whatever its type.
    b.message(1, "ana", at(7), "question", topic=10)
    b.message(2, "ben", at(7, 11), "other", topic=10, reply_to=1)
    # 2. An answer that follows the topic's open question (the classifier's rule 8).
    b.message(3, "ben", at(8), "question", topic=11)
    b.message(4, "cy", at(8, 10, 20), "answer", topic=11)
    # 3. Days later, a message mentioning the asker, in the same topic.
    b.message(5, "cy", at(9), "question", topic=12)
    b.message(6, "ana", at(11), "other", topic=12)
    b.interface("ana", "cy", at(11), type="mention", message_id=6)
    # Chatter after a question is not an answer; nor is the asker answering themselves.
    b.message(7, "ana", at(14), "question", topic=13)
    b.message(8, "ben", at(14, 11), "other", topic=13)
    b.message(9, "ana", at(14, 12), "answer", topic=13)
    # An answer two days and more after the question it follows is too late to be its answer.
    b.message(10, "ben", at(20), "question", topic=14)
    b.message(11, "cy", at(23), "answer", topic=14)
    q = resolve_questions(b.build()).set_index("question_id")
    assert q["answer_id"].to_dict() == {1: 2, 3: 4, 5: 6, 7: -1, 10: -1}
    assert q.loc[3, "latency_hours"] == pytest.approx(20 / 60)
    assert q.loc[5, "latency_hours"] == 48
    assert list(q.loc[[1, 3, 5], "answerer"]) == [1, 2, 0]  # person codes: ben, cy, ana


def test_task_statuses_and_churn() -> None:
    assert [status_family(s) for s in ("Done", "closed", "To Do", "open", "In Review", None)] == [
        "done",
        "done",
        "backlog",
        "backlog",
        "in_progress",
        "in_progress",
    ]
    events = pd.DataFrame(
        {
            "event_type": [
                "reassigned",
                "status_changed",
                "status_changed",
                "status_changed",
                "commented",
                "renamed",
            ],
            "from_value": [None, "Done", "In Progress", "Open", None, None],
            "to_value": [None, "In Progress", "Backlog", "In Progress", None, None],
        }
    )
    # reassigned, reopened, stepped back, (moving forward is not churn), (a comment), renamed
    assert churn_mask(events).tolist() == [True, True, True, False, False, True]


def test_payload_csv_round_trip() -> None:
    """The CSV the repository copies out becomes the same dataset as the builder's."""
    t0 = int(at(7).timestamp())  # 7 Sep 2026 10:00 UTC, then an hour apart
    interfaces = (
        f"{t0},discord,reply,ana,ben,,0.8,11,1001,\n"
        f"{t0 + 3600},manual,handoff,ben,,t,0.9,12,,\n"
        f"{t0 + 7200},pm,comment,ben,ana,,0.5,13,,github:o/r#1\n"
        f"{t0 + 10800},discord,mention,bot,ana,,1.0,14,1002,\n"
    ).encode()
    messages = f"1001,{t0},ana,documentation,5,t,1\n1002,{t0 + 10800},cy,question,5,,0\n".encode()
    payload = Payload(
        people=[
            {"person_id": p, "university_id": "u", "role": "student", "is_bot": p == "bot"}
            for p in ("ana", "ben", "cy", "bot")
        ],
        memberships=[{"person_id": p, "team_id": "t"} for p in ("ana", "ben")],
        teams=[{"team_id": "t", "university_id": "u"}],
        terms=[],
        interfaces_csv=interfaces,
        messages_csv=messages,
        links_csv=b"",
        tasks=[
            {
                "task_id": "github:o/r#1",
                "team_id": "t",
                "status": "open",
                "created_at": at(1),
                "assignee_person_ids": ["ana"],
            }
        ],
    )
    ds = dataset_from_payload(payload)
    rows = ds.interfaces
    assert len(rows) == 3  # the bot's mention is dropped with the bot
    assert rows["src"].tolist() == [0, 1, 1] and rows["dst"].tolist() == [1, -1, 0]
    assert rows["to_team"].tolist() == [-1, 0, -1]
    assert rows["weight"].tolist() == [0.8, 0.9, 0.5]
    assert rows["codified"].tolist() == [True, False, False]  # message 1001 is documentation
    assert rows["task"].tolist() == [-1, -1, 0]
    assert rows["ts"].iloc[0] == pd.Timestamp("2026-09-07 10:00", tz="UTC")
    assert ds.messages["channel_team"].tolist() == [0, -1]
    assert ds.tasks["assignees"].tolist() == [(0,)]


def test_filters_and_projections() -> None:
    b = people()
    b.team("t2", "u2").person("dee", "u2", "t2")
    b.interface("ana", "ben", at(7), type="reply", weight=2)
    b.interface("ben", "dee", at(8), type="mention", source="discord")
    b.interface("dee", "ana", at(9), type="task_assignment", source="pm")
    b.interface("cy", None, at(10), type="handoff", source="manual", to_team="t2")
    ds = b.build()
    rows = ds.interfaces
    assert len(select_interfaces(rows, InterfaceFilter.of(at(8), at(10)))) == 2
    assert len(select_interfaces(rows, InterfaceFilter.of(types=["reply", "mention"]))) == 2
    assert len(select_interfaces(rows, InterfaceFilter.of(sources=["pm", "manual"]))) == 2
    on = dt.date(2026, 9, 30)
    teams = project(ds, rows, "team", on)
    # ben→dee, cy→t2 (a team target) and dee→ana cross teams; ana→ben stays inside t.
    edges = zip(teams.src.tolist(), teams.dst.tolist(), teams.weight.tolist(), strict=True)
    assert sorted(edges) == [
        (0, 1, 2.0),
        (1, 0, 1.0),
    ]
    assert teams.labels == ["t", "t2"]
    universities = project(ds, rows, "university", on)
    assert universities.labels == ["u", "u2"] and universities.m == 2
    assert project(ds, rows, "program", on).m == 0  # everything is inside the program
    people_graph = project(ds, rows, "person", on)
    assert people_graph.n == 4 and people_graph.m == 3  # the team-targeted handoff has no person
    assert np.isclose(people_graph.weight.sum(), 4.0)
