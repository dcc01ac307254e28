"""The evidence behind each dimension: the interfaces, questions and tasks that drove it.

Items name people by ``person_id``; reports turn them into names (or pseudonyms). Each
interface item keeps one example ``source:source_id`` so it can be looked up in the
``interfaces`` view.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from core.nda.context import Modules, WeekContext
from core.nda.dimensions import ModuleFacts

TOP = 5


class EvidenceFinder:
    def __init__(self, ctx: WeekContext, modules: Modules) -> None:
        self.ctx = ctx
        self.modules = modules
        self.person_ids = ctx.ds.people["person_id"].to_numpy(object)
        self.team_ids = ctx.ds.teams["team_id"].to_numpy(object)

    @cached_property
    def _pair_arrays(self) -> dict[str, np.ndarray]:
        """Window interfaces summed per (source person, target person or team), heaviest first.

        Each pair keeps its heaviest interface as the example to look up.
        """
        rows = self.ctx.window_rows
        ms, md = self.modules.of_rows(rows, self.ctx.ds)
        src = rows["src"].to_numpy(np.int64)
        dst = rows["dst"].to_numpy(np.int64)
        to_team = rows["to_team"].to_numpy(np.int64)
        people, teams = len(self.person_ids) + 1, len(self.team_ids) + 1
        summed = group_sums(
            (src * people + dst + 1) * teams + to_team + 1, rows["weight"].to_numpy(float)
        )
        first = summed.example
        types = rows["interface_type"].to_numpy(object)
        sources = rows["source"].to_numpy(object)
        source_ids = rows["source_id"].to_numpy(np.int64)
        order = np.argsort(-summed.weight, kind="stable")
        pick = first[order]
        return {
            "src": src[pick],
            "dst": dst[pick],
            "to_team": to_team[pick],
            "ms": ms[pick],
            "md": md[pick],
            "weight": summed.weight[order],
            "interfaces": summed.count[order],
            "source": sources[pick],
            "source_id": source_ids[pick],
            "type": types[pick],
        }

    def _pair_items(self, chosen: np.ndarray, why: str) -> list[dict[str, Any]]:
        a = self._pair_arrays
        items = []
        for i in chosen[:TOP]:
            dst = int(a["dst"][i])
            items.append(
                {
                    "kind": "interfaces",
                    "from": self.person_ids[int(a["src"][i])],
                    "to": self.person_ids[dst] if dst >= 0 else None,
                    "to_team": self.team_ids[a["to_team"][i]] if a["to_team"][i] >= 0 else None,
                    "interfaces": int(a["interfaces"][i]),
                    "weight": round(float(a["weight"][i]), 3),
                    "example": f"{a['source'][i]}:{a['source_id'][i]}",
                    "type": a["type"][i],
                    "why": why,
                }
            )
        return items

    def for_dimension(self, dimension: str, index: int, facts: ModuleFacts) -> list[dict[str, Any]]:
        if dimension == "actor_autonomy":
            return self._questions(index, outside_answers=True)
        if dimension == "temporal_misalignment":
            return self._questions(index, outside_answers=False)
        if dimension == "emergent_outputs":
            tasks = facts.tasks.churned_tasks if facts.tasks is not None else ()
            return [
                {"kind": "task", "task_id": task_id, "churn_events": count, "why": "churned"}
                for task_id, count in tasks[:TOP]
            ]
        if dimension == "coupling_degradation":
            return self._silent_ties(index)
        a = self._pair_arrays
        if not len(a["ms"]):
            return []
        inside = (a["ms"] == index) & (a["md"] == index)
        crossing = ((a["ms"] == index) | (a["md"] == index)) & ~inside
        # Pairs are sorted by weight, heaviest first: the first indices are the top ones.
        if dimension == "partitioned_knowledge" and facts.ei_index < 0:
            return self._pair_items(np.flatnonzero(inside), "strongest tie inside the module")
        if dimension in ("partitioned_knowledge", "integration_cost"):
            why = (
                "coordination across the boundary"
                if dimension == "integration_cost"
                else "strongest tie across the boundary"
            )
            return self._pair_items(np.flatnonzero(crossing), why)
        return []

    @cached_property
    def _question_arrays(self) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
        q = self.ctx.window_questions.reset_index(drop=True)
        pm = self.modules.person_module
        asker = q["asker"].to_numpy(np.int64)
        answerer = q["answerer"].to_numpy(np.int64)
        mine = pm[asker]
        # As in the formula: an answer from faculty counts as outside help even from the
        # team's own adviser; only the module's students answering keeps it autonomous.
        by_own_students = (pm[np.maximum(answerer, 0)] == mine) & self.ctx.students[
            np.maximum(answerer, 0)
        ]
        outside = (answerer >= 0) & ~by_own_students
        late = ~(q["latency_hours"] <= self.ctx.params.answer_within_hours).to_numpy(bool)
        # Plain arrays for the few items each module shows (pandas scalar access is slow).
        self._q_columns = {
            "question_id": q["question_id"].to_numpy(np.int64),
            "asker": asker,
            "answerer": answerer,
            "latency": q["latency_hours"].to_numpy(float),
            "asked": q["ts"].array.asi8,
        }
        return q, mine, outside, late

    def _questions(self, index: int, *, outside_answers: bool) -> list[dict[str, Any]]:
        q, module, outside, late = self._question_arrays
        if q.empty:
            return []
        c = self._q_columns
        if outside_answers:
            chosen = np.flatnonzero((module == index) & outside)
            order = chosen[np.argsort(-c["asked"][chosen], kind="stable")]
            why = "answered by faculty or another module, not by the module's students"
        else:
            chosen = np.flatnonzero((module == index) & late)
            latency = np.nan_to_num(c["latency"][chosen], nan=np.inf)
            order = chosen[np.argsort(-latency, kind="stable")]
            why = "answered late or not at all"
        items = []
        for i in order[:TOP]:
            answerer, latency = int(c["answerer"][i]), float(c["latency"][i])
            items.append(
                {
                    "kind": "question",
                    "example": f"discord-message:{int(c['question_id'][i])}",
                    "from": self.person_ids[answerer] if answerer >= 0 else None,
                    "to": self.person_ids[int(c["asker"][i])],
                    "asked_at": pd.Timestamp(int(c["asked"][i]), tz="UTC").isoformat(),
                    "latency_hours": None if np.isnan(latency) else round(latency, 1),
                    "why": why,
                }
            )
        return items

    @cached_property
    def _silent_pairs(self) -> dict[str, np.ndarray]:
        """Person pairs (directed as before) active in the previous window, silent in this one."""
        previous = self.ctx.previous_rows
        previous = previous[previous["dst"].to_numpy() >= 0]
        current = self.ctx.window_rows
        current = current[current["dst"].to_numpy() >= 0]
        n = len(self.modules.person_module)

        def keys(rows: pd.DataFrame) -> np.ndarray:
            src, dst = rows["src"].to_numpy(np.int64), rows["dst"].to_numpy(np.int64)
            return np.minimum(src, dst) * n + np.maximum(src, dst)

        silent = ~np.isin(keys(previous), keys(current))
        src = previous["src"].to_numpy(np.int64)[silent]
        dst = previous["dst"].to_numpy(np.int64)[silent]
        summed = group_sums(src * n + dst, previous["weight"].to_numpy(float)[silent])
        order = np.argsort(-summed.weight, kind="stable")
        pick = summed.example[order]
        sources = previous["source"].to_numpy(object)[silent]
        source_ids = previous["source_id"].to_numpy(np.int64)[silent]
        pm = self.modules.person_module
        return {
            "src": src[pick],
            "dst": dst[pick],
            "ms": pm[src[pick]],
            "md": pm[dst[pick]],
            "weight": summed.weight[order],
            "interfaces": summed.count[order],
            "source": sources[pick],
            "source_id": source_ids[pick],
        }

    def _silent_ties(self, index: int) -> list[dict[str, Any]]:
        a = self._silent_pairs
        chosen = np.flatnonzero((a["ms"] == index) | (a["md"] == index))[:TOP]
        return [
            {
                "kind": "interfaces",
                "from": self.person_ids[a["src"][i]],
                "to": self.person_ids[a["dst"][i]],
                "interfaces": int(a["interfaces"][i]),
                "weight": round(float(a["weight"][i]), 3),
                "example": f"{a['source'][i]}:{a['source_id'][i]}",
                "why": "tie active in the previous window, silent in this one",
            }
            for i in chosen
        ]


@dataclass(frozen=True)
class GroupSums:
    weight: np.ndarray  # per group
    count: np.ndarray
    example: np.ndarray  # row index of each group's heaviest row


def group_sums(keys: np.ndarray, weights: np.ndarray) -> GroupSums:
    """Sum and count rows per key, and find each key's heaviest row (numpy, no pandas)."""
    if len(keys) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return GroupSums(np.zeros(0), empty, empty)
    _, group = np.unique(keys, return_inverse=True)
    weight = np.bincount(group, weights=weights)
    count = np.bincount(group)
    order = np.lexsort((-weights, group))
    starts = np.flatnonzero(np.r_[True, np.diff(group[order]) != 0])
    return GroupSums(weight, count, order[starts])
