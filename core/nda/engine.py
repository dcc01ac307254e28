"""One week's NDA computation: network measures, the six dimensions, energy loss, engagement.

Pure and synchronous: it takes a dataset and returns rows to store. The service runs it in
a process pool, one week per task.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from core.nda import DIMENSIONS, ENERGY_LOSS
from core.nda.context import KNOWLEDGE_TYPES, Modules, WeekContext
from core.nda.dataset import NDADataset
from core.nda.dimensions import FORMULAS, DimensionResult, ModuleFacts, _clean, program_summary
from core.nda.energy_flow import ModuleEnergy, module_energy, paths_json, window_energy
from core.nda.evidence import EvidenceFinder
from core.nda.facts import module_facts
from core.nda.graph import person_graph
from core.nda.lifecycle import stage_shares
from core.nda.measures import (
    BROKERAGE_ROLES,
    FAST,
    NODE_MEASURES,
    MeasureEngine,
    graph_density,
    graph_reciprocity,
    group_measures,
)
from core.nda.params import NDAParameters
from core.nda.questions import resolve_questions

ENERGY = ENERGY_LOSS
GROUP_METRICS = (
    "size",
    "density",
    "reciprocity",
    "ei_index",
    "ei_ties",
    "internal_weight",
    "external_weight",
)
PROGRAM_METRICS = (
    "people_active",
    "ties",
    "interfaces",
    "density",
    "reciprocity",
    "modularity_teams",
    "modularity_louvain",
    "communities_louvain",
)
MODULE_METRICS = (
    "members",
    "interfaces_window",
    "intra_share",
    "energy_loss",
    "knowledge_outgoing_share",
    "bus_factor",
    "bus_factor_at_graduation",
    "topics_only_outgoing",
    "handoff_coverage",
)
LIFECYCLE_METRICS = ("incoming_share", "established_share", "outgoing_share", "students")
# Every activity_metrics name the engine writes: a recomputed week replaces exactly these.
ENGINE_METRICS = tuple(
    sorted(
        {
            *NODE_MEASURES,
            *GROUP_METRICS,
            *(f"brokerage_{role}" for role in BROKERAGE_ROLES),
            "mean_constraint",
            *PROGRAM_METRICS,
            *MODULE_METRICS,
            *LIFECYCLE_METRICS,
        }
    )
)


@dataclass
class WeekResult:
    week_start: dt.date
    reports: list[dict[str, Any]] = field(default_factory=list)
    metrics: pd.DataFrame = field(default_factory=pd.DataFrame)
    engagement: pd.DataFrame = field(default_factory=pd.DataFrame)
    timings: dict[str, float] = field(default_factory=dict)
    # Rows ready for COPY, filled in the worker so the parent's event loop only writes.
    metric_records: list[tuple[Any, ...]] | None = None
    engagement_records: list[tuple[Any, ...]] | None = None


class _Clock:
    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.timings[name] = self.timings.get(name, 0.0) + now - self._last
        self._last = now


def compute_week(
    ds: NDADataset,
    week_start: dt.date,
    params: NDAParameters | None = None,
    *,
    engine: MeasureEngine = FAST,
    questions: pd.DataFrame | None = None,
) -> WeekResult:
    params = params or NDAParameters()
    clock = _Clock()
    if questions is None:
        questions = resolve_questions(ds)
    ctx = WeekContext(ds, week_start, params, questions)
    result = WeekResult(week_start)
    metric_frames: list[pd.DataFrame] = []

    metric_frames += _network_metrics(ctx, engine)
    clock.lap("network")

    team_facts = module_facts(ctx, ctx.teams)
    university_facts = module_facts(ctx, ctx.universities)
    clock.lap("facts")

    intra = np.array([f.intra_share for f in team_facts]) if team_facts else np.zeros(0)
    energy = window_energy(ctx, intra)
    team_energy = module_energy(ctx, ctx.teams, energy)
    university_energy = module_energy(ctx, ctx.universities, energy)
    clock.lap("energy")

    team_results = _dimension_rows(ctx, ctx.teams, team_facts, team_energy, result)
    _dimension_rows(ctx, ctx.universities, university_facts, university_energy, result)
    _program_rows(ctx, team_results, team_facts, energy, result)
    clock.lap("dimensions")

    metric_frames.append(_lifecycle_metrics(ctx, team_facts, team_energy))
    metric_frames.append(
        _module_metrics(ctx, ctx.universities, university_facts, university_energy)
    )
    result.metrics = (
        pd.concat([f for f in metric_frames if len(f)], ignore_index=True)
        if metric_frames
        else pd.DataFrame()
    )
    result.engagement = _engagement(ctx)
    clock.lap("metrics")
    result.timings = clock.timings
    return result


# --- network measures -------------------------------------------------------------------------


def _metric_frame(
    scope_type: str, scope_ids: list[str], universities: list[str | None], values: pd.DataFrame
) -> pd.DataFrame:
    """Wide measures (one column per metric) → long activity_metrics rows, NaNs dropped."""
    if values.empty:
        return pd.DataFrame()
    wide = values.copy()
    wide["scope_id"] = scope_ids
    wide["university_id"] = universities
    long = wide.melt(id_vars=["scope_id", "university_id"], var_name="metric", value_name="value")
    long = long[np.isfinite(long["value"].to_numpy(float))]
    long.insert(0, "scope_type", scope_type)
    return long


def _network_metrics(ctx: WeekContext, engine: MeasureEngine) -> list[pd.DataFrame]:
    """The week's snapshot graph: per-person measures, per-group measures, program measures."""
    ds = ctx.ds
    graph, codes = person_graph(ds, ctx.week_rows)
    if graph.n == 0:
        return []
    team_of = ctx.person_team[codes]
    nodes = engine.node_measures(graph, team_of)
    person_universities = ds.people["university_id"].to_numpy(object)[codes].tolist()
    frames = [_metric_frame("person", graph.labels, person_universities, nodes)]

    team_labels = ctx.teams.labels
    teams = group_measures(graph, team_of, team_labels)
    team_extra = pd.DataFrame(
        {
            f"brokerage_{role}": np.bincount(
                team_of[team_of >= 0],
                weights=nodes[role].to_numpy()[team_of >= 0],
                minlength=len(team_labels),
            )
            for role in BROKERAGE_ROLES
        }
    )
    constraint = nodes["constraint"].to_numpy()
    valid = (team_of >= 0) & np.isfinite(constraint)
    with np.errstate(invalid="ignore", divide="ignore"):
        team_extra["mean_constraint"] = np.bincount(
            team_of[valid], weights=constraint[valid], minlength=len(team_labels)
        ) / np.bincount(team_of[valid], minlength=len(team_labels))
    team_values = pd.concat([teams[list(GROUP_METRICS)], team_extra], axis=1)
    team_values = team_values[teams["size"].to_numpy() > 0]
    frames.append(
        _metric_frame(
            "team",
            [team_labels[i] for i in team_values.index],
            [ctx.teams.university[i] for i in team_values.index],
            team_values.reset_index(drop=True),
        )
    )

    university_of = ctx.universities.person_module[codes]
    universities = group_measures(graph, university_of, ctx.universities.labels)
    present = universities["size"].to_numpy() > 0
    frames.append(
        _metric_frame(
            "university",
            [u for u, keep in zip(ctx.universities.labels, present, strict=True) if keep],
            [u for u, keep in zip(ctx.universities.labels, present, strict=True) if keep],
            universities.loc[present, list(GROUP_METRICS)].reset_index(drop=True),
        )
    )

    disciplines = ds.people["discipline"].fillna("").to_numpy(object)[codes]
    discipline_labels = sorted({d for d in disciplines if d})
    if discipline_labels:
        index = {d: i for i, d in enumerate(discipline_labels)}
        discipline_of = np.array([index.get(d, -1) for d in disciplines], dtype=np.int64)
        by_discipline = group_measures(graph, discipline_of, discipline_labels)
        frames.append(
            _metric_frame(
                "discipline",
                discipline_labels,
                [None] * len(discipline_labels),
                by_discipline[
                    ["size", "ei_index", "ei_ties", "internal_weight", "external_weight"]
                ],
            )
        )

    louvain = engine.louvain(graph, seed=ctx.params.louvain_seed)
    program = pd.DataFrame(
        {
            "people_active": [graph.n],
            "ties": [graph.m],
            "interfaces": [len(ctx.week_rows)],
            "density": [graph_density(graph)],
            "reciprocity": [graph_reciprocity(graph)],
            "modularity_teams": [engine.modularity(graph, team_of)],
            "modularity_louvain": [louvain.modularity],
            "communities_louvain": [louvain.communities],
        }
    )
    frames.append(_metric_frame("program", [ds.program_id or "program"], [None], program))
    return frames


