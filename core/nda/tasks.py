"""Project-tool measures per module: churn, ownership, due dates, dependencies, congruence.

Statuses differ between tools, so they are read by family: done (done, closed, completed,
resolved, merged), backlog (backlog, todo, to do, open, new) and everything else in
progress. A churn event is a reassignment or unassignment, a reopening (done → not done),
a step back (in progress → backlog), or a re-scoping edit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

DONE = frozenset({"done", "closed", "completed", "complete", "resolved", "merged", "shipped"})
BACKLOG = frozenset({"backlog", "todo", "to do", "to-do", "open", "new", "reopened"})
CHURN_EVENTS = frozenset(
    {
        "reassigned",
        "unassigned",
        "reopened",
        "rescoped",
        "scope_changed",
        "edited",
        "renamed",
        "retitled",
        "description_changed",
        "estimate_changed",
    }
)


def status_family(status: object) -> str:
    text = str(status or "").strip().lower()
    if text in DONE:
        return "done"
    if text in BACKLOG:
        return "backlog"
    return "in_progress"


def churn_mask(events: pd.DataFrame) -> np.ndarray:
    """Which task events are churn (see the module docstring)."""
    if events.empty:
        return np.zeros(0, dtype=bool)
    kind = events["event_type"].astype(str).str.lower()
    before = events["from_value"].map(status_family)
    after = events["to_value"].map(status_family)
    status = kind.isin({"status_changed", "transitioned", "moved"})
    reopened = status & (before == "done") & (after != "done")
    stepped_back = status & (before == "in_progress") & (after == "backlog")
    return (kind.isin(CHURN_EVENTS) | reopened | stepped_back).to_numpy()


@dataclass(frozen=True)
class TaskWindow:
    """Task facts of one module in one window; counts are plain numbers for the formulas."""

    active: int
    unowned: int
    churn_events: int
    due: int
    missed_due: int
    cross_dependent: int  # active tasks that depend on another module's task
    completed_cross: int  # of those, completed in the window
    coordination_needed: int  # pairs of people whose tasks depend on each other
    coordination_happened: int  # of those pairs, how many had an interface in the window
    churned_tasks: tuple[tuple[str, int], ...]  # (task id, churn events), most first


def task_windows(
    tasks: pd.DataFrame,
    events: pd.DataFrame,
    dependencies: pd.DataFrame,
    task_module: np.ndarray,
    labels: list[str],
    start: dt.datetime,
    end: dt.datetime,
    talked: set[tuple[int, int]],
) -> dict[str, TaskWindow]:
    """Task facts for every module that owns tasks.

    ``task_module`` is each task row's module index; ``talked`` holds unordered person
    pairs (low, high) with an interface in the window, for socio-technical congruence
    (Cataldo et al.: coordination needed by dependencies vs coordination that happened).
    """
    if tasks.empty:
        return {}
    start_ts, end_ts = pd.Timestamp(start), pd.Timestamp(end)
    created = tasks["created_at"]
    completed = tasks["completed_at"]
    active = ((created < end_ts) | created.isna()) & (completed.isna() | (completed >= start_ts))
    done_by_end = completed.notna() & (completed < end_ts)
    due = tasks["due_at"].notna() & (tasks["due_at"] >= start_ts) & (tasks["due_at"] < end_ts)
    missed = due & ~(completed.notna() & (completed <= tasks["due_at"]))
    index_of = {task_id: i for i, task_id in enumerate(tasks["task_id"])}

    in_window = (
        events[(events["ts"] >= start_ts) & (events["ts"] < end_ts)] if len(events) else events
    )
    churn_rows = in_window[churn_mask(in_window)] if len(in_window) else in_window
    churn_per_task = (
        churn_rows["task_id"].value_counts() if len(churn_rows) else pd.Series(dtype=int)
    )

    cross = np.zeros(len(tasks), dtype=bool)
    needed: dict[int, set[tuple[int, int]]] = {}
    assignees = tasks["assignees"].tolist()
    for task_id, other_id in zip(
        dependencies.get("task_id", []), dependencies.get("depends_on_task_id", []), strict=True
    ):
        i, j = index_of.get(task_id), index_of.get(other_id)
        if i is None or j is None:
            continue
        if task_module[i] != task_module[j]:
            cross[i] = True
        if not active.iat[i]:
            continue
        for p in assignees[i]:
            for q in assignees[j]:
                if p != q:
                    needed.setdefault(int(task_module[i]), set()).add((min(p, q), max(p, q)))

    result: dict[str, TaskWindow] = {}
    unowned = np.array([len(a) == 0 for a in assignees])
    for module in np.unique(task_module[task_module >= 0]):
        mine = task_module == module
        pairs = needed.get(int(module), set())
        churned = [
            (tid, int(churn_per_task.get(tid, 0)))
            for tid in tasks["task_id"][mine & active.to_numpy()]
            if churn_per_task.get(tid, 0)
        ]
        churned.sort(key=lambda item: (-item[1], item[0]))
        result[labels[module]] = TaskWindow(
            active=int((mine & active).sum()),
            unowned=int((mine & active & unowned).sum()),
            churn_events=int(sum(count for _, count in churned)),
            due=int((mine & due).sum()),
            missed_due=int((mine & missed).sum()),
            cross_dependent=int((mine & active & cross).sum()),
            completed_cross=int((mine & cross & done_by_end & (completed >= start_ts)).sum()),
            coordination_needed=len(pairs),
            coordination_happened=len(pairs & talked),
            churned_tasks=tuple(churned[:5]),
        )
    return result
