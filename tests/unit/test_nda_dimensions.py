"""The six dimension formulas on hand-made module facts, with the arithmetic in the test."""

from __future__ import annotations

import pytest

from core.nda.dimensions import (
    FORMULAS,
    ModuleFacts,
    actor_autonomy,
    band_of,
    coupling_degradation,
    emergent_outputs,
    integration_cost,
    partitioned_knowledge,
    program_summary,
    relative_change,
    scale,
    temporal_misalignment,
)
from core.nda.lifecycle import KnowledgeAtRisk
from core.nda.params import NDAParameters
from core.nda.tasks import TaskWindow

P = NDAParameters()


def tasks(**values: int) -> TaskWindow:
    base = dict(
        active=0,
        unowned=0,
        churn_events=0,
        due=0,
        missed_due=0,
        cross_dependent=0,
        completed_cross=0,
        coordination_needed=0,
        coordination_happened=0,
    )
    return TaskWindow(**(base | values), churned_tasks=())


def test_scale_and_bands() -> None:
    assert scale(0.7, 0.7, 0.1) == 0.0
    assert scale(0.4, 0.7, 0.1) == pytest.approx(50.0)
    assert scale(0.0, 0.7, 0.1) == 100.0  # clipped
    assert scale(-0.45, 0.0, -0.6) == pytest.approx(75.0)
    assert [band_of(r) for r in (0, 24.9, 25, 49.9, 50, 74.9, 75, 100)] == [
        "low",
        "low",
        "moderate",
        "moderate",
        "high",
        "high",
        "critical",
        "critical",
    ]
    assert band_of(None) is None


def test_actor_autonomy() -> None:
    # 10 answered questions, 4 by the team's own students; 30 of 60 weight units inside.
    f = ModuleFacts(
        "t",
        answered_questions=10,
        answered_internally=4,
        answered_by_faculty=5,
        interfaces=40,
        weight_internal=30.0,
        weight_external=30.0,
    )
    r = actor_autonomy(f, P)
    assert r.value == pytest.approx(0.4)
    # internal answers: (0.4 − 0.6)/(0.1 − 0.6) = 40; intra share 0.5 is healthier than 0.4: 0
    assert r.risk == pytest.approx(0.65 * 40 + 0.35 * 0)
    assert r.band == "moderate"
    assert "40% of the questions" in r.reading and "50% by faculty" in r.reading


def test_partitioned_knowledge_sealed_team() -> None:
    # All weight inside: E-I = −1; 2 documentation notes of 10 answers and notes.
    f = ModuleFacts(
        "t",
        interfaces=25,
        weight_internal=12.0,
        weight_external=0.0,
        knowledge_messages=10,
        documentation_messages=2,
    )
    r = partitioned_knowledge(f, P)
    assert r.value == -1.0
    # E-I: clipped to 100; codified share 0.2: (0.2 − 0.3)/(0 − 0.3) = 33.3
    assert r.risk == pytest.approx(0.75 * 100 + 0.25 * 100 / 3)
    assert "siloed" in r.reading


def test_partitioned_knowledge_open_team_without_notes() -> None:
    # E = 3, I = 1: E-I = +0.5, healthy; too few knowledge messages to judge codification.
    f = ModuleFacts(
        "t", interfaces=20, weight_internal=1.0, weight_external=3.0, knowledge_messages=2
    )
    r = partitioned_knowledge(f, P)
    assert r.value == pytest.approx(0.5) and r.risk == 0.0 and r.band == "low"
    assert [c.risk for c in r.components] == [0.0, None]


def test_emergent_outputs() -> None:
    # 6 churn events on 10 active tasks, 2 without an owner.
    f = ModuleFacts("t", tasks=tasks(active=10, churn_events=6, unowned=2))
    r = emergent_outputs(f, P)
    assert r.value == pytest.approx(0.6)
    # churn 0.6 → 100; unowned 0.2: (0.2 − 0.05)/(0.4 − 0.05) = 42.9
    assert r.risk == pytest.approx(0.6 * 100 + 0.4 * 100 * 0.15 / 0.35)


def test_emergent_outputs_without_tasks_is_insufficient() -> None:
    for f in (ModuleFacts("t"), ModuleFacts("t", tasks=tasks(active=4))):
        r = emergent_outputs(f, P)
        assert r.insufficient_data and r.value is None and r.risk is None and r.band is None
        assert r.reading.startswith("Insufficient data:")


def test_temporal_misalignment_combines_questions_and_due_dates() -> None:
    # 8 questions, 3 late; 4 tasks due, 1 missed: (3 + 1)/(8 + 4) = 1/3 of requests late.
    f = ModuleFacts(
        "t",
        decidable_questions=8,
        late_questions=3,
        median_latency_hours=25.0,
        tasks=tasks(due=4, missed_due=1),
        handoffs=4,
        handoffs_crammed=2,
    )
    r = temporal_misalignment(f, P)
    assert r.value == pytest.approx(1 / 3)
    late = 100 * (1 / 3 - 0.3) / 0.6
    latency = 100 * (25 - 2) / 46
    crammed = 100 * (0.5 - 0.2) / 0.6
    assert r.risk == pytest.approx(0.7 * late + 0.15 * latency + 0.15 * crammed)