# --- dimensions ---------------------------------------------------------------------------------


def _clip_risk(risk: float | None) -> float | None:
    return None if risk is None else min(100.0, max(0.0, float(risk)))


def _report_row(
    ctx: WeekContext, scope_type: str, scope_id: str, university_id: str | None, r: DimensionResult
) -> dict[str, Any]:
    return {
        "scope_type": scope_type,
        "scope_id": scope_id,
        "university_id": university_id,
        "week_start": ctx.week_start,
        "dimension": r.dimension,
        "raw_value": _clean(r.value),
        "unit": r.unit,
        # Means of values in 0..100 can land a rounding error outside it.
        "risk": _clip_risk(_clean(r.risk)),
        "band": r.band,
        "reading": r.reading,
        "inputs": r.inputs(),
    }


def _energy_result(ctx: WeekContext, energy: ModuleEnergy, what: str) -> DimensionResult:
    model = ctx.ds.energy_model
    if np.isnan(energy.loss):
        return DimensionResult(
            ENERGY,
            None,
            "share of knowledge lost",
            None,
            None,
            "Insufficient data: no interfaces in the window.",
            True,
        )
    worst = max(energy.paths, key=lambda p: p.loss, default=None)
    reading = (
        f"About {energy.loss * 100:.0f}% of the knowledge carried by {what}'s interfaces is "
        f"expected to be lost in transfer (model {model.name!r})"
    )
    if worst is not None:
        reading += (
            f"; the most lossy path from it: {' → '.join(worst.via)} ({worst.loss * 100:.0f}%)"
        )
    result = DimensionResult(
        ENERGY,
        energy.loss,
        "share of knowledge lost",
        100 * energy.loss,
        model.band(energy.loss),
        reading + ".",
        False,
    )
    result.counts = {"model": model.name}
    result.evidence = [
        {"kind": "factors", "shares": energy.factor_shares},
        {"kind": "paths", "paths": paths_json(energy.paths)},
        *energy.lossiest,
    ]
    return result


