"""One week computed end to end on a small hand-built program; every number worked by hand.

The program: team t1 (students a, b, c and adviser f) and team t2 (students d, e) at u1,
team t3 (student g) at u2. The week is 2026-W40 (28 Sep – 4 Oct); its window is the four
weeks from 7 Sep, its baseline the eight weeks before.
"""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

from core.nda.builder import DatasetBuilder
from core.nda.context import WeekContext
from core.nda.engine import ENGINE_METRICS, compute_week
from core.nda.facts import module_facts
from core.nda.lifecycle import bus_factor, bus_factor_at_graduation, stages
from core.nda.params import NDAParameters
from core.nda.questions import resolve_questions

WEEK = dt.date(2026, 9, 28)
# Small program, small thresholds: the formulas are the point here, not the evidence rules.
PARAMS = NDAParameters(
    min_interfaces=5,
    min_answered_questions=3,
    min_requests=5,
    min_tasks=2,
    min_knowledge_messages=3,
    min_dependency_tasks=1,
)


def at(day: int, hour: int = 10, month: int = 9) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, tzinfo=dt.UTC)


def program() -> DatasetBuilder:
    b = DatasetBuilder(program_id="p", data_start=dt.date(2026, 7, 13))
    b.team("t1", "u1", "eps").team("t2", "u1", "adcs").team("t3", "u2", "comms")
    for university in ("u1", "u2"):
        b.term(university, "2026-fall", dt.date(2026, 8, 24), dt.date(2026, 10, 16))
        b.term(university, "2027-spring", dt.date(2027, 1, 18), dt.date(2027, 5, 7))
    b.person("a", "u1", "t1", lifecycle="outgoing", graduation_term="2026-fall", discipline="eps")
    b.person(
        "b", "u1", "t1", lifecycle="established", graduation_term="2027-spring", discipline="eps"
    )
    b.person(
        "c", "u1", "t1", lifecycle="incoming", graduation_term="2027-spring", discipline="adcs"
    )
    b.person("f", "u1", "t1", role="faculty", membership_role="advisor")
    b.person("d", "u1", "t2", lifecycle="established", graduation_term="2027-spring")
    b.person("e", "u1", "t2", lifecycle="established", graduation_term="2027-spring")
    b.person("g", "u2", "t3", lifecycle="established", graduation_term="2027-spring")
    b.person("bot", "u1", "t1", is_bot=True)
    b.person("gone", "u1", "t1", excluded=True)

    # Baseline: 3 a→b interfaces in each of the 8 weeks before the window (13 Jul – 6 Sep),
    # and one c→e tie in the previous window (10 Aug – 6 Sep) that is silent in this one.
    for week in range(8):
        for k in range(3):
            b.interface(
                "a", "b", dt.datetime(2026, 7, 14, 9 + k, tzinfo=dt.UTC) + dt.timedelta(weeks=week)
            )
    b.interface("c", "e", at(1))

    # The week itself (29 Sep): inside t1: a→b ×4, b→a ×2, a→c ×2, and the handoff a→c;
    # across: c→d, d→c (t2), a→g ×2 (t3 at u2).
    for src, dst, times in (
        ("a", "b", 4),
        ("b", "a", 2),
        ("a", "c", 2),
        ("c", "d", 1),
        ("d", "c", 1),
        ("a", "g", 2),
    ):
        for k in range(times):
            b.interface(src, dst, at(29, 10 + k))
    b.interface("a", "c", at(30), type="handoff", source="manual")
    # Bots and excluded people leave no trace.
    b.interface("bot", "a", at(29)).interface("gone", "b", at(29)).interface("a", "gone", at(29))

    # Questions asked in the window by t1's students (message ids: question, answer).
    b.message(1, "a", at(8), "question", team="t1", topic=100)
    b.message(2, "b", at(8, 12), "answer", team="t1", topic=100, reply_to=1)  # 2 h, inside
    b.message(3, "b", at(9), "question", team="t1", topic=101)
    b.message(4, "f", at(10, 16), "answer", team="t1", topic=101, reply_to=3)  # 30 h, faculty
    b.message(5, "c", at(11), "question", team="t1", topic=102)
    b.message(6, "d", at(11, 11), "answer", team="t1", topic=102, reply_to=5)  # 1 h, other team
    b.message(7, "a", at(14), "question", team="t1", topic=103)  # never answered
    b.message(8, "c", at(15), "question", team="t1", topic=104)
    b.message(9, "a", at(15, 13), "answer", team="t1", topic=104, reply_to=8)  # 3 h, inside
    b.message(10, "c", at(16), "documentation", team="t1", topic=105)
    b.message(
        11, "a", at(16, 11), "other", team="t1", topic=104, reply_to=8
    )  # later reply: not first

    # Tasks: T1 (a) depends on t2's T3 (d), due 20 Sep, done 25 Sep; T2 has no owner and
    # was reopened; T1 was reassigned.
    b.task("T1", "t1", at(1), assignees=("a",), due_at=at(20), completed_at=at(25), status="done")
    b.task("T2", "t1", at(10), status="in progress")
    b.task("T3", "t2", at(1), assignees=("d",))
    b.dependency("T1", "T3")
    b.task_event("T1", "reassigned", at(15))
    b.task_event("T2", "status_changed", at(20), from_value="Done", to_value="In Progress")
    b.task_event("T2", "commented", at(21))
    return b


