"""Diagnostic reports from stored results: values, risk, trend, evidence, suggested actions.

The report is a plain dict (the ``--format json`` shape); :mod:`core.nda.render` turns it
into HTML and the CLI into text. People are named unless ``pseudonymise`` is set, in which
case every person id and name becomes a salted pseudonym (HMAC-SHA256), stable within one
report (and across reports when the salt is configured).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any, Literal

from core.db.engine import Database
from core.db.repositories.nda import NDARepository, ReportRow
from core.errors import InputError, InputProblem, NotFoundError
from core.nda import DIMENSIONS, ENERGY_LOSS, ENGINE_VERSION
from core.nda.weeks import ONE_WEEK, week_label

ScopeType = Literal["team", "university", "program"]
TREND_WEEKS = 4
TREND_STEP = 5.0  # risk points: a smaller change week on week reads as steady

# Suggested actions, from DOMAIN.md's failure scenarios, for high and critical risk.
ACTIONS = {
    "actor_autonomy": [
        "Pair each newer member with an established one as the first stop for questions, so "
        "faculty and other teams become the second stop (scenario: a new cohort could not "
        "operate the system).",
        "Collect the questions answered from outside this month into the team's own notes.",
    ],
    "partitioned_knowledge": [
        "Hold a short cross-team design review and post the team's design rationale where "
        "other teams read it (scenario: integration problem from undocumented rationale).",
        "Link documentation in answers instead of re-explaining in chat.",
    ],
    "emergent_outputs": [
        "Freeze scope for the next milestone: one owner and acceptance criteria per open task "
        "(scenario: repeated completed work).",
        "Review reopened and reassigned tasks together and retire the ones nobody owns.",
    ],
    "temporal_misalignment": [
        "Agree on an answer-within-a-day norm for the team channel with a rotating responder.",
        "Start handoffs at least three weeks before graduation, not in the last days "
        "(scenario: knowledge lost at handoff).",
    ],
    "integration_cost": [
        "Write or update the interface control document with the teams this one depends on "
        "(scenario: integration problem from undocumented rationale).",
        "Cut cross-team task dependencies where a stable interface would do.",
    ],
    "coupling_degradation": [
        "Plan handoffs now: each outgoing member records what only they answer and walks an "
        "incoming member through it (scenario: a new cohort could not operate the system).",
        "Reassign outgoing members' tasks before the term ends.",
    ],
}


@dataclass(frozen=True)
class ReportRequest:
    scope_type: ScopeType
    scope_id: str | None = None
    week: dt.date | None = None
    pseudonymise: bool = False
    salt: str | None = None


class Pseudonyms:
    def __init__(self, salt: str | None) -> None:
        self.key = (salt or secrets.token_hex(16)).encode()

    def __call__(self, person_id: str) -> str:
        digest = hmac.new(self.key, person_id.encode(), hashlib.sha256).hexdigest()
        return f"P-{digest[:8]}"


def _trend(history: list[ReportRow]) -> dict[str, Any]:
    series = [
        {"week": week_label(r.week_start), "risk": r.risk, "value": r.raw_value} for r in history
    ]
    risks = [r.risk for r in history if r.risk is not None]
    change = risks[-1] - risks[-2] if len(risks) >= 2 and history[-1].risk is not None else None
    if change is None:
        direction = "unknown"
    elif change >= TREND_STEP:
        direction = "worsening"
    elif change <= -TREND_STEP:
        direction = "improving"
    else:
        direction = "steady"
    return {
        "direction": direction,
        "risk_change": None if change is None else round(change, 1),
        "series": series,
    }


def _dimension(row: ReportRow | None, history: list[ReportRow], name_of: Any) -> dict[str, Any]:
    if row is None:
        return {
            "value": None,
            "unit": None,
            "risk": None,
            "band": None,
            "insufficient_data": True,
            "reading": "Insufficient data: not computed for this week.",
            "trend": _trend(history),
            "evidence": [],
            "components": [],
            "actions": [],
        }
    inputs = row.inputs or {}
    evidence = []
    for item in inputs.get("evidence", []):
        item = dict(item)
        for key in ("from", "to"):
            if item.get(key):
                item[key] = name_of(item[key])
        evidence.append(item)
    insufficient = row.raw_value is None
    actions = ACTIONS.get(row.dimension, []) if row.band in ("high", "critical") else []
    return {
        "value": row.raw_value,
        "unit": row.unit,
        "risk": row.risk,
        "band": row.band,
        "insufficient_data": insufficient,
        "reading": row.reading,
        "trend": _trend(history),
        "evidence": evidence,
        "components": inputs.get("components", []),
        "counts": inputs.get("counts", {}),
        "actions": actions,
    }


async def build_report(db: Database, request: ReportRequest) -> dict[str, Any]:
    async with db.sessions() as session:
        repo = NDARepository(session)
        weeks = await repo.computed_weeks()
        if not weeks:
            raise NotFoundError("no NDA results yet; run `frames nda run` first")
        _, data_end = await repo.data_extent()
        week = request.week or default_week(weeks, data_end)
        if week not in weeks:
            raise InputError(
                [
                    InputProblem(
                        "--week",
                        None,
                        None,
                        f"{week_label(week)} has no results (computed: {week_label(weeks[0])} to "
                        f"{week_label(weeks[-1])}); run `frames nda run --week {week_label(week)}`",
                    )
                ]
            )
        people, teams, universities = await repo.names()
        programs = await repo.program_ids()
        model = await repo.active_energy_model()
        program_id = programs[0] if len(programs) == 1 else "program"

        team_ids, university_ids, with_program = _scope_members(
            request, teams, universities, program_id
        )
        scopes = [("team", t) for t in team_ids] + [("university", u) for u in university_ids]
        if with_program:
            scopes.append(("program", program_id))
        history_weeks = [week - k * ONE_WEEK for k in range(TREND_WEEKS - 1, -1, -1)]
        rows = await repo.latest_reports(scopes, history_weeks, model.id if model else None)

    pseudonyms = Pseudonyms(request.salt) if request.pseudonymise else None

    def name_of(person_id: str) -> str:
        if pseudonyms is not None:
            return pseudonyms(person_id)
        return people.get(person_id, person_id)

    by_key: dict[tuple[str, str, str], list[ReportRow]] = {}
    for row in rows:
        by_key.setdefault((row.scope_type, row.scope_id, row.dimension), []).append(row)

    def dimensions(scope_type: str, scope_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
        result = {}
        for dimension in (*DIMENSIONS, ENERGY_LOSS):
            history = sorted(
                by_key.get((scope_type, scope_id, dimension), []), key=lambda r: r.week_start
            )
            current = next((r for r in history if r.week_start == week), None)
            result[dimension] = _dimension(current, history, name_of)
        energy = result.pop(ENERGY_LOSS)
        return result, energy

    report: dict[str, Any] = {
        "scope": {
            "type": request.scope_type,
            "id": request.scope_id if request.scope_type != "program" else program_id,
        },
        "week": week_label(week),
        "week_start": week.isoformat(),
        "engine_version": ENGINE_VERSION,
        "energy_loss_model": model.name if model else None,
        "pseudonymised": request.pseudonymise,
        "teams": [],
    }
    for team_id in team_ids:
        dims, energy = dimensions("team", team_id)
        name, university_id = teams[team_id]
        report["teams"].append(
            {
                "team_id": team_id,
                "team_name": name,
                "university_id": university_id,
                "dimensions": dims,
                "energy_loss": energy,
            }
        )
    if university_ids:
        report["universities"] = []
        for university_id in university_ids:
            dims, energy = dimensions("university", university_id)
            report["universities"].append(
                {
                    "university_id": university_id,
                    "name": universities.get(university_id, university_id),
                    "dimensions": dims,
                    "energy_loss": energy,
                }
            )
    if with_program:
        dims, energy = dimensions("program", program_id)
        report["program"] = {"program_id": program_id, "dimensions": dims, "energy_loss": energy}
    return report


def default_week(weeks: list[dt.date], data_end: dt.datetime | None) -> dt.date:
    """The latest computed week that the captured data covers to its end.

    The last week of an export (or the current week of live capture) is partial: its late
    questions look unanswered only because the answers are not captured yet.
    """
    if data_end is not None:
        complete = [
            w for w in weeks if dt.datetime.combine(w + ONE_WEEK, dt.time(), dt.UTC) <= data_end
        ]
        if complete:
            return complete[-1]
    return weeks[-1]


def _scope_members(
    request: ReportRequest,
    teams: dict[str, tuple[str, str]],
    universities: dict[str, str],
    program_id: str,
) -> tuple[list[str], list[str], bool]:
    if request.scope_type == "team":
        if request.scope_id not in teams:
            raise NotFoundError(f"no team {request.scope_id!r}; `frames org teams` lists them")
        return [request.scope_id], [], False
    if request.scope_type == "university":
        if request.scope_id not in universities:
            raise NotFoundError(f"no university {request.scope_id!r}")
        members = sorted(t for t, (_, u) in teams.items() if u == request.scope_id)
        return members, [request.scope_id], False
    return sorted(teams), sorted(universities), True


def ranking(report: dict[str, Any], dimension: str) -> list[tuple[str, float]]:
    """Teams by risk of one dimension, worst first (teams without a risk left out)."""
    ranked = [
        (team["team_id"], team["dimensions"][dimension]["risk"])
        for team in report["teams"]
        if team["dimensions"][dimension]["risk"] is not None
    ]
    return sorted(ranked, key=lambda item: -item[1])
