"""The six NDA dimensions as formulas over a module's facts (docs/nda.md has the prose).

Each dimension has a headline raw value with a unit, and a ``risk`` from 0 (healthy) to 100
(worst) that combines components. A component maps its raw value linearly between a
healthy anchor (risk 0) and a failing anchor (risk 100), clipped; the dimension's risk is
the weighted mean of the components that have enough evidence. When the headline lacks
its minimum evidence, the dimension is "insufficient data": no value, no risk.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.nda.lifecycle import KnowledgeAtRisk
from core.nda.params import NDAParameters
from core.nda.tasks import TaskWindow

BANDS = (("low", 25.0), ("moderate", 50.0), ("high", 75.0))


def band_of(risk: float | None) -> str | None:
    if risk is None:
        return None
    for name, upper in BANDS:
        if risk < upper:
            return name
    return "critical"


def scale(value: float, healthy: float, failing: float) -> float:
    """0 at ``healthy``, 100 at ``failing``, linear between, clipped (works either way round)."""
    if math.isnan(value):
        return float("nan")
    return 100.0 * min(1.0, max(0.0, (value - healthy) / (failing - healthy)))


@dataclass(frozen=True)
class Component:
    name: str
    raw: float | None
    unit: str
    risk: float | None  # None: not enough evidence for this component
    weight: float
    healthy: float
    failing: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "raw": _clean(self.raw),
            "unit": self.unit,
            "risk": _clean(self.risk),
            "weight": self.weight,
            "healthy": self.healthy,
            "failing": self.failing,
        }


# Each component: (weight in its dimension, healthy anchor → risk 0, failing anchor → risk 100).
# First calibration: the healthy anchor sits near the simulator's ordinary team, so that an
# ordinary team reads low or moderate; the failing anchor where a planted failure lands.
# They are code, versioned by ENGINE_VERSION, and should be refitted once outcomes accrue.
ANCHORS: dict[str, tuple[float, float, float]] = {
    "internal_answer_share": (0.65, 0.6, 0.1),
    "intra_module_share": (0.35, 0.4, 0.05),
    "ei_index": (0.75, -0.2, -0.9),
    "codified_share": (0.25, 0.3, 0.0),
    "churn_per_task": (0.6, 0.1, 0.6),
    "unowned_share": (0.4, 0.05, 0.4),
    "late_share": (0.7, 0.3, 0.9),
    "median_answer_latency": (0.15, 2.0, 48.0),
    "crammed_handoffs": (0.15, 0.2, 0.8),
    "cross_module_share": (0.3, 0.6, 0.95),
    "cross_dependent_tasks": (0.3, 0.25, 0.75),
    "coordination_per_integrated_task": (0.25, 1.5, 2.5),
    "congruence_gap": (0.15, 0.5, 1.0),
    "tie_weight_change": (0.45, -0.1, -0.6),
    "silent_ties": (0.15, 0.5, 0.9),
    "knowledge_held_by_outgoing": (0.25, 0.4, 0.8),
    "handoff_gap": (0.15, 0.2, 1.0),
}


def component(name: str, raw: float | None, unit: str, enough: bool = True) -> Component:
    """A component from its raw value, with its anchors from ``ANCHORS``."""
    weight, healthy, failing = ANCHORS[name]
    usable = enough and raw is not None and not math.isnan(raw)
    risk = scale(float(raw), healthy, failing) if usable and raw is not None else None
    return Component(name, raw if usable else None, unit, risk, weight, healthy, failing)


def combine(components: list[Component]) -> float | None:
    present = [c for c in components if c.risk is not None]
    if not present:
        return None
    total = sum(c.weight for c in present)
    return sum(c.weight * (c.risk or 0.0) for c in present) / total


@dataclass
class DimensionResult:
    dimension: str
    value: float | None
    unit: str
    risk: float | None
    band: str | None
    reading: str
    insufficient_data: bool
    components: list[Component] = field(default_factory=list)
    counts: dict[str, Any] = field(default_factory=dict)
    evidence: list[dict[str, Any]] = field(default_factory=list)

    def inputs(self) -> dict[str, Any]:
        return {
            "components": [c.as_dict() for c in self.components],
            "counts": {k: _clean(v) for k, v in self.counts.items()},
            "evidence": self.evidence,
        }


def _clean(value: Any) -> Any:
    """JSON-safe: NaN and infinities become None, numpy scalars plain numbers."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _result(
    dimension: str,
    value: float | None,
    unit: str,
    components: list[Component],
    counts: dict[str, Any],
    reading: str,
    insufficient: str | None,
) -> DimensionResult:
    if insufficient is not None or value is None or math.isnan(value):
        why = insufficient or "the headline measure has no data"
        return DimensionResult(
            dimension,
            None,
            unit,
            None,
            None,
            f"Insufficient data: {why}.",
            True,
            components,
            counts,
        )
    risk = combine(components)
    return DimensionResult(
        dimension, float(value), unit, risk, band_of(risk), reading, False, components, counts
    )