def _dimension_rows(
    ctx: WeekContext,
    modules: Modules,
    facts: list[ModuleFacts],
    energy: list[ModuleEnergy],
    result: WeekResult,
) -> list[tuple[dict[str, DimensionResult], float]]:
    finder = EvidenceFinder(ctx, modules)
    scope_type = modules.level
    computed = []
    for index, f in enumerate(facts):
        if f.members == 0 and f.interfaces == 0:
            continue  # a module with nobody in it this week (an empty or former team)
        by_dimension = {}
        for dimension in DIMENSIONS:
            r = FORMULAS[dimension](f, ctx.params)
            if not r.insufficient_data:
                r.evidence = finder.for_dimension(dimension, index, f)
            by_dimension[dimension] = r
            result.reports.append(
                _report_row(ctx, scope_type, f.module, modules.university[index], r)
            )
        what = f"team {f.module}" if scope_type == "team" else f"university {f.module}"
        result.reports.append(
            _report_row(
                ctx,
                scope_type,
                f.module,
                modules.university[index],
                _energy_result(ctx, energy[index], what),
            )
        )
        computed.append((by_dimension, f.weight_total))
    return computed


def _program_rows(
    ctx: WeekContext,
    team_results: list[tuple[dict[str, DimensionResult], float]],
    team_facts: list[ModuleFacts],
    energy: Any,
    result: WeekResult,
) -> None:
    program_id = ctx.ds.program_id or "program"
    for dimension in DIMENSIONS:
        summary = program_summary(
            dimension, [(r[dimension], w) for r, w in team_results], ctx.params
        )
        result.reports.append(_report_row(ctx, "program", program_id, None, summary))
    rows = ctx.window_rows
    weight = rows["weight"].to_numpy(float)
    if len(rows) and weight.sum() > 0:
        loss = float(np.average(energy.loss, weights=weight))
        overall = ModuleEnergy(loss, {}, [])
    else:
        overall = ModuleEnergy(float("nan"), {}, [])
    result.reports.append(
        _report_row(ctx, "program", program_id, None, _energy_result(ctx, overall, "the program"))
    )


# --- lifecycle, module metrics, engagement ------------------------------------------------------