@pytest.fixture(scope="module")
def ds():  # type: ignore[no-untyped-def]
    return program().build()


@pytest.fixture(scope="module")
def facts(ds):  # type: ignore[no-untyped-def]
    ctx = WeekContext(ds, WEEK, PARAMS, resolve_questions(ds))
    return {f.module: f for f in module_facts(ctx, ctx.teams)}, {
        f.module: f for f in module_facts(ctx, ctx.universities)
    }


def test_bots_and_excluded_people_are_left_out(ds) -> None:  # type: ignore[no-untyped-def]
    assert "bot" not in ds.person_code and "gone" not in ds.person_code
    assert len(ds.interfaces) == 8 * 3 + 1 + 12 + 1  # only the real people's interfaces


def test_questions_resolve_to_their_first_answer(ds) -> None:  # type: ignore[no-untyped-def]
    q = resolve_questions(ds).set_index("question_id")
    assert q.loc[1, "latency_hours"] == 2 and q.loc[3, "latency_hours"] == 30
    assert q.loc[8, "answer_id"] == 9  # message 11 replied later: not the first answer
    assert q.loc[7, "answerer"] == -1 and math.isnan(q.loc[7, "latency_hours"])


def test_team_facts_by_hand(facts) -> None:  # type: ignore[no-untyped-def]
    t1 = facts[0]["t1"]
    # Inside t1: 4 + 2 + 2 + handoff = 9; across: c→d, d→c, a→g ×2 = 4.
    assert (t1.weight_internal, t1.weight_external, t1.interfaces, t1.cross_interfaces) == (
        9,
        4,
        13,
        4,
    )
    assert t1.ei_index == pytest.approx((4 - 9) / 13)
    # Answered: q1 (b), q3 (f, faculty), q5 (d, other team), q8 (a): 2 inside by students.
    assert (t1.answered_questions, t1.answered_internally, t1.answered_by_faculty) == (4, 2, 1)
    # Five questions to judge; late: q3 (30 h) and q7 (never).
    assert (t1.decidable_questions, t1.late_questions) == (5, 2)
    assert t1.median_latency_hours == pytest.approx(2.5)  # of 2, 30, 1 and 3 hours
    # Answers (b, f, a) and c's documentation.
    assert (t1.knowledge_messages, t1.documentation_messages) == (4, 1)


def test_team_tasks_by_hand(facts) -> None:  # type: ignore[no-untyped-def]
    t = facts[0]["t1"].tasks
    assert (t.active, t.unowned, t.churn_events) == (2, 1, 2)  # reassigned, reopened
    assert (t.due, t.missed_due) == (1, 1)
    assert (t.cross_dependent, t.completed_cross) == (1, 1)
    # a's task depends on d's; a and d never talked in the window.
    assert (t.coordination_needed, t.coordination_happened) == (1, 0)
    assert facts[0]["t3"].tasks is None