def _pct(value: float) -> str:
    return f"{100 * value:.0f}%"


# --- module facts -----------------------------------------------------------------------------


@dataclass
class ModuleFacts:
    """What the formulas need about one module (team or university) in one window."""

    module: str
    members: int = 0
    interfaces: int = 0  # interfaces touching the module
    cross_interfaces: int = 0  # ...of which cross its boundary
    weight_internal: float = 0.0
    weight_external: float = 0.0
    answered_questions: int = 0  # asked by the module's students, answered by the week's end
    answered_internally: int = 0  # ...by the module's own students
    answered_by_faculty: int = 0
    decidable_questions: int = 0  # asked by the module (or in its channel) early enough to judge
    late_questions: int = 0  # ...not answered within answer_within_hours
    median_latency_hours: float = float("nan")
    knowledge_messages: int = 0  # answers and documentation by the module's people
    documentation_messages: int = 0
    tasks: TaskWindow | None = None
    weekly_weight: list[float] = field(
        default_factory=list
    )  # baseline + window weeks, oldest first
    trend_interfaces: int = 0
    previous_weight: float = 0.0  # weight of the pairs active in the previous window
    silent_weight: float = 0.0  # ...of those pairs silent in this window
    knowledge: KnowledgeAtRisk | None = None
    handoffs_due: int = 0  # outgoing people graduating soon
    handoffs_covered: int = 0  # ...who handed off to someone staying
    handoffs: int = 0  # handoffs made by people graduating soon
    handoffs_crammed: int = 0  # ...in the last days before graduation

    @property
    def weight_total(self) -> float:
        return self.weight_internal + self.weight_external

    @property
    def intra_share(self) -> float:
        return self.weight_internal / self.weight_total if self.weight_total > 0 else float("nan")

    @property
    def ei_index(self) -> float:
        total = self.weight_total
        return (self.weight_external - self.weight_internal) / total if total > 0 else float("nan")


# --- the six dimensions ---------------------------------------------------------------------


def actor_autonomy(f: ModuleFacts, p: NDAParameters) -> DimensionResult:
    """Share of the module's answered questions answered by its own students."""
    share = f.answered_internally / f.answered_questions if f.answered_questions else float("nan")
    components = [
        component("internal_answer_share", share, "share"),
        component("intra_module_share", f.intra_share, "share", f.interfaces >= p.min_interfaces),
    ]
    counts = {
        "answered_questions": f.answered_questions,
        "answered_internally": f.answered_internally,
        "answered_by_faculty": f.answered_by_faculty,
        "interfaces": f.interfaces,
    }
    insufficient = None
    if f.answered_questions < p.min_answered_questions:
        insufficient = (
            f"{f.answered_questions} answered questions from its students in the window "
            f"(at least {p.min_answered_questions} needed)"
        )
    elif f.interfaces < p.min_interfaces:
        insufficient = (
            f"{f.interfaces} interfaces in the window (at least {p.min_interfaces} needed)"
        )
    faculty = f.answered_by_faculty / f.answered_questions if f.answered_questions else 0.0
    reading = (
        f"{_pct(share)} of the questions its students asked were answered by its own students "
        f"({_pct(faculty)} by faculty); {_pct(f.intra_share)} of its interface weight stays inside."
        if not math.isnan(share) and not math.isnan(f.intra_share)
        else ""
    )
    return _result(
        "actor_autonomy",
        share,
        "share of answered questions",
        components,
        counts,
        reading,
        insufficient,
    )


