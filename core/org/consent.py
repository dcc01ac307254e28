"""Consent at the door, administered: each university's consent mode, and consent decisions
imported from a file.

Consent file (``frames consent import FILE``), a UTF-8 CSV with a header:

| column | meaning |
|---|---|
| person_id | the person in FRAMES (from the roster) |
| discord_user_id | or: the person's Discord account id (linked by the roster) |
| email | or: the person's email (from the roster) |
| status | ``granted`` or ``withdrawn`` (required) |
| recorded_at | when it was decided: ISO date or date-time (UTC unless given); blank = now |
| scope | what the decision covers; default ``research`` (the scope capture applies) |

Each row names a person by at least one of the first three columns (several must agree).
Every row is checked before anything is written; a bad row refuses the file and every
problem is reported with its line. Re-importing a file records nothing new. A withdrawal
applies to what is captured after it is imported (capture reads the latest decision by
``recorded_at`` for every batch); what was stored before stays as it was.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from core.capture.consent import DEFAULT_MODE
from core.csv_input import CsvRow, read_csv
from core.db.models.governance import RESEARCH_SCOPE
from core.db.models.organisation import CONSENT_MODES
from core.db.repositories.audit import AuditRepository
from core.db.repositories.consents import ConsentRepository, PersonRef
from core.errors import FramesError, InputError, InputProblem, NotFoundError
from core.org.service import record_consent_decisions

CONSENT_REQUIRED = ("status",)
CONSENT_OPTIONAL = ("person_id", "discord_user_id", "email", "recorded_at", "scope")
STATUSES = ("granted", "withdrawn")
_SCOPE = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
# A clock a little ahead of ours is not "the future".
_CLOCK_SKEW = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class ConsentRow:
    line: int
    status: str
    scope: str
    person_id: str | None = None
    discord_user_id: int | None = None
    email: str | None = None
    recorded_at: dt.datetime | None = None


@dataclass(frozen=True)
class ConsentImportReport:
    rows: int
    recorded: int  # decisions appended; the other rows were stored already


def _timestamp(row: CsvRow, column: str, now: dt.datetime) -> dt.datetime | None:
    value = row.text(column)
    if value is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)  # a date alone is its midnight
    except ValueError:
        row.problem(column, f"{value!r} is not a date or date-time (e.g. 2026-03-01T14:30Z)")
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    if parsed > now + _CLOCK_SKEW:
        row.problem(column, f"{value!r} is in the future")
        return None
    return parsed.astimezone(dt.UTC)


def read_consent_csv(
    path: Path, *, now: dt.datetime | None = None
) -> tuple[list[ConsentRow], list[InputProblem]]:
    """The rows that parse, and the problems of those that do not (a wrong header raises
    ``InputError`` at once)."""
    now = now or dt.datetime.now(dt.UTC)
    records: list[ConsentRow] = []
    problems: list[InputProblem] = []
    for row in read_csv(path, required=CONSENT_REQUIRED, optional=CONSENT_OPTIONAL):
        status = row.choice("status", STATUSES, required=True)
        person_id = row.text("person_id")
        discord_user_id = row.snowflake("discord_user_id")
        email = row.email("email")
        recorded_at = _timestamp(row, "recorded_at", now)
        scope = (row.text("scope") or RESEARCH_SCOPE).lower()
        if not _SCOPE.match(scope):
            row.problem("scope", f"{scope!r} is not a scope (lower-case letters, digits, -, _)")
        if not any(row.text(c) for c in ("person_id", "discord_user_id", "email")):
            row.problem(None, "name the person: person_id, discord_user_id or email")
        problems += row.problems
        if not row.problems and status is not None:
            records.append(
                ConsentRow(row.line, status, scope, person_id, discord_user_id, email, recorded_at)
            )
    return records, problems


async def import_consents(
    session: AsyncSession,
    rows: list[ConsentRow],
    *,
    actor: str,
    source: str,
    problems: Sequence[InputProblem] = (),
) -> ConsentImportReport:
    """Find each row's person, check the file agrees with itself, then append the decisions
    (through the roster's consent writer). Nothing is written if any row is refused;
    ``problems`` (rows that did not parse) are reported with the others, in line order."""
    consents = ConsentRepository(session)
    by_id = await consents.people_by_id(sorted({r.person_id for r in rows if r.person_id}))
    by_discord = await consents.people_by_discord_id(
        sorted({r.discord_user_id for r in rows if r.discord_user_id is not None})
    )
    by_email = await consents.people_by_email(sorted({r.email for r in rows if r.email}))
    problems = list(problems)
    decisions: list[tuple[ConsentRow, PersonRef]] = []
    first: dict[tuple[str, str, dt.datetime | None], ConsentRow] = {}
    for row in rows:

        def problem(column: str | None, reason: str, line: int = row.line) -> None:
            problems.append(InputProblem(source, line, column, reason))

        found: dict[str, PersonRef] = {}
        if row.person_id:
            if row.person_id in by_id:
                found["person_id"] = by_id[row.person_id]
            else:
                problem("person_id", f"no person {row.person_id!r} (import the roster first)")
        if row.discord_user_id is not None:
            if row.discord_user_id in by_discord:
                found["discord_user_id"] = by_discord[row.discord_user_id]
            else:
                problem(
                    "discord_user_id",
                    f"Discord account {row.discord_user_id} is not linked to a person "
                    "(give it in the roster's discord_user_id column)",
                )
        if row.email:
            if row.email in by_email:
                found["email"] = by_email[row.email]
            else:
                problem("email", f"no person has the email {row.email!r}")
        people = {ref.person_id for ref in found.values()}
        if len(people) > 1:
            named = ", ".join(f"{c} → {ref.person_id!r}" for c, ref in found.items())
            problem(None, f"the columns name different people ({named})")
            continue
        if not found or len(found) < sum(
            1 for v in (row.person_id, row.discord_user_id, row.email) if v
        ):
            continue
        person = next(iter(found.values()))
        key = (person.person_id, row.scope, row.recorded_at)
        earlier = first.setdefault(key, row)
        if earlier is not row and earlier.status != row.status:
            when = row.recorded_at.isoformat() if row.recorded_at else "now"
            problem(
                "status",
                f"{person.person_id!r} is {earlier.status} on line {earlier.line} and "
                f"{row.status} here, both as of {when}",
            )
            continue
        decisions.append((row, person))
    if problems:
        raise InputError(sorted(problems, key=lambda p: p.line or 0))
    recorded = await record_consent_decisions(
        session,
        [
            {
                "person_id": person.person_id,
                "university_id": person.university_id,
                "status": row.status,
                "scope": row.scope,
                "source": "import",
                "recorded_at": row.recorded_at,
            }
            for row, person in decisions
        ],
    )
    report = ConsentImportReport(rows=len(rows), recorded=recorded)
    await AuditRepository(session).record(
        actor, "consent.import", target_type="consents", target_id=source, details=report.__dict__
    )
    return report


def check_consent_mode(mode: str) -> None:
    """Refuse a mode FRAMES does not know (callers may check before opening the database)."""
    if mode not in CONSENT_MODES:
        raise FramesError(f"MODE {mode!r} is not one of {', '.join(CONSENT_MODES)}")


async def set_consent_mode(
    session: AsyncSession, university_id: str, mode: str, *, actor: str
) -> str:
    """Set a university's consent mode; returns the previous one. It applies to what is
    captured from then on (the bot reloads modes every few seconds)."""
    check_consent_mode(mode)
    consents = ConsentRepository(session)
    university = await consents.university(university_id)
    if university is None:
        raise NotFoundError(
            f"unknown university {university_id!r}; see `frames org show` for the known ids",
            university_id=university_id,
        )
    previous = university.consent_mode or DEFAULT_MODE
    await consents.set_consent_mode(university_id, mode)
    await AuditRepository(session).record(
        actor,
        "consent.mode",
        target_type="university",
        target_id=university_id,
        university_id=university_id,
        details={"from": previous, "to": mode},
    )
    return previous