def test_lifecycle_knowledge_and_handoffs_by_hand(facts) -> None:  # type: ignore[no-untyped-def]
    t1 = facts[0]["t1"]
    k = t1.knowledge
    assert k.contributions == 4 and k.outgoing_share == pytest.approx(1 / 4)  # a's answer
    # Topics answered: 100 (b), 101 (f), 104 (a, outgoing): one held only by outgoing a.
    assert (k.topics, k.outgoing_only_topics) == (3, 1)
    assert (k.bus_factor, k.bus_factor_at_graduation) == (2, 2)
    # a graduates on 16 Oct, within 28 days of the week: due, and covered by the handoff
    # of 30 Sep (16 days ahead: not crammed).
    assert (t1.handoffs_due, t1.handoffs_covered, t1.handoffs, t1.handoffs_crammed) == (1, 1, 1, 0)


def test_coupling_facts_by_hand(facts) -> None:  # type: ignore[no-untyped-def]
    t1 = facts[0]["t1"]
    # Baseline weeks: 3 a→b each, plus c→e in the week of 31 Aug; window: 13 in the last week.
    assert t1.weekly_weight == [3, 3, 3, 3, 3, 3, 3, 4, 0, 0, 0, 13]
    # Previous window pairs touching t1: a–b (4 weeks × 3) and c–e (1); c–e went silent.
    assert (t1.previous_weight, t1.silent_weight) == (13, 1)


def test_university_modules(facts) -> None:  # type: ignore[no-untyped-def]
    u1 = facts[1]["u1"]
    # t1 and t2 are one module at u1: c→d and d→c become internal; a→g stays external.
    assert (u1.weight_internal, u1.weight_external) == (11, 2)
    # d answered c from inside the university now: 3 of 4 answered by u1 students.
    assert u1.answered_internally == 3


def test_stages_derived_from_terms_when_the_roster_is_silent() -> None:
    b = DatasetBuilder()
    b.team("t", "u")
    b.term("u", "2026-fall", dt.date(2026, 8, 24), dt.date(2026, 12, 11))
    for year in (2027, 2028, 2029):
        for season, start, end in (
            ("spring", (1, 18), (5, 7)),
            ("summer", (5, 24), (8, 13)),
            ("fall", (8, 23), (12, 10)),
        ):
            b.term("u", f"{year}-{season}", dt.date(year, *start), dt.date(year, *end))
    b.person("now", "u", "t", graduation_term="2026-fall")
    b.person("soon", "u", "t", graduation_term="2027-spring", joined_on=dt.date(2024, 9, 1))
    b.person("new", "u", "t", graduation_term="2029-fall", joined_on=dt.date(2026, 8, 20))
    b.person("later", "u", "t", graduation_term="2029-fall")  # 5 regular terms after fall 2026
    b.person("prof", "u", "t", role="faculty")
    b.person("said", "u", "t", lifecycle="established", graduation_term="2026-fall")
    assert stages(b.build(), dt.date(2026, 10, 1)).tolist() == [
        "outgoing",
        "established",
        "incoming",
        "incoming",
        None,
        "established",
    ]


def test_bus_factor_by_hand() -> None:
    assert bus_factor([6, 2, 1, 1]) == 1  # 6 of 10 is already half
    assert bus_factor([3, 3, 2, 2]) == 2
    assert bus_factor([]) == 0
    # The outgoing top answerer leaves: the rest hold 4 of 10 < half.
    assert bus_factor_at_graduation([6, 2, 1, 1], [True, False, False, False]) == 0
    assert bus_factor_at_graduation([3, 3, 2, 2], [True, False, False, False]) == 2