def partitioned_knowledge(f: ModuleFacts, p: NDAParameters) -> DimensionResult:
    """Krackhardt–Stern E-I index of the module's interface weight (−1 sealed, +1 open)."""
    codified = (
        f.documentation_messages / f.knowledge_messages if f.knowledge_messages else float("nan")
    )
    components = [
        component("ei_index", f.ei_index, "E-I index"),
        component(
            "codified_share", codified, "share", f.knowledge_messages >= p.min_knowledge_messages
        ),
    ]
    counts = {
        "interfaces": f.interfaces,
        "internal_weight": f.weight_internal,
        "external_weight": f.weight_external,
        "knowledge_messages": f.knowledge_messages,
        "documentation_messages": f.documentation_messages,
    }
    insufficient = None
    if f.interfaces < p.min_interfaces:
        insufficient = (
            f"{f.interfaces} interfaces in the window (at least {p.min_interfaces} needed)"
        )
    ei = f.ei_index
    siloed = " — siloed (≤ −0.67)" if not math.isnan(ei) and ei <= -0.67 else ""
    reading = (
        f"E-I index {ei:+.2f}{siloed}: {_pct(1 - f.intra_share)} of its interface weight crosses "
        f"its boundary"
        + (
            f"; {_pct(codified)} of its answers and notes are documentation."
            if not math.isnan(codified)
            else "."
        )
        if not math.isnan(ei)
        else ""
    )
    return _result(
        "partitioned_knowledge", ei, "E-I index", components, counts, reading, insufficient
    )


def emergent_outputs(f: ModuleFacts, p: NDAParameters) -> DimensionResult:
    """Churn events (reassigned, reopened, stepped back, re-scoped) per active task."""
    t = f.tasks
    if t is None or t.active < p.min_tasks:
        active = 0 if t is None else t.active
        why = (
            "no project-tool tasks for this module"
            if t is None
            else f"{active} active tasks (at least {p.min_tasks} needed)"
        )
        return _result(
            "emergent_outputs", None, "churn events per task", [], {"active_tasks": active}, "", why
        )
    churn = t.churn_events / t.active
    unowned = t.unowned / t.active
    components = [
        component("churn_per_task", churn, "events per task"),
        component("unowned_share", unowned, "share"),
    ]
    counts = {"active_tasks": t.active, "churn_events": t.churn_events, "unowned_tasks": t.unowned}
    reading = (
        f"{churn:.2f} churn events per active task (reassigned, reopened, sent back or re-scoped); "
        f"{_pct(unowned)} of active tasks have no owner."
    )
    return _result(
        "emergent_outputs", churn, "churn events per task", components, counts, reading, None
    )


def temporal_misalignment(f: ModuleFacts, p: NDAParameters) -> DimensionResult:
    """Share of knowledge requests met late: questions answered late or never, tasks past due."""
    t = f.tasks
    due, missed = (t.due, t.missed_due) if t is not None else (0, 0)
    requests = f.decidable_questions + due
    late_share = (f.late_questions + missed) / requests if requests else float("nan")
    crammed = f.handoffs_crammed / f.handoffs if f.handoffs else float("nan")
    components = [
        component("late_share", late_share, "share"),
        component("median_answer_latency", f.median_latency_hours, "hours"),
        component("crammed_handoffs", crammed, "share", f.handoffs >= 2),
    ]
    counts = {
        "decidable_questions": f.decidable_questions,
        "late_questions": f.late_questions,
        "tasks_due": due,
        "tasks_missed": missed,
        "handoffs": f.handoffs,
        "handoffs_crammed": f.handoffs_crammed,
    }
    insufficient = None
    if requests < p.min_requests:
        insufficient = (
            f"{requests} questions and due tasks to judge in the window "
            f"(at least {p.min_requests} needed)"
        )
    latency = (
        f"; median first answer after {f.median_latency_hours:.1f} h"
        if not math.isnan(f.median_latency_hours)
        else ""
    )
    tasks_part = f", {missed} of {due} due tasks" if due else ""
    reading = (
        f"{_pct(late_share)} of its questions and due tasks were met late or not at all "
        f"({f.late_questions} of {f.decidable_questions} questions{tasks_part}){latency}."
        if requests
        else ""
    )
    return _result(
        "temporal_misalignment",
        late_share,
        "share of requests met late",
        components,
        counts,
        reading,
        insufficient,
    )


