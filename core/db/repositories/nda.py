"""NDA engine storage: what a run reads (bulk, via COPY) and writes (runs, results, states)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.dialects.postgresql import distinct_on, insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.db.models import (
    AcademicTerm,
    AssessmentCategory,
    EnergyLossModel,
    InterfaceAssessment,
    NDAReport,
    NDARun,
    NDAWeekState,
    Person,
    PMTaskDependency,
    Program,
    Team,
    TeamMembership,
    University,
)

# The interfaces view, lean: the knowledge-carrying weight (weight × knowledge-transfer
# score, see core.nda.dataset.interface_weight) instead of its factors,
# the Discord source message (the capture pipeline writes it first in message_ids, so the
# view's evidence_ids[1]) and the project-tool task. Measured on 1M rows: 1.5 s, against
# 4.8 s when joining discord_interfaces and discord_messages back for the same facts.
INTERFACES_COPY = """
SELECT date_part('epoch', i.timestamp), i.source, i.interface_type, i.from_person_id,
       i.to_person_id, i.to_team_id, i.weight * i.knowledge_transfer_score,
       i.source_id,
       CASE WHEN i.source = 'discord' THEN i.evidence_ids[1] END,
       CASE WHEN i.source = 'pm' THEN i.evidence_ids[1] END
FROM interfaces i
WHERE i.timestamp >= $1 AND i.timestamp < $2
"""
# Messages of linked, non-bot authors; a thread is its own topic, else the channel.
# Codified: documentation, or the capture's codified signal (a design-document link or
# document attachment, or a pinned code block).
MESSAGES_COPY = """
SELECT m.id, date_part('epoch', m.timestamp), idt.person_id, m.message_type,
       coalesce(m.thread_id, m.channel_id), m.team_id,
       CASE WHEN m.message_type = 'documentation'
                 OR coalesce(m.metadata -> 'signals' ->> 'codified', 'false') = 'true'
            THEN 1 ELSE 0 END
FROM discord_messages m
JOIN identities idt ON idt.provider = 'discord' AND idt.external_id = m.author_id::text
WHERE NOT m.is_bot AND m.deleted_at IS NULL AND idt.person_id IS NOT NULL
  AND m.timestamp >= $1 AND m.timestamp < $2
"""
# A reply (reference) or an inferred reply whose evidence names another message.
LINKS_COPY = """
SELECT m.id, m.reference_id FROM discord_messages m
WHERE m.reference_id IS NOT NULL AND m.timestamp >= $1 AND m.timestamp < $2
UNION
SELECT di.source_message_id, q.id FROM discord_interfaces di
CROSS JOIN LATERAL unnest(di.message_ids) AS q(id)
WHERE di.interaction_type IN ('reply', 'inferred_reply') AND q.id <> di.source_message_id
  AND di.timestamp >= $1 AND di.timestamp < $2
