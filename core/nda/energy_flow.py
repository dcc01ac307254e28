"""Energy loss of one window's interfaces: factor categories measured, losses, aggregates."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from core.nda.context import Modules, WeekContext
from core.nda.energy import (
    Labels,
    PathLoss,
    alignment_categories,
    as_categorical,
    autonomy_categories,
    bond_categories,
    bond_scores,
    knowledge_categories,
    path_losses,
)
from core.nda.facts import touching


@dataclass
class WindowEnergy:
    loss: np.ndarray  # per window interface
    categories: dict[str, Labels]  # factor → category per interface


def measure_categories(ctx: WeekContext, intra_share_by_team: np.ndarray) -> dict[str, Labels]:
    """The measured factors' categories (and assessed ones) for every window interface."""
    ds, rows = ctx.ds, ctx.window_rows
    thresholds = ds.energy_model.thresholds
    if len(rows) == 0:
        return {}
    src = rows["src"].to_numpy(np.int64)
    dst = rows["dst"].to_numpy(np.int64)
    team_codes = rows["to_team"].to_numpy(np.int64)
    categories: dict[str, Labels] = {
        "knowledge_type": knowledge_categories(
            rows["codified"].to_numpy(bool) | (rows["interface_type"] == "documentation").to_numpy()
        ),
        "bond_strength": _bonds(ctx, rows, src, dst, team_codes),
        "temporal_alignment": alignment_categories(
            _answer_latency(ctx, rows), _past_due(ctx, rows), thresholds
        ),
        "actor_autonomy": _autonomy(ctx, intra_share_by_team, src, dst, team_codes),
    }
    for factor in ds.energy_model.assessed_factors:
        categories[factor] = _assessed(ds.assessments, rows, factor)
    return categories


def _bonds(
    ctx: WeekContext, rows: pd.DataFrame, src: np.ndarray, dst: np.ndarray, team_codes: np.ndarray
) -> pd.Categorical:
    """Bond strength of each interface's pair (unordered; a team target is its own end)."""
    people = len(ctx.ds.people)
    other = np.where(dst >= 0, dst, people + team_codes)
    low, high = np.minimum(src, other), np.maximum(src, other)
    forward = src <= other
    _, pair = np.unique(low * (people + len(ctx.ds.teams) + 1) + high, return_inverse=True)
    pairs = int(pair.max()) + 1
    # Pair statistics with numpy, not a pandas groupby: this runs on every window.
    count = np.bincount(pair, minlength=pairs)
    both_ways = (np.bincount(pair, weights=forward, minlength=pairs) > 0) & (
        np.bincount(pair, weights=~forward, minlength=pairs) > 0
    )
    last = np.full(pairs, np.iinfo(np.int64).min)
    np.maximum.at(last, pair, rows["ts"].array.asi8)
    days = (pd.Timestamp(ctx.end).value - last) / 86_400e9
    thresholds = ctx.ds.energy_model.thresholds
    bond = bond_categories(
        bond_scores(count / ctx.params.window_weeks, days, both_ways, thresholds), thresholds
    )
    return pd.Categorical.from_codes(bond.codes[pair], categories=bond.categories)


def _answer_latency(ctx: WeekContext, rows: pd.DataFrame) -> np.ndarray:
    """Hours between a question and the interface's message, when that message answered it."""
    answered = ctx.all_questions
    answered = answered[answered["answer_id"] >= 0].drop_duplicates("answer_id")
    lookup = pd.Index(answered["answer_id"].to_numpy(np.int64))
    position = lookup.get_indexer(rows["message_id"].to_numpy(np.int64))
    latency = answered["latency_hours"].to_numpy(float)
    return np.where(
        position >= 0, latency[np.maximum(position, 0)] if len(latency) else np.nan, np.nan
    )


def _autonomy(
    ctx: WeekContext,
    intra_share_by_team: np.ndarray,
    src: np.ndarray,
    dst: np.ndarray,
    team_codes: np.ndarray,
) -> pd.Categorical:
    """From the intra-team share of the interface's teams (mean of both ends' teams)."""
    person_team = ctx.person_team
    src_share = _share_of(intra_share_by_team, person_team[src])
    dst_team = np.where(dst >= 0, person_team[np.maximum(dst, 0)], team_codes)
    dst_share = _share_of(intra_share_by_team, dst_team)
    both = np.vstack([src_share, dst_share])
    counted = np.isfinite(both).sum(axis=0)
    share = np.where(counted > 0, np.nansum(both, axis=0) / np.maximum(counted, 1), 0.0)
    return autonomy_categories(share, ctx.ds.energy_model.thresholds)


def _share_of(shares: np.ndarray, teams: np.ndarray) -> np.ndarray:
    if not len(shares):
        return np.full(len(teams), np.nan)
    return np.where(teams >= 0, shares[np.maximum(teams, 0)], np.nan)