def integration_cost(f: ModuleFacts, p: NDAParameters) -> DimensionResult:
    """Share of the module's interface weight spent across its boundary, plus task coupling."""
    cross = 1.0 - f.intra_share if not math.isnan(f.intra_share) else float("nan")
    t = f.tasks
    components = [component("cross_module_share", cross, "share")]
    counts: dict[str, Any] = {"interfaces": f.interfaces}
    if t is not None:
        enough_tasks = t.active >= p.min_dependency_tasks
        dependent = t.cross_dependent / t.active if t.active else float("nan")
        per_task = f.cross_interfaces / (t.completed_cross + 1)
        congruence = (
            t.coordination_happened / t.coordination_needed
            if t.coordination_needed
            else float("nan")
        )
        components += [
            component("cross_dependent_tasks", dependent, "share", enough_tasks),
            component(
                "coordination_per_integrated_task",
                math.log10(1 + per_task),
                "log10(1 + interfaces per task)",
                t.cross_dependent >= p.min_dependency_tasks,
            ),
            component(
                "congruence_gap",
                1 - congruence,
                "share",
                t.coordination_needed >= p.min_dependency_tasks,
            ),
        ]
        counts |= {
            "active_tasks": t.active,
            "cross_dependent_tasks": t.cross_dependent,
            "completed_cross_dependent_tasks": t.completed_cross,
            "coordination_needed": t.coordination_needed,
            "coordination_happened": t.coordination_happened,
        }
    insufficient = None
    if f.interfaces < p.min_interfaces:
        insufficient = (
            f"{f.interfaces} interfaces in the window (at least {p.min_interfaces} needed)"
        )
    reading = (
        f"{_pct(cross)} of its interface weight goes to coordination across its boundary"
        if not math.isnan(cross)
        else ""
    )
    if reading and t is not None and t.active:
        reading += (
            f"; {t.cross_dependent} of {t.active} active tasks depend on other modules' tasks, "
            f"{t.completed_cross} of those completed"
        )
        if t.coordination_needed:
            congruence = t.coordination_happened / t.coordination_needed
            reading += f"; socio-technical congruence {_pct(congruence)}"
    reading += "." if reading else ""
    return _result(
        "integration_cost",
        cross,
        "share of interface weight",
        components,
        counts,
        reading,
        insufficient,
    )


def relative_change(weekly: list[float], window_weeks: int, min_baseline_weeks: int) -> float:
    """Mean weekly weight of the last ``window_weeks`` against the weeks before, minus one.

    −0.5: the module's ties carry half the weight they carried in its baseline weeks. A
    ratio of means, not a fitted slope: a quiet team's few interfaces make slopes noisy,
    and one holiday week should not decide.
    """
    values = np.asarray(weekly, dtype=float)
    current, baseline = values[-window_weeks:], values[:-window_weeks]
    if len(baseline) < min_baseline_weeks or len(current) < window_weeks:
        return float("nan")
    before = baseline.mean()
    if before <= 0:
        return float("nan")
    return float(current.mean() / before - 1.0)


