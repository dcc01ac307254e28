"""Outcomes CSV: mission/program success and failure, and failure events.

Header (``frames outcomes import``):
``outcome_id,university_id,program_id,project_id,team_id,outcome_type,category,occurred_on,description``

- ``outcome_id`` (required) makes re-imports idempotent;
- ``outcome_type`` (required): ``mission_success``, ``mission_failure``, ``program_success``,
  ``program_failure`` or ``failure_event``;
- ``category``: for failure events, e.g. ``repeated_completed_work``,
  ``new_cohort_could_not_operate``, ``undocumented_rationale_integration``;
- ``occurred_on`` (required): ISO date;
- the ids, when given, must name existing universities, programs, projects and teams.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from core.csv_input import read_csv
from core.db.models import Program, Project, Team, University
from core.db.models.nda import OUTCOME_TYPES
from core.db.repositories.audit import AuditRepository
from core.db.repositories.organisation import OrganisationRepository
from core.db.repositories.outcomes import OutcomeRepository
from core.errors import InputError, InputProblem

OUTCOME_COLUMNS = (
    "university_id",
    "program_id",
    "project_id",
    "team_id",
    "category",
    "description",
)
_REFERENCES = {
    "university_id": University,
    "program_id": Program,
    "project_id": Project,
    "team_id": Team,
}


@dataclass(frozen=True)
class OutcomeRecord:
    id: str
    outcome_type: str
    occurred_on: dt.date
    line: int
    university_id: str | None = None
    program_id: str | None = None
    project_id: str | None = None
    team_id: str | None = None
    category: str | None = None
    description: str | None = None


def parse_outcomes_csv(path: Path) -> list[OutcomeRecord]:
    records: list[OutcomeRecord] = []
    problems: list[InputProblem] = []
    seen: dict[str, int] = {}
    required = ("outcome_id", "outcome_type", "occurred_on")
    for row in read_csv(path, required=required, optional=OUTCOME_COLUMNS):
        outcome_id = row.text("outcome_id", required=True)
        outcome_type = row.choice("outcome_type", OUTCOME_TYPES, required=True)
        occurred_on = row.date("occurred_on", required=True)
        if outcome_id is not None:
            first = seen.setdefault(outcome_id, row.line)
            if first != row.line:
                row.problem("outcome_id", f"duplicate id {outcome_id!r} (first on line {first})")
        problems += row.problems
        if row.problems or outcome_id is None or outcome_type is None or occurred_on is None:
            continue
        records.append(
            OutcomeRecord(
                id=outcome_id,
                outcome_type=outcome_type,
                occurred_on=occurred_on,
                line=row.line,
                **{column: row.text(column) for column in OUTCOME_COLUMNS},
            )
        )
    if problems:
        raise InputError(problems)
    return records


async def import_outcomes(
    session: AsyncSession, records: list[OutcomeRecord], *, actor: str, source: str
) -> int:
    org = OrganisationRepository(session)
    problems = []
    for column, model in _REFERENCES.items():
        wanted = sorted({getattr(r, column) for r in records if getattr(r, column)})
        known = await org.existing_ids(model, wanted)
        problems += [
            InputProblem(
                source,
                r.line,
                column,
                f"unknown {column.removesuffix('_id')} {getattr(r, column)!r}",
            )
            for r in records
            if getattr(r, column) and getattr(r, column) not in known
        ]
    if problems:
        raise InputError(sorted(problems, key=lambda p: p.line or 0))
    rows = [
        {
            "id": r.id,
            "outcome_type": r.outcome_type,
            "occurred_on": r.occurred_on,
            **{column: getattr(r, column) for column in OUTCOME_COLUMNS},
        }
        for r in records
    ]
    await OutcomeRepository(session).upsert(rows)
    await AuditRepository(session).record(
        actor,
        "outcomes.import",
        target_type="outcomes",
        target_id=source,
        details={"rows": len(rows)},
    )
    return len(rows)