"""
# Per-week digests of what a week's results read (see core.nda.service). From the base
# tables, not the view: who an account belongs to is in the organisation digest.
WEEK_STATS = """
SELECT week, string_agg(part, '|' ORDER BY part) FROM (
  SELECT date_trunc('week', timestamp AT TIME ZONE 'UTC')::date AS week,
         concat_ws(':', 'd', count(*), sum(weight), sum(knowledge_transfer_score),
                   sum(confidence), sum(id), max(timestamp)) AS part
  FROM discord_interfaces GROUP BY 1
  UNION ALL
  SELECT date_trunc('week', timestamp AT TIME ZONE 'UTC')::date,
         concat_ws(':', 'p', count(*), sum(weight), sum(knowledge_transfer_score), sum(id),
                   sum(hashtext(coalesce(from_person_id, '') || coalesce(to_person_id, ''))))
  FROM pm_interfaces GROUP BY 1
  UNION ALL
  SELECT date_trunc('week', timestamp AT TIME ZONE 'UTC')::date,
         concat_ws(':', 'h', count(*), sum(weight), sum(knowledge_transfer_score), sum(id))
  FROM manual_interfaces GROUP BY 1
  UNION ALL
  SELECT date_trunc('week', timestamp AT TIME ZONE 'UTC')::date,
         concat_ws(':', 'm', count(*), sum(id % 1000003), sum(hashtext(message_type)),
                   count(deleted_at), count(reference_id),
                   sum(coalesce(reference_id, 0) % 1000003))
  FROM discord_messages GROUP BY 1
  UNION ALL
  SELECT date_trunc('week', occurred_at AT TIME ZONE 'UTC')::date,
         concat_ws(':', 'e', count(*), sum(id),
                   sum(hashtext(event_type || coalesce(to_value, ''))))
  FROM pm_task_events GROUP BY 1
) parts GROUP BY week
"""
DATA_EXTENT = """
SELECT least((SELECT min(timestamp) FROM discord_interfaces),
             (SELECT min(timestamp) FROM pm_interfaces),
             (SELECT min(timestamp) FROM manual_interfaces),
             (SELECT min(timestamp) FROM discord_messages)),
       greatest((SELECT max(timestamp) FROM discord_interfaces),
                (SELECT max(timestamp) FROM pm_interfaces),
                (SELECT max(timestamp) FROM manual_interfaces),
                (SELECT max(timestamp) FROM discord_messages))
"""
# Facts every week reads: organisation, accounts, tasks, assessments.
ORG_DIGEST = """
SELECT md5(concat_ws('|',
  (SELECT string_agg(concat_ws(',', id, university_id, role, discipline, lifecycle,
                               graduation_term, joined_on, is_bot, excluded_from_analysis),
                     ';' ORDER BY id) FROM people),
  (SELECT string_agg(concat_ws(',', team_id, person_id, role, started_on, ended_on), ';'
          ORDER BY team_id, person_id) FROM team_memberships),
  (SELECT string_agg(concat_ws(',', id, university_id, program_id, discipline), ';'
          ORDER BY id) FROM teams),
  (SELECT string_agg(concat_ws(',', university_id, name, starts_on, ends_on), ';'
          ORDER BY university_id, name) FROM academic_terms),
  (SELECT string_agg(concat_ws(',', provider, external_id, person_id, is_bot), ';'
          ORDER BY provider, external_id) FROM identities),
  (SELECT concat_ws(',', count(*), max(updated_at), max(completed_at), max(created_at))
   FROM pm_tasks),
  (SELECT concat_ws(',', count(*), sum(hashtext(task_id || depends_on_task_id)))
   FROM pm_task_dependencies),
  (SELECT concat_ws(',', count(*), max(id), max(created_at)) FROM interface_assessments)
))
"""
# Project tools name people by account reference (github:octocat): one person per reference.
TASKS_QUERY = """
WITH refs AS (
  SELECT DISTINCT ON (ref) ref, person_id FROM (
    SELECT lower(provider || ':' || external_id) AS ref, person_id, 0 AS rank FROM identities
    UNION ALL
    SELECT lower(provider || ':' || username), person_id, 1 FROM identities
    WHERE username IS NOT NULL
    UNION ALL
    SELECT 'person:' || lower(id), id, 2 FROM people
  ) candidates WHERE person_id IS NOT NULL ORDER BY ref, rank
)
SELECT t.id, t.team_id, t.status, t.created_at, t.completed_at, t.due_at,
       coalesce(array_agg(DISTINCT r.person_id) FILTER (WHERE r.person_id IS NOT NULL), '{}')