def _module_metrics(
    ctx: WeekContext, modules: Modules, facts: list[ModuleFacts], energy: list[ModuleEnergy]
) -> pd.DataFrame:
    values = pd.DataFrame(
        {
            "members": [f.members for f in facts],
            "interfaces_window": [f.interfaces for f in facts],
            "intra_share": [f.intra_share for f in facts],
            "energy_loss": [e.loss for e in energy],
            "knowledge_outgoing_share": [
                f.knowledge.outgoing_share if f.knowledge else np.nan for f in facts
            ],
            "bus_factor": [f.knowledge.bus_factor if f.knowledge else np.nan for f in facts],
            "bus_factor_at_graduation": [
                f.knowledge.bus_factor_at_graduation if f.knowledge else np.nan for f in facts
            ],
            "topics_only_outgoing": [
                f.knowledge.outgoing_only_topics if f.knowledge else np.nan for f in facts
            ],
            "handoff_coverage": [
                f.handoffs_covered / f.handoffs_due if f.handoffs_due else np.nan for f in facts
            ],
        },
        dtype=float,
    )
    present = np.array([f.members > 0 or f.interfaces > 0 for f in facts], dtype=bool)
    labels = [label for label, keep in zip(modules.labels, present, strict=True) if keep]
    universities = [u for u, keep in zip(modules.university, present, strict=True) if keep]
    return _metric_frame(
        modules.level, labels, universities, values[present].reset_index(drop=True)
    )


def _lifecycle_metrics(
    ctx: WeekContext, facts: list[ModuleFacts], energy: list[ModuleEnergy]
) -> pd.DataFrame:
    base = _module_metrics(ctx, ctx.teams, facts, energy)
    shares = stage_shares(ctx.stage, ctx.person_team, ctx.students, ctx.teams.k)
    present = shares["students"].to_numpy() > 0
    stages = _metric_frame(
        "team",
        [t for t, keep in zip(ctx.teams.labels, present, strict=True) if keep],
        [u for u, keep in zip(ctx.teams.university, present, strict=True) if keep],
        shares[present].reset_index(drop=True).astype(float),
    )
    return pd.concat([f for f in (base, stages) if len(f)], ignore_index=True)


def _engagement(ctx: WeekContext) -> pd.DataFrame:
    """Per person: activity components and a 0–100 score (mean percentile among the active).

    Members with no activity that week get a row with score 0, so disengagement shows.
    """
    ds = ctx.ds
    n = len(ds.people)
    rows = ctx.week_rows
    src = rows["src"].to_numpy(np.int64)
    dst = rows["dst"].to_numpy(np.int64)
    weight = rows["weight"].to_numpy(float)
    person_dst = dst >= 0
    components = {
        "interfaces_out": np.bincount(src, minlength=n).astype(float),
        "interfaces_in": np.bincount(dst[person_dst], minlength=n).astype(float),
        "strength_out": np.bincount(src, weights=weight, minlength=n),
        "strength_in": np.bincount(dst[person_dst], weights=weight[person_dst], minlength=n),
    }
    pairs = pd.DataFrame(
        {
            "a": np.concatenate([src[person_dst], dst[person_dst]]),
            "b": np.concatenate([dst[person_dst], src[person_dst]]),
        }
    ).drop_duplicates()
    components["partners"] = np.bincount(pairs["a"].to_numpy(np.int64), minlength=n).astype(float)
    messages = ctx.messages(ctx.start, (*KNOWLEDGE_TYPES, "question"))
    authors = messages["author"].to_numpy(np.int64)
    kinds = messages["message_type"].to_numpy(object)
    for kind in (*KNOWLEDGE_TYPES, "question"):
        components[f"{kind}s"] = np.bincount(authors[kinds == kind], minlength=n).astype(float)
    frame = pd.DataFrame(components)
    active = (
        frame["interfaces_out"]
        + frame["interfaces_in"]
        + frame["questions"]
        + frame["answers"]
        + frame["documentations"]
    ) > 0
    members = ctx.person_team >= 0
    scored = frame[["strength_out", "strength_in", "partners"]].copy()
    scored["knowledge"] = frame["answers"] + frame["documentations"]
    ranks = scored[active].rank(pct=True).mean(axis=1) * 100
    score = pd.Series(0.0, index=frame.index)
    score[active] = ranks
    keep = (active | members).to_numpy()
    if not keep.any():
        return pd.DataFrame()
    team_ids = ds.teams["team_id"].to_numpy(object)
    team = np.where(
        ctx.person_team >= 0,
        team_ids[np.maximum(ctx.person_team, 0)] if len(team_ids) else None,
        None,
    )
    component_json = [
        json.dumps({k: float(v) for k, v in row.items()}, sort_keys=True)
        for row in frame[keep].to_dict("records")
    ]
    return pd.DataFrame(
        {
            "person_id": ds.people["person_id"].to_numpy(object)[keep],
            "team_id": team[keep],
            "university_id": ds.people["university_id"].to_numpy(object)[keep],
            "score": score.to_numpy()[keep].round(2),
            "components": component_json,
        }
    )