def test_compute_week_rows(ds) -> None:  # type: ignore[no-untyped-def]
    result = compute_week(ds, WEEK, PARAMS)
    reports = pd.DataFrame(result.reports).set_index(["scope_type", "scope_id", "dimension"])
    autonomy = reports.loc[("team", "t1", "actor_autonomy")]
    assert autonomy["raw_value"] == pytest.approx(0.5)
    partitioned = reports.loc[("team", "t1", "partitioned_knowledge")]
    assert partitioned["raw_value"] == pytest.approx(-5 / 13)
    temporal = reports.loc[("team", "t1", "temporal_misalignment")]
    assert temporal["raw_value"] == pytest.approx((2 + 1) / (5 + 1))  # late questions + missed due
    emergent = reports.loc[("team", "t1", "emergent_outputs")]
    assert emergent["raw_value"] == pytest.approx(1.0)  # 2 churn events / 2 active tasks
    integration = reports.loc[("team", "t1", "integration_cost")]
    assert integration["raw_value"] == pytest.approx(4 / 13)
    coupling = reports.loc[("team", "t1", "coupling_degradation")]
    assert coupling["raw_value"] == pytest.approx((13 / 4) / (25 / 8) - 1)
    # Evidence: the question answered from outside the team, newest first.
    evidence = autonomy["inputs"]["evidence"]
    assert [(e["from"], e["to"]) for e in evidence] == [("d", "c"), ("f", "b")]
    # Every team, university and the program get all six dimensions plus energy loss.
    assert {(s, i) for s, i, _ in reports.index} == {
        ("team", "t1"),
        ("team", "t2"),
        ("team", "t3"),
        ("university", "u1"),
        ("university", "u2"),
        ("program", "p"),
    }
    assert reports.groupby(level=[0, 1]).size().eq(7).all()

    assert set(result.metrics["metric"]) <= set(ENGINE_METRICS)  # what a rerun replaces
    metrics = result.metrics.set_index(["scope_type", "scope_id", "metric"])["value"]
    assert metrics[("person", "a", "out_degree")] == 3  # b, c and g in the week's graph
    assert metrics[("person", "a", "out_strength")] == 9  # 4 + 2 + 1 (handoff) + 2
    assert metrics[("team", "t1", "outgoing_share")] == pytest.approx(1 / 3)
    assert metrics[("team", "t1", "handoff_coverage")] == 1.0
    assert metrics[("team", "t1", "bus_factor")] == 2
    assert metrics[("discipline", "eps", "size")] == 2
    assert ("program", "p", "modularity_teams") in metrics.index
    engagement = result.engagement.set_index("person_id")
    assert set(engagement.index) == {"a", "b", "c", "f", "d", "e", "g"}
    assert engagement.loc["e", "score"] == 0  # a member with no activity this week


def test_a_program_with_one_team() -> None:
    b = DatasetBuilder(program_id="solo", data_start=dt.date(2026, 9, 7))
    b.team("only", "u")
    for name in ("a", "b", "c"):
        b.person(name, "u", "only")
    for day in range(28):  # 7 Sep to 4 Oct: the window, the week included
        moment = at(7) + dt.timedelta(days=day)
        b.interface("a", "b", moment).interface("b", "c", moment).interface("c", "a", moment)
    result = compute_week(b.build(), WEEK, PARAMS)
    reports = pd.DataFrame(result.reports).set_index(["scope_type", "scope_id", "dimension"])
    assert reports.loc[("team", "only", "partitioned_knowledge"), "raw_value"] == -1.0
    assert reports.loc[("team", "only", "integration_cost"), "raw_value"] == 0.0
    # One team is no program-wide comparison: the program says so.
    program = reports.loc[("program", "solo", "partitioned_knowledge")]
    assert pd.isna(program["raw_value"]) and pd.isna(program["band"])
    assert "1 teams with data" in program["reading"]
    # No answered questions: actor autonomy is insufficient, with the reason.
    autonomy = reports.loc[("team", "only", "actor_autonomy")]
    assert pd.isna(autonomy["risk"]) and "0 answered questions" in autonomy["reading"]
    metrics = result.metrics.set_index(["scope_type", "scope_id", "metric"])["value"]
    assert metrics[("program", "solo", "modularity_teams")] == pytest.approx(0.0)
    assert metrics[("team", "only", "ei_index")] == -1.0


def test_a_week_without_data_is_insufficient_everywhere(ds) -> None:  # type: ignore[no-untyped-def]
    result = compute_week(ds, dt.date(2027, 3, 1), PARAMS)
    # Tasks still open are still data: u1's T2 (no owner) and T3 are active, without churn.
    open_tasks = [
        r for r in result.reports if r["dimension"] == "emergent_outputs" and r["risk"] is not None
    ]
    assert [
        (r["scope_id"], r["raw_value"], r["inputs"]["counts"]["unowned_tasks"]) for r in open_tasks
    ] == [("u1", 0.0, 1)]
    dims = [r for r in result.reports if r["dimension"] not in ("energy_loss", "emergent_outputs")]
    assert dims and all(r["raw_value"] is None and r["risk"] is None for r in dims)
    assert result.metrics.empty or "person" not in set(result.metrics["scope_type"])
