"""``frames nda run``: decide which weeks changed, compute them in a pool, store the results.

Incremental: a week's fingerprint hashes everything its results read — its own and its
look-back weeks' data digests (interfaces, messages, task events), the organisation
(people, teams, memberships, terms, accounts, tasks, assessments), the engine version,
the parameters and the active energy-loss model. Only weeks whose fingerprint differs
from the stored one are recomputed; results of earlier runs stay in ``nda_reports``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from core.db.engine import Database
from core.db.models import NDARun
from core.db.repositories.nda import NDARepository
from core.errors import ConfigurationError, InputError, InputProblem
from core.nda import ENGINE_VERSION
from core.nda.energy import EnergyModel
from core.nda.engine import ENGINE_METRICS, WeekResult
from core.nda.loading import Payload
from core.nda.params import NDAParameters
from core.nda.pool import compute_weeks, engagement_records, metric_records
from core.nda.weeks import ONE_WEEK, week_bounds, week_label, week_of, weeks_between

log = logging.getLogger(__name__)


@dataclass
class RunSummary:
    run_id: uuid.UUID | None
    weeks_considered: list[dt.date] = field(default_factory=list)
    weeks_computed: list[dt.date] = field(default_factory=list)
    reports: int = 0
    metrics: int = 0
    engagement: int = 0
    energy_model: str | None = None
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def up_to_date(self) -> bool:
        return not self.weeks_computed


def fingerprints(
    weeks: list[dt.date],
    week_stats: dict[dt.date, str],
    org_digest: str,
    model: EnergyModel,
    params: NDAParameters,
) -> dict[dt.date, str]:
    """Each week's fingerprint (see the module docstring)."""
    common = json.dumps(
        [ENGINE_VERSION, params.digest(), model.id, model.name, model.factors, org_digest],
        sort_keys=True,
        default=str,
    )
    result = {}
    for week in weeks:
        looked_at = [week - k * ONE_WEEK for k in range(params.lookback_weeks, -1, -1)]
        parts = [f"{w}:{week_stats.get(w, '')}" for w in looked_at]
        result[week] = hashlib.sha256("\n".join([common, *parts]).encode()).hexdigest()
    return result


async def _load_model(repo: NDARepository) -> EnergyModel:
    stored = await repo.active_energy_model()
    if stored is None:
        raise ConfigurationError(
            "no energy-loss model is active; activate one with `frames nda models activate NAME`"
        )
    return EnergyModel.from_factors(stored.id, stored.name, stored.factors)


async def plan_run(
    db: Database, *, week: dt.date | None, force: bool, params: NDAParameters
) -> tuple[list[dt.date], dict[dt.date, str], EnergyModel, dt.date | None]:
    """Weeks to consider, their fingerprints, the active model and the first data week."""
    async with db.sessions() as session:
        repo = NDARepository(session)
        model = await _load_model(repo)
        first, last = await repo.data_extent()
        if first is None or last is None:
            return [], {}, model, None
        data_start = week_of(first)
        all_weeks = weeks_between(first, last)
        if week is not None:
            if week not in all_weeks:
                raise InputError(
                    [
                        InputProblem(
                            "--week",
                            None,
                            None,
                            f"{week_label(week)} has no captured data (data covers "
                            f"{week_label(all_weeks[0])} to {week_label(all_weeks[-1])})",
                        )
                    ]
                )
            all_weeks = [week]
        stats = await repo.week_stats()
        org = await repo.org_digest()
        current = fingerprints(all_weeks, stats, org, model, params)
        stored = {} if force else await repo.week_states()
    return all_weeks, {w: f for w, f in current.items() if stored.get(w) != f}, model, data_start


async def load_payload(
    db: Database,
    first_week: dt.date,
    last_week: dt.date,
    model: EnergyModel,
    data_start: dt.date | None,
    params: NDAParameters,
) -> Payload:
    start = week_bounds(first_week - params.lookback_weeks * ONE_WEEK)[0]
    end = week_bounds(last_week)[1]
    async with db.sessions() as session:
        repo = NDARepository(session)
        programs = await repo.program_ids()
        return Payload(
            people=await repo.people(),
            memberships=await repo.memberships(),
            teams=await repo.teams(),
            terms=await repo.terms(),
            interfaces_csv=await repo.interfaces_csv(start, end),
            messages_csv=await repo.messages_csv(start, end),
            links_csv=await repo.answer_links_csv(start, end),
            tasks=await repo.tasks(),
            task_events=await repo.task_events(),
            task_dependencies=await repo.task_dependencies(),
            assessments=await repo.assessments(model.assessed_factors),
            energy_model_id=model.id,
            energy_model_name=model.name,
            energy_model_factors=dict(model.factors),
            program_id=programs[0] if len(programs) == 1 else None,
            data_start=data_start,
        )