def coupling_degradation(f: ModuleFacts, p: NDAParameters) -> DimensionResult:
    """Change of the module's tie weight against its baseline; knowledge held by those leaving."""
    baseline_weeks = len(f.weekly_weight) - p.window_weeks
    change = relative_change(f.weekly_weight, p.window_weeks, p.min_baseline_weeks)
    silent = f.silent_weight / f.previous_weight if f.previous_weight > 0 else float("nan")
    k = f.knowledge
    enough_knowledge = k is not None and k.contributions >= p.min_knowledge_messages
    outgoing_share = k.outgoing_share if k is not None else float("nan")
    coverage = f.handoffs_covered / f.handoffs_due if f.handoffs_due else float("nan")
    components = [
        component("tie_weight_change", change, "change vs baseline"),
        component("silent_ties", silent, "share of previous weight"),
        component("knowledge_held_by_outgoing", outgoing_share, "share", enough_knowledge),
        component("handoff_gap", 1 - coverage, "share of outgoing without handoff"),
    ]
    counts: dict[str, Any] = {
        "baseline_weeks": max(0, baseline_weeks),
        "trend_interfaces": f.trend_interfaces,
        "handoffs_due": f.handoffs_due,
        "handoffs_covered": f.handoffs_covered,
    }
    if k is not None:
        counts |= {
            "knowledge_messages": k.contributions,
            "topics_answered": k.topics,
            "topics_answered_only_by_outgoing": k.outgoing_only_topics,
            "bus_factor": k.bus_factor,
            "bus_factor_at_graduation": k.bus_factor_at_graduation,
        }
    insufficient = None
    if baseline_weeks < p.min_baseline_weeks:
        insufficient = (
            f"{max(0, baseline_weeks)} weeks of history before the window "
            f"(at least {p.min_baseline_weeks} needed)"
        )
    elif f.trend_interfaces < p.min_interfaces:
        insufficient = (
            f"{f.trend_interfaces} interfaces over the window and its baseline "
            f"(at least {p.min_interfaces} needed)"
        )
    reading = ""
    if not math.isnan(change):
        direction = "weaker" if change < 0 else "stronger"
        reading = (
            f"Ties are {abs(change) * 100:.0f}% {direction} in the last {p.window_weeks} weeks "
            f"than in the {baseline_weeks} weeks before"
        )
        if enough_knowledge and k is not None:
            reading += (
                f"; outgoing people hold {_pct(outgoing_share)} of its answers and notes "
                f"(bus factor {k.bus_factor}, {k.bus_factor_at_graduation} after graduation)"
            )
        if f.handoffs_due:
            reading += (
                f"; {f.handoffs_covered} of {f.handoffs_due} people graduating soon handed off"
            )
        reading += "."
    return _result(
        "coupling_degradation",
        change,
        "change vs baseline",
        components,
        counts,
        reading,
        insufficient,
    )


FORMULAS = {
    "actor_autonomy": actor_autonomy,
    "partitioned_knowledge": partitioned_knowledge,
    "emergent_outputs": emergent_outputs,
    "temporal_misalignment": temporal_misalignment,
    "integration_cost": integration_cost,
    "coupling_degradation": coupling_degradation,
}


def program_summary(
    dimension: str, results: list[tuple[DimensionResult, float]], p: NDAParameters
) -> DimensionResult:
    """The program's value and risk: means over its teams weighted by interface weight."""
    usable = [(r, w) for r, w in results if not r.insufficient_data and r.value is not None]
    unit = results[0][0].unit if results else ""
    if len(usable) < p.min_program_teams:
        return _result(
            dimension,
            None,
            unit,
            [],
            {"teams_with_data": len(usable)},
            "",
            f"{len(usable)} teams with data (at least {p.min_program_teams} needed)",
        )
    weights = np.array([max(w, 1e-9) for _, w in usable])
    values = np.array([r.value for r, _ in usable], dtype=float)
    risks = np.array([r.risk if r.risk is not None else np.nan for r, _ in usable])
    value = float(np.average(values, weights=weights))
    risk = float(np.average(np.nan_to_num(risks), weights=weights))
    worst = max(usable, key=lambda item: item[0].risk or 0.0)[0]
    counts = {
        "teams_with_data": len(usable),
        "teams_high_or_worse": sum(1 for r, _ in usable if (r.risk or 0) >= BANDS[1][1]),
    }
    result = DimensionResult(
        dimension,
        value,
        unit,
        risk,
        band_of(risk),
        f"Across {len(usable)} teams (weighted by activity): {counts['teams_high_or_worse']} at "
        f"high risk or worse; the highest risk is {worst.risk:.0f}.",
        False,
        [],
        counts,
    )
    return result