def test_temporal_misalignment_needs_enough_requests() -> None:
    r = temporal_misalignment(ModuleFacts("t", decidable_questions=5, late_questions=5), P)
    assert r.insufficient_data and "5 questions and due tasks" in r.reading


def test_integration_cost_with_tasks() -> None:
    # 60% of weight crosses; 10 active tasks, 5 depend on other teams, 1 of them done;
    # 20 cross-team interfaces per (1 + 1) integrated tasks; 4 of 5 needed pairs talked.
    f = ModuleFacts(
        "t",
        interfaces=50,
        cross_interfaces=20,
        weight_internal=4.0,
        weight_external=6.0,
        tasks=tasks(
            active=10,
            cross_dependent=5,
            completed_cross=1,
            coordination_needed=5,
            coordination_happened=4,
        ),
    )
    r = integration_cost(f, P)
    assert r.value == pytest.approx(0.6)
    import math

    cross = 0.0  # 0.6 is the healthy anchor
    dependent = 100 * (0.5 - 0.25) / 0.5
    per_task = 0.0  # log10(1 + 10) = 1.04 is healthier than the 1.5 anchor
    gap = 0.0  # 1 − 0.8 = 0.2 is healthier than the 0.5 anchor
    assert math.log10(1 + 10) < 1.5
    expected = (0.3 * cross + 0.3 * dependent + 0.25 * per_task + 0.15 * gap) / 1.0
    assert r.risk == pytest.approx(expected)
    assert "socio-technical congruence 80%" in r.reading


def test_integration_cost_chat_only() -> None:
    f = ModuleFacts("t", interfaces=30, weight_internal=1.0, weight_external=1.0)
    r = integration_cost(f, P)
    assert r.value == 0.5 and r.risk == 0.0  # healthier than the 0.6 anchor
    assert len(r.components) == 1


def test_relative_change() -> None:
    # Baseline weeks 10, 10; window 5, 5, 5, 5: half the weight.
    assert relative_change([10, 10, 5, 5, 5, 5], 4, 2) == pytest.approx(-0.5)
    assert relative_change([10, 5, 5, 5, 5], 4, 2) != relative_change([10, 5, 5, 5, 5], 4, 2)  # NaN
    assert relative_change([0, 0, 5, 5, 5, 5], 4, 2) != relative_change([0, 0, 5, 5, 5, 5], 4, 2)


def test_coupling_degradation() -> None:
    knowledge = KnowledgeAtRisk(
        contributions=20,
        outgoing_share=0.8,
        topics=5,
        outgoing_only_topics=3,
        bus_factor=1,
        bus_factor_at_graduation=0,
    )
    f = ModuleFacts(
        "t",
        weekly_weight=[8, 8, 8, 8, 2, 2, 2, 2],
        trend_interfaces=60,
        previous_weight=10.0,
        silent_weight=4.0,
        knowledge=knowledge,
        handoffs_due=2,
        handoffs_covered=1,
    )
    r = coupling_degradation(f, P)
    assert r.value == pytest.approx(-0.75)  # 2 against 8 a week
    silent = 0.0  # 0.4 is healthier than the 0.5 anchor
    handoff = 100 * (0.5 - 0.2) / 0.8
    assert r.risk == pytest.approx(0.45 * 100 + 0.15 * silent + 0.25 * 100 + 0.15 * handoff)
    assert "75% weaker" in r.reading and "1 of 2 people graduating soon handed off" in r.reading


def test_coupling_degradation_needs_history() -> None:
    f = ModuleFacts("t", weekly_weight=[5, 5, 5, 5], trend_interfaces=100)
    r = coupling_degradation(f, P)
    assert r.insufficient_data and "0 weeks of history" in r.reading


def test_every_dimension_has_an_insufficient_path_on_empty_facts() -> None:
    for name, formula in FORMULAS.items():
        r = formula(ModuleFacts("empty"), P)
        assert r.dimension == name
        assert r.insufficient_data and r.value is None and r.risk is None and r.band is None


def test_program_summary_weights_teams_by_activity() -> None:
    high = actor_autonomy(
        ModuleFacts(
            "a",
            answered_questions=10,
            answered_internally=1,
            interfaces=30,
            weight_internal=1.0,
            weight_external=9.0,
        ),
        P,
    )
    low = actor_autonomy(
        ModuleFacts(
            "b",
            answered_questions=10,
            answered_internally=9,
            interfaces=30,
            weight_internal=9.0,
            weight_external=1.0,
        ),
        P,
    )
    summary = program_summary("actor_autonomy", [(high, 1.0), (low, 3.0)], P)
    assert summary.value == pytest.approx((0.1 * 1 + 0.9 * 3) / 4)
    assert summary.risk == pytest.approx((high.risk * 1 + low.risk * 3) / 4)
    assert summary.counts["teams_with_data"] == 2
    lonely = program_summary("actor_autonomy", [(high, 1.0)], P)
    assert lonely.insufficient_data  # one team is not a program-wide picture
