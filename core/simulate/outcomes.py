"""Outcomes: failure events of the planted teams, mission and program results.

They are the labels models learn from, so they follow the planted failures: every planted
team gets failure events in the categories its failure leads to, a mission with two or
more failing teams fails (one: a coin weighted towards failure), and a little noise keeps
the labels from being a lookup table.
"""

from __future__ import annotations

import datetime as dt
import random

from core.simulate.content import SUBSYSTEMS
from core.simulate.organisation import KIT_PROJECT_ID, PROGRAM_ID, Organisation

CATEGORIES = {
    "actor_autonomy": ("missed_integration_milestone", "new_cohort_could_not_operate"),
    "partitioned_knowledge": ("undocumented_rationale_integration",),
    "emergent_outputs": ("repeated_completed_work",),
    "temporal_misalignment": ("knowledge_loss_at_handoff", "missed_integration_milestone"),
    "integration_cost": ("missed_integration_milestone", "undocumented_rationale_integration"),
    "coupling_degradation": ("new_cohort_could_not_operate", "knowledge_loss_at_handoff"),
}
ALL_CATEGORIES = (
    "repeated_completed_work",
    "new_cohort_could_not_operate",
    "undocumented_rationale_integration",
    "missed_integration_milestone",
    "knowledge_loss_at_handoff",
)
DESCRIPTIONS = {
    "repeated_completed_work": "{team} redid work that had already been completed: the "
    "earlier result was not findable",
    "new_cohort_could_not_operate": "New {team} members could not operate the {what} "
    "without help from people who had left",
    "undocumented_rationale_integration": "Integration problem at the {what} interface: the "
    "design rationale of {team} was not written down",
    "missed_integration_milestone": "{team} missed the flat-sat integration milestone",
    "knowledge_loss_at_handoff": "Knowledge of the {what} was lost when {team}'s seniors graduated",
}
OUTCOME_COLUMNS = (
    "outcome_id",
    "university_id",
    "program_id",
    "project_id",
    "team_id",
    "outcome_type",
    "category",
    "occurred_on",
    "description",
)


def build_outcomes(org: Organisation) -> list[dict[str, str]]:
    config = org.config
    rng = random.Random(f"{config.seed}:outcomes")
    last_day = config.end - dt.timedelta(days=1)
    days = config.weeks * 7
    events: list[tuple[dt.date, str, str]] = []  # (day, team id, category)

    def event_day(fraction_low: float) -> dt.date:
        return config.start + dt.timedelta(
            days=min(days - 1, int(days * rng.uniform(fraction_low, 1.0)))
        )

    for team_id, dimension in org.planted.items():
        for category in CATEGORIES[dimension]:
            events.append((event_day(0.55), team_id, category))
    unplanted = [team.id for team in org.teams if team.id not in org.planted]
    for _ in range(min(len(unplanted), max(1, len(org.teams) // 12))):
        events.append((event_day(0.3), rng.choice(unplanted), rng.choice(ALL_CATEGORIES)))
    events.sort()

    rows: list[dict[str, str]] = []

    def add(
        outcome_type: str,
        day: dt.date,
        description: str,
        *,
        university_id: str = "",
        project_id: str = "",
        team_id: str = "",
        category: str = "",
    ) -> None:
        rows.append(
            {
                "outcome_id": f"out-{len(rows) + 1:03d}",
                "university_id": university_id,
                "program_id": PROGRAM_ID,
                "project_id": project_id,
                "team_id": team_id,
                "outcome_type": outcome_type,
                "category": category,
                "occurred_on": day.isoformat(),
                "description": description,
            }
        )

    teams = org.teams_by_id
    for day, team_id, category in events:
        team = teams[team_id]
        what = rng.choice(SUBSYSTEMS[team.subsystem].components)
        add(
            "failure_event",
            day,
            DESCRIPTIONS[category].format(team=team.name, what=what),
            university_id=team.university_id,
            project_id=team.project_id,
            team_id=team_id,
            category=category,
        )

    failed_missions = 0
    projects: list[tuple[str, str, str]] = [
        (u.id, u.project_id, u.seed.mission) for u in org.universities
    ]
    projects.append((org.universities[0].id, KIT_PROJECT_ID, "PROVES Kit"))
    for university_id, project_id, mission in projects:
        failing = sum(1 for t in org.teams if t.project_id == project_id and t.id in org.planted)
        failed = failing >= 2 or (failing == 1 and rng.random() < 0.6)
        if failed:
            failed_missions += 1
            add(
                "mission_failure",
                last_day,
                f"{mission} missed its delivery review: flight unit not integrated",
                university_id=university_id,
                project_id=project_id,
            )
        else:
            add(
                "mission_success",
                last_day,
                f"{mission} passed its delivery review",
                university_id=university_id,
                project_id=project_id,
            )
    if failed_missions * 2 <= len(projects):
        add("program_success", last_day, "Consortium met its annual milestones")
    else:
        add("program_failure", last_day, "Consortium missed its annual milestones")
    return rows
