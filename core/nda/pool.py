"""The process pool that runs week computations off the event loop.

Each worker receives the run's payload once (as the pool initializer's argument), builds
the dataset and resolves questions once, then computes the weeks it is given. The pool
lives for one run and is shut down when the run ends, fails or is cancelled.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import pandas as pd

from core.nda.dataset import NDADataset
from core.nda.engine import WeekResult, compute_week
from core.nda.loading import Payload, dataset_from_payload
from core.nda.params import NDAParameters
from core.nda.questions import resolve_questions
from core.nda.weeks import week_bounds
from core.process import usable_cores

log = logging.getLogger(__name__)

_dataset: NDADataset | None = None
_questions: pd.DataFrame | None = None
_params: NDAParameters | None = None


def _install(payload: Payload, params: NDAParameters) -> None:
    global _dataset, _questions, _params
    _dataset = dataset_from_payload(payload)
    _questions = resolve_questions(_dataset)
    _params = params


def _compute(week_start: dt.date) -> WeekResult:
    if _dataset is None or _params is None:
        raise RuntimeError("NDA worker used before its dataset was installed")
    result = compute_week(_dataset, week_start, _params, questions=_questions)
    result.metric_records = metric_records(result)
    result.engagement_records = engagement_records(result)
    result.metrics = result.engagement = pd.DataFrame()  # sent back as records only
    return result


def metric_records(result: WeekResult) -> list[tuple[Any, ...]]:
    frame = result.metrics
    if frame.empty:
        return []
    start = week_bounds(result.week_start)[0]
    universities = frame["university_id"].astype(object).where(frame["university_id"].notna(), None)
    return list(
        zip(
            universities.tolist(),
            frame["scope_type"].tolist(),
            frame["scope_id"].astype(str).tolist(),
            frame["metric"].tolist(),
            [start] * len(frame),
            frame["value"].astype(float).tolist(),
            strict=True,
        )
    )


def engagement_records(result: WeekResult) -> list[tuple[Any, ...]]:
    frame = result.engagement
    if frame.empty:
        return []
    start = week_bounds(result.week_start)[0]
    teams = [t if isinstance(t, str) else None for t in frame["team_id"].tolist()]
    return list(
        zip(
            frame["person_id"].tolist(),
            teams,
            frame["university_id"].tolist(),
            [start] * len(frame),
            frame["score"].astype(float).tolist(),
            frame["components"].tolist(),
            strict=True,
        )
    )


def _context() -> multiprocessing.context.BaseContext:
    # forkserver: workers fork from a clean server process (no inherited event loop or
    # threads), with the engine's imports preloaded so they start in milliseconds.
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["core.nda.pool"])
        return context
    return multiprocessing.get_context("spawn")


def default_workers() -> int:
    return usable_cores()


async def compute_weeks(
    payload: Payload,
    weeks: list[dt.date],
    params: NDAParameters,
    *,
    workers: int | None = None,
    on_week: Callable[[WeekResult], None] = lambda result: None,
) -> list[WeekResult]:
    """Compute ``weeks`` in a process pool; results come back in week order."""
    if not weeks:
        return []
    size = max(1, min(len(weeks), workers or default_workers()))
    loop = asyncio.get_running_loop()
    pool = ProcessPoolExecutor(
        max_workers=size, mp_context=_context(), initializer=_install, initargs=(payload, params)
    )
    shut_down = False
    try:
        # Longest-first is not knowable; later weeks have the longest look-back, start them first.
        futures = {
            loop.run_in_executor(pool, _compute, week): week for week in sorted(weeks, reverse=True)
        }
        results: dict[dt.date, WeekResult] = {}
        for finished in asyncio.as_completed(list(futures)):
            result = await finished
            results[result.week_start] = result
            on_week(result)
        await asyncio.to_thread(pool.shutdown, wait=True)
        shut_down = True
        return [results[week] for week in sorted(weeks)]
    finally:
        if not shut_down:
            # Cancelled or failed: drop queued weeks without waiting for running ones.
            pool.shutdown(wait=False, cancel_futures=True)