async def run_nda(
    db: Database,
    *,
    week: dt.date | None = None,
    force: bool = False,
    params: NDAParameters | None = None,
    workers: int | None = None,
    actor: str | None = None,
    progress: Callable[[str], None] = lambda message: None,
) -> RunSummary:
    """Compute every week whose inputs changed (or ``week`` alone), and store the results."""
    params = params or NDAParameters()
    clock = time.perf_counter()
    seconds: dict[str, float] = {}
    weeks, changed, model, data_start = await plan_run(db, week=week, force=force, params=params)
    seconds["plan"] = time.perf_counter() - clock
    summary = RunSummary(None, weeks, sorted(changed), energy_model=model.name)
    if not changed:
        summary.seconds = seconds
        return summary
    to_compute = sorted(changed)
    progress(f"{len(to_compute)} of {len(weeks)} weeks to compute with model {model.name!r}")

    run_id = uuid.uuid4()
    async with db.transaction() as session:
        await NDARepository(session).start_run(
            NDARun(
                id=run_id,
                engine_version=ENGINE_VERSION,
                parameters=params.as_dict(),
                energy_loss_model_id=model.id,
                energy_loss_model_name=model.name,
                energy_loss_factors=dict(model.factors),
                weeks=to_compute,
                actor=actor,
                stats={},
            )
        )
    summary.run_id = run_id
    try:
        step = time.perf_counter()
        payload = await load_payload(db, to_compute[0], to_compute[-1], model, data_start, params)
        seconds["load"] = time.perf_counter() - step
        progress(f"loaded {len(payload.interfaces_csv) / 1e6:.1f} MB of interfaces")

        step = time.perf_counter()
        done = 0

        def on_week(result: WeekResult) -> None:
            nonlocal done
            done += 1
            progress(f"computed {week_label(result.week_start)} ({done}/{len(to_compute)})")

        results = await compute_weeks(payload, to_compute, params, workers=workers, on_week=on_week)
        seconds["compute"] = time.perf_counter() - step

        step = time.perf_counter()
        await _store(db, run_id, model, results, changed, summary, seconds)
        seconds["store"] = time.perf_counter() - step
    except BaseException:
        async with db.transaction() as session:
            await NDARepository(session).finish_run(run_id, "failed", {"seconds": seconds})
        raise
    seconds["total"] = time.perf_counter() - clock
    summary.seconds = seconds
    timings: dict[str, float] = {}
    for result in results:
        for name, value in result.timings.items():
            timings[name] = timings.get(name, 0.0) + value
    async with db.transaction() as session:
        await NDARepository(session).finish_run(
            run_id,
            "succeeded",
            {
                "seconds": seconds,
                "worker_seconds": timings,
                "reports": summary.reports,
                "metrics": summary.metrics,
                "engagement": summary.engagement,
            },
        )
    return summary


async def _store(
    db: Database,
    run_id: uuid.UUID,
    model: EnergyModel,
    results: list[WeekResult],
    changed: dict[dt.date, str],
    summary: RunSummary,
    seconds: dict[str, float],
) -> None:
    """All of a run's results in one transaction: a failed run leaves nothing half-written."""
    clock = time.perf_counter()
    weeks = [r.week_start for r in results]
    reports = [row for r in results for row in r.reports]
    metrics = [record for r in results for record in r.metric_records or metric_records(r)]
    engagement = [
        record for r in results for record in r.engagement_records or engagement_records(r)
    ]
    seconds["store_prepare"] = time.perf_counter() - clock
    async with db.transaction() as session:
        repo = NDARepository(session)
        await repo.lock_results()
        for name, step in (
            ("store_reports", repo.save_reports(run_id, model.id, reports)),
            ("store_metrics", repo.replace_activity_metrics(weeks, ENGINE_METRICS, metrics)),
            ("store_engagement", repo.replace_engagement(weeks, engagement)),
            ("store_states", repo.save_week_states(run_id, changed)),
        ):
            clock = time.perf_counter()
            await step
            seconds[name] = time.perf_counter() - clock
    summary.reports, summary.metrics, summary.engagement = (
        len(reports),
        len(metrics),
        len(engagement),
    )