FROM pm_tasks t
LEFT JOIN LATERAL unnest(t.assigned_to) AS a(ref) ON true
LEFT JOIN refs r ON r.ref = lower(a.ref)
GROUP BY t.id ORDER BY t.id
"""
TASK_EVENTS_QUERY = """
WITH refs AS (
  SELECT DISTINCT ON (ref) ref, person_id FROM (
    SELECT lower(provider || ':' || external_id) AS ref, person_id, 0 AS rank FROM identities
    UNION ALL
    SELECT lower(provider || ':' || username), person_id, 1 FROM identities
    WHERE username IS NOT NULL
  ) candidates WHERE person_id IS NOT NULL ORDER BY ref, rank
)
SELECT e.task_id, e.event_type, e.from_value, e.to_value, e.occurred_at, r.person_id
FROM pm_task_events e LEFT JOIN refs r ON r.ref = lower(e.actor)
ORDER BY e.occurred_at, e.id
"""
METRIC_STAGING = """
CREATE TEMP TABLE nda_metric_staging (
  university_id text, scope_type text, scope_id text, metric text, period_start timestamptz,
  value double precision
) ON COMMIT DROP
"""
ENGAGEMENT_STAGING = """
CREATE TEMP TABLE nda_engagement_staging (
  person_id text, team_id text, university_id text, period_start timestamptz,
  score double precision, components jsonb
) ON COMMIT DROP
"""


@dataclass(frozen=True)
class ReportRow:
    """One stored dimension value, with the run that produced it."""

    scope_type: str
    scope_id: str
    university_id: str | None
    week_start: dt.date
    dimension: str
    raw_value: float | None
    unit: str | None
    risk: float | None
    band: str | None
    reading: str | None
    inputs: dict[str, Any]
    run_id: uuid.UUID
    energy_loss_model_id: int | None
    computed_at: dt.datetime


class NDARepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _driver(self) -> asyncpg.Connection:
        connection = await self.session.connection()
        raw = await connection.get_raw_connection()
        driver: asyncpg.Connection = raw.driver_connection
        return driver

    async def _copy_out(self, query: str, *args: Any) -> bytes:
        chunks: list[bytes] = []

        async def collect(chunk: bytes) -> None:
            chunks.append(chunk)

        driver = await self._driver()
        await self._prefer_hash_joins()
        await driver.copy_from_query(query, *args, output=collect, format="csv")
        return b"".join(chunks)

    async def _prefer_hash_joins(self) -> None:
        """Bulk reads scan whole tables, where hash joins win. Right after a bulk import the
        planner's statistics are stale and it picks nested loops (measured: 0.9 s instead of
        30 ms for 28k messages); this setting lasts until the transaction ends."""
        await self.session.execute(text("SET LOCAL enable_nestloop = off"))

    # --- what a run reads ------------------------------------------------------------------
    async def interfaces_csv(self, start: dt.datetime, end: dt.datetime) -> bytes:
        return await self._copy_out(INTERFACES_COPY, start, end)

    async def messages_csv(self, start: dt.datetime, end: dt.datetime) -> bytes:
        return await self._copy_out(MESSAGES_COPY, start, end)

    async def answer_links_csv(self, start: dt.datetime, end: dt.datetime) -> bytes:
        return await self._copy_out(LINKS_COPY, start, end)

    async def people(self) -> list[dict[str, Any]]:
        rows = await self.session.execute(
            select(
                Person.id.label("person_id"),
                Person.university_id,
                Person.role,
                Person.discipline,
                Person.lifecycle,
                Person.graduation_term,
                Person.joined_on,
                Person.is_bot,
                Person.excluded_from_analysis,
            ).order_by(Person.id)
        )
        return [dict(row) for row in rows.mappings().all()]

    async def memberships(self) -> list[dict[str, Any]]:
        m = TeamMembership
        rows = await self.session.execute(
            select(m.person_id, m.team_id, m.role, m.started_on, m.ended_on).order_by(m.id)
        )
        keys = ("person_id", "team_id", "role", "started_on", "ended_on")
        return [dict(zip(keys, row, strict=True)) for row in rows.all()]

    async def teams(self) -> list[dict[str, Any]]:
        rows = await self.session.execute(
            select(
                Team.id, Team.university_id, Team.program_id, Team.discipline, Team.name
            ).order_by(Team.id)
        )
        keys = ("team_id", "university_id", "program_id", "discipline", "name")
        return [dict(zip(keys, row, strict=True)) for row in rows.all()]

    async def terms(self) -> list[dict[str, Any]]:
        t = AcademicTerm
        rows = await self.session.execute(
            select(t.university_id, t.name, t.starts_on, t.ends_on).order_by(
                t.university_id, t.starts_on
            )
        )
        keys = ("university_id", "name", "starts_on", "ends_on")
        return [dict(zip(keys, row, strict=True)) for row in rows.all()]

    async def program_ids(self) -> list[str]:
        return list((await self.session.scalars(select(Program.id).order_by(Program.id))).all())

    async def tasks(self) -> list[dict[str, Any]]:
        """Tasks with assignees resolved to people (assignees are identity references)."""
        await self._prefer_hash_joins()
        rows = (await self.session.execute(text(TASKS_QUERY))).all()
        keys = (
            "task_id",
            "team_id",
            "status",
            "created_at",
            "completed_at",
            "due_at",
            "assignee_person_ids",
        )
        return [dict(zip(keys, row, strict=True)) for row in rows]

    async def task_events(self) -> list[dict[str, Any]]:
        """Task events with the actor resolved to a person where their account is linked."""
        await self._prefer_hash_joins()
        rows = (await self.session.execute(text(TASK_EVENTS_QUERY))).all()
        keys = ("task_id", "event_type", "from_value", "to_value", "occurred_at", "actor_person_id")
        return [dict(zip(keys, row, strict=True)) for row in rows]

    async def task_dependencies(self) -> list[dict[str, Any]]:
        d = PMTaskDependency
        rows = await self.session.execute(select(d.task_id, d.depends_on_task_id, d.kind))
        keys = ("task_id", "depends_on_task_id", "kind")
        return [dict(zip(keys, row, strict=True)) for row in rows.all()]

    async def assessments(self, layers: Sequence[str]) -> list[dict[str, Any]]:
        """Latest assessed category per interface and layer, for energy factors not measured."""
        if not layers:
            return []
        a, c = InterfaceAssessment, AssessmentCategory
        query = (
            select(a.interface_source, a.interface_id, c.layer_id, c.key)
            .join(c, c.id == a.category_id)
            .where(c.layer_id.in_(list(layers)))
            .order_by(a.interface_source, a.interface_id, c.layer_id, a.created_at, a.id)
        )
        keys = ("source", "source_id", "layer_id", "category")
        return [
            dict(zip(keys, row, strict=True)) for row in (await self.session.execute(query)).all()
        ]

    async def data_extent(self) -> tuple[dt.datetime | None, dt.datetime | None]:
        """First and last moment with captured interfaces or messages (base tables: the
        view's joins would make this a full scan of everything)."""
        row = (await self.session.execute(text(DATA_EXTENT))).one()
        return row[0], row[1]

    async def week_stats(self) -> dict[dt.date, str]:
        rows = (await self.session.execute(text(WEEK_STATS))).all()
        return {week: digest for week, digest in rows}

    async def org_digest(self) -> str:
        return str((await self.session.execute(text(ORG_DIGEST))).scalar_one())

    async def week_states(self) -> dict[dt.date, str]:
        rows = await self.session.execute(select(NDAWeekState.week_start, NDAWeekState.fingerprint))
        return {week: fingerprint for week, fingerprint in rows.all()}

    # --- energy-loss models ------------------------------------------------------------------
    async def energy_models(self) -> list[EnergyLossModel]:
        query = select(EnergyLossModel).order_by(EnergyLossModel.id)
        return list((await self.session.scalars(query)).all())

    async def active_energy_model(self) -> EnergyLossModel | None:
        query = select(EnergyLossModel).where(EnergyLossModel.is_active)
        return (await self.session.scalars(query)).first()

    async def energy_model(self, name: str) -> EnergyLossModel | None:
        query = select(EnergyLossModel).where(EnergyLossModel.name == name)
        return (await self.session.scalars(query)).first()

    async def add_energy_model(
        self, name: str, factors: dict[str, Any], created_by: str
    ) -> EnergyLossModel:
        model = EnergyLossModel(name=name, factors=factors, created_by=created_by, is_active=False)
        self.session.add(model)
        await self.session.flush()
        return model

    async def activate_energy_model(self, model_id: int) -> None:
        """Make one model active; the partial unique index allows only one at a time."""
        await self.session.execute(
            update(EnergyLossModel).where(EnergyLossModel.is_active).values(is_active=False)
        )
        await self.session.execute(
            update(EnergyLossModel).where(EnergyLossModel.id == model_id).values(is_active=True)
        )

    # --- runs and results --------------------------------------------------------------------
    async def start_run(self, run: NDARun) -> None:
        self.session.add(run)
        await self.session.flush()

    async def finish_run(self, run_id: uuid.UUID, status: str, stats: dict[str, Any]) -> None:
        await self.session.execute(
            update(NDARun)
            .where(NDARun.id == run_id)
            .values(status=status, stats=stats, finished_at=func.now())
        )

    async def run(self, run_id: uuid.UUID) -> NDARun | None:
        return await self.session.get(NDARun, run_id)

    async def lock_results(self) -> None:
        """Serialise result writes of concurrent runs (held until the transaction ends)."""
        await self.session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext('frames.nda.results'))")
        )

    async def save_reports(
        self, run_id: uuid.UUID, energy_loss_model_id: int | None, rows: list[dict[str, Any]]
    ) -> None:
        if not rows:
            return
        values = [
            row | {"run_id": run_id, "energy_loss_model_id": energy_loss_model_id} for row in rows
        ]
        for start in range(0, len(values), 2000):
            await self.session.execute(insert(NDAReport), values[start : start + 2000])

    async def replace_activity_metrics(
        self, weeks: Sequence[dt.date], metric_names: Sequence[str], records: list[tuple[Any, ...]]
    ) -> None:
        """Replace the engine's weekly metrics of ``weeks`` with ``records``.

        Records are (university_id, scope_type, scope_id, metric, period_start, value); they
        go through COPY into a staging table, then one upsert, so 100k rows take a moment.
        """
        starts = [_week_moment(w) for w in weeks]
        await self.session.execute(
            text(
                "DELETE FROM activity_metrics WHERE period = 'week' "
                "AND period_start = ANY(:starts) AND metric = ANY(:names)"
            ),
            {"starts": starts, "names": list(metric_names)},
        )
        if not records:
            return
        driver = await self._driver()
        await driver.execute(METRIC_STAGING)
        await driver.copy_records_to_table("nda_metric_staging", records=records)
        await driver.execute(
            """
            INSERT INTO activity_metrics
                   (university_id, scope_type, scope_id, metric, period, period_start, value)
            SELECT university_id, scope_type, scope_id, metric, 'week', period_start, value
            FROM nda_metric_staging
            ON CONFLICT (scope_type, scope_id, metric, period, period_start)
            DO UPDATE SET value = EXCLUDED.value, university_id = EXCLUDED.university_id,
                          computed_at = now()
            """
        )
        await driver.execute("DROP TABLE nda_metric_staging")

    async def replace_engagement(
        self, weeks: Sequence[dt.date], records: list[tuple[Any, ...]]
    ) -> None:
        """Records: (person_id, team_id, university_id, period_start, score, components JSON)."""
        starts = [_week_moment(w) for w in weeks]
        await self.session.execute(
            text(
                "DELETE FROM engagement_scores "
                "WHERE period = 'week' AND period_start = ANY(:starts)"
            ),
            {"starts": starts},
        )
        if not records:
            return
        driver = await self._driver()
        await driver.execute(ENGAGEMENT_STAGING)
        await driver.copy_records_to_table("nda_engagement_staging", records=records)
        await driver.execute(
            """
            INSERT INTO engagement_scores
                   (person_id, team_id, university_id, period, period_start, score, components)
            SELECT person_id, team_id, university_id, 'week', period_start, score, components
            FROM nda_engagement_staging
            ON CONFLICT (person_id, period, period_start)
            DO UPDATE SET score = EXCLUDED.score, components = EXCLUDED.components,
                          team_id = EXCLUDED.team_id, computed_at = now()
            """
        )
        await driver.execute("DROP TABLE nda_engagement_staging")

    async def save_week_states(self, run_id: uuid.UUID, fingerprints: dict[dt.date, str]) -> None:
        if not fingerprints:
            return
        rows = [
            {"week_start": w, "fingerprint": f, "run_id": run_id} for w, f in fingerprints.items()
        ]
        statement = insert(NDAWeekState)
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=["week_start"],
                set_={
                    "fingerprint": statement.excluded.fingerprint,
                    "run_id": statement.excluded.run_id,
                    "computed_at": func.now(),
                },
            ),
            rows,
        )

    async def forget_week_states(self) -> None:
        await self.session.execute(delete(NDAWeekState))

    # --- reports -------------------------------------------------------------------------------
    async def computed_weeks(self) -> list[dt.date]:
        query = select(NDAReport.week_start).distinct().order_by(NDAReport.week_start)
        return list((await self.session.scalars(query)).all())

    async def latest_reports(
        self,
        scopes: Sequence[tuple[str, str]],
        weeks: Sequence[dt.date],
        energy_loss_model_id: int | None = None,
    ) -> list[ReportRow]:
        """The most recent row per (scope, week, dimension) for the given scopes and weeks.

        Energy-loss rows are taken from ``energy_loss_model_id``'s runs when given, so results
        of every factor model stay queryable side by side.
        """
        if not scopes or not weeks:
            return []
        r = NDAReport
        scope_filter = func.concat(r.scope_type, ":", r.scope_id).in_(
            [f"{t}:{i}" for t, i in scopes]
        )
        query = (
            select(r, NDARun.energy_loss_model_id)
            .join(NDARun, NDARun.id == r.run_id, isouter=True)
            .where(scope_filter, r.week_start.in_(list(weeks)))
            .order_by(
                r.scope_type,
                r.scope_id,
                r.week_start,
                r.dimension,
                r.computed_at.desc(),
                r.id.desc(),
            )
        )
        if energy_loss_model_id is not None:
            query = query.where(
                (r.dimension != "energy_loss") | (r.energy_loss_model_id == energy_loss_model_id)
            )
        seen: set[tuple[str, str, dt.date, str]] = set()
        result = []
        for row, _ in (await self.session.execute(query)).all():
            key = (row.scope_type, row.scope_id, row.week_start, row.dimension)
            if key in seen:
                continue
            seen.add(key)
            result.append(
                ReportRow(
                    row.scope_type,
                    row.scope_id,
                    row.university_id,
                    row.week_start,
                    row.dimension,
                    row.raw_value,
                    row.unit,
                    row.risk,
                    row.band,
                    row.reading,
                    row.inputs,
                    row.run_id,
                    row.energy_loss_model_id,
                    row.computed_at,
                )
            )
        return result

    async def energy_loss_by_model(
        self, scope_type: str, scope_id: str
    ) -> list[tuple[str, dt.date, float | None]]:
        """(model name, week, loss) for every model that has results for a scope."""
        r, m = NDAReport, EnergyLossModel
        query = (
            select(m.name, r.week_start, r.raw_value)
            .join(m, m.id == r.energy_loss_model_id)
            .where(r.scope_type == scope_type, r.scope_id == scope_id, r.dimension == "energy_loss")
            .order_by(m.name, r.week_start, r.computed_at.desc())
            .ext(distinct_on(m.name, r.week_start))
        )
        return [
            (name, week, value) for name, week, value in (await self.session.execute(query)).all()
        ]

    async def names(self) -> tuple[dict[str, str], dict[str, tuple[str, str]], dict[str, str]]:
        """Person display names; team (name, university); university names."""
        people = dict((await self.session.execute(select(Person.id, Person.display_name))).all())
        teams = {
            tid: (name, university)
            for tid, name, university in (
                await self.session.execute(select(Team.id, Team.name, Team.university_id))
            ).all()
        }
        universities = dict(
            (await self.session.execute(select(University.id, University.name))).all()
        )
        return people, teams, universities


def _week_moment(week: dt.date) -> dt.datetime:
    return dt.datetime(week.year, week.month, week.day, tzinfo=dt.UTC)