def _past_due(ctx: WeekContext, rows: pd.DataFrame) -> np.ndarray:
    """Task interfaces after the task's due date, or on a task finished late."""
    tasks = ctx.ds.tasks
    task = rows["task"].to_numpy(np.int64)
    late = np.zeros(len(rows), dtype=bool)
    if tasks.empty or not (task >= 0).any():
        return late
    chosen = np.flatnonzero(task >= 0)
    due = tasks["due_at"].iloc[task[chosen]].reset_index(drop=True)
    completed = tasks["completed_at"].iloc[task[chosen]].reset_index(drop=True)
    when = rows["ts"].iloc[chosen].reset_index(drop=True)
    late_done = completed.notna() & due.notna() & (completed > due)
    worked_late = due.notna() & (when > due) & completed.isna()
    late[chosen] = (late_done | worked_late).to_numpy(bool)
    return late


def _assessed(assessments: pd.DataFrame, rows: pd.DataFrame, layer: str) -> pd.Categorical:
    """A researcher-added factor: the latest assessed category of each interface."""
    chosen = assessments[assessments["layer_id"] == layer]
    if chosen.empty:
        return pd.Categorical.from_codes(np.zeros(len(rows), dtype=np.int8), categories=["default"])
    lookup = chosen.drop_duplicates(["source", "source_id"], keep="last").set_index(
        ["source", "source_id"]
    )
    index = pd.MultiIndex.from_arrays([rows["source"].astype(str), rows["source_id"]])
    return pd.Categorical(lookup["category"].reindex(index).fillna("default").to_numpy(object))


def window_energy(ctx: WeekContext, intra_share_by_team: np.ndarray) -> WindowEnergy:
    categories = measure_categories(ctx, intra_share_by_team)
    if not categories:
        return WindowEnergy(np.zeros(0), {})
    return WindowEnergy(ctx.ds.energy_model.losses(categories), categories)


@dataclass
class ModuleEnergy:
    loss: float  # weight-averaged loss of interfaces touching the module (NaN: none)
    factor_shares: dict[str, dict[str, float]]
    paths: list[PathLoss]
    # The interfaces that lose the most knowledge (weight × loss), with their categories.
    lossiest: list[dict[str, Any]] = field(default_factory=list)


def module_energy(ctx: WeekContext, modules: Modules, energy: WindowEnergy) -> list[ModuleEnergy]:
    rows = ctx.window_rows
    k = modules.k
    if len(rows) == 0:
        return [ModuleEnergy(float("nan"), {}, []) for _ in range(k)]
    ms, md = modules.of_rows(rows, ctx.ds)
    weight = rows["weight"].to_numpy(float)
    total = touching(ms, md, weight, k)
    lost = touching(ms, md, weight * energy.loss, k)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = lost / total
    shares: list[dict[str, dict[str, float]]] = [{} for _ in range(k)]
    for factor, values in energy.categories.items():
        labels = as_categorical(values)
        for code, category in enumerate(labels.categories):
            part = touching(ms, md, weight * (labels.codes == code), k)
            for i in np.flatnonzero(total > 0):
                shares[i].setdefault(factor, {})[str(category)] = round(
                    float(part[i] / total[i]), 4
                )
    paths = path_losses(modules.labels, ms, md, energy.loss, weight)
    by_source: dict[str, list[PathLoss]] = {}
    for path in paths:
        by_source.setdefault(path.source, []).append(path)
    lossiest = _lossiest(ctx, rows, ms, md, weight * energy.loss, energy, k)
    return [
        ModuleEnergy(float(mean[i]), shares[i], by_source.get(label, []), lossiest[i])
        for i, label in enumerate(modules.labels)
    ]


def _lossiest(
    ctx: WeekContext,
    rows: pd.DataFrame,
    ms: np.ndarray,
    md: np.ndarray,
    lost: np.ndarray,
    energy: WindowEnergy,
    k: int,
    top: int = 3,
) -> list[list[dict[str, Any]]]:
    """Per module, the interfaces losing the most knowledge: energy loss per interface."""
    order = np.argsort(-lost, kind="stable")
    people = ctx.ds.people["person_id"].to_numpy(object)
    teams = ctx.ds.teams["team_id"].to_numpy(object)
    labels = {factor: as_categorical(values) for factor, values in energy.categories.items()}
    src, dst = rows["src"].to_numpy(np.int64), rows["dst"].to_numpy(np.int64)
    to_team = rows["to_team"].to_numpy(np.int64)
    sources, ids = rows["source"].to_numpy(object), rows["source_id"].to_numpy(np.int64)
    types = rows["interface_type"].to_numpy(object)
    result: list[list[dict[str, Any]]] = [[] for _ in range(k)]
    for i in order:
        if lost[i] <= 0 or all(len(items) >= top for items in result):
            break
        for module in {int(ms[i]), int(md[i])} - {-1}:
            if len(result[module]) < top:
                result[module].append(
                    {
                        "kind": "interface",
                        "from": people[src[i]],
                        "to": people[dst[i]] if dst[i] >= 0 else None,
                        "to_team": teams[to_team[i]] if to_team[i] >= 0 else None,
                        "type": types[i],
                        "example": f"{sources[i]}:{ids[i]}",
                        "loss": round(float(energy.loss[i]), 3),
                        "categories": {f: str(c[i]) for f, c in labels.items()},
                    }
                )
    return result


def paths_json(paths: list[PathLoss]) -> list[dict[str, Any]]:
    return [
        {"to": p.target, "loss": round(p.loss, 4), "via": list(p.via)}
        for p in sorted(paths, key=lambda p: -p.loss)
    ]
