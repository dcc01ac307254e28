"""Energy loss: the share of knowledge expected to be lost across an interface.

The factor model is data (``energy_loss_models.factors``), not code: several models coexist,
one is active, and a researcher changes a weight by editing a row. A model looks like the
prototype's defaults seeded by migration 0002::

    {"knowledge_type": {"codified": 0.10, "institutional": 0.40},
     "bond_strength": {"strong": 0.05, "moderate": 0.20, "weak": 0.35},
     "temporal_alignment": {"aligned": 0.05, "misaligned": 0.25},
     "actor_autonomy": {"high": 0.15, "low": 0.05},
     "risk_bands": {"low": 0.15, "moderate": 0.35, "high": 0.60}}

plus two optional keys: ``weights`` (factor → multiplier, default 1) and ``thresholds``
(how measurements become categories, see ``DEFAULT_THRESHOLDS``). As in the prototype, the
loss of one interface is ``min(1, Σ_f weight_f × contribution_f[category_f])``. The four
factors above are derived from measurements by the engine; any other factor (a layer a
researcher added) takes its category from ``interface_assessments`` of the layer with the
same id, and contributes its ``default`` entry (or nothing) where no assessment exists.

Along a path the retained shares multiply, so the loss from module A to module B is
``1 − max over paths Π(1 − loss_e)``, found with Dijkstra on ``−ln(1 − loss_e)``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from core.errors import ConfigurationError

MEASURED_FACTORS = ("knowledge_type", "bond_strength", "temporal_alignment", "actor_autonomy")
RESERVED_KEYS = ("risk_bands", "weights", "thresholds")
PROTOTYPE_FACTORS: dict[str, Any] = {
    "knowledge_type": {"codified": 0.10, "institutional": 0.40},
    "bond_strength": {"strong": 0.05, "moderate": 0.20, "weak": 0.35},
    "temporal_alignment": {"aligned": 0.05, "misaligned": 0.25},
    "actor_autonomy": {"high": 0.15, "low": 0.05},
    "risk_bands": {"low": 0.15, "moderate": 0.35, "high": 0.60},
}
DEFAULT_THRESHOLDS: dict[str, float] = {
    # bond score = mean of frequency, recency and reciprocity, each on 0..1
    "bond_strong": 0.6,
    "bond_moderate": 0.3,
    "bond_frequency_per_week": 3.0,  # interfaces per week between the pair that count as "1"
    "bond_recency_days": 14.0,  # e-folding time of recency
    "aligned_within_hours": 24.0,  # an answer later than this is misaligned
    "autonomy_high": 0.6,  # intra-team share of the interface's teams at or above: high
}
MAX_LOSS = 0.999  # a path through a total loss is cut, not infinitely long


@dataclass(frozen=True)
class EnergyModel:
    """A parsed factor model; ``factors`` is the stored JSON, kept for the run record."""

    id: int | None
    name: str
    factors: Mapping[str, Any]
    contributions: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    weights: Mapping[str, float] = field(default_factory=dict)
    bands: tuple[tuple[str, float], ...] = ()
    thresholds: Mapping[str, float] = field(default_factory=dict)

    @classmethod
    def from_factors(cls, id: int | None, name: str, factors: Mapping[str, Any]) -> EnergyModel:
        """Validate a stored model; a bad entry raises ``ConfigurationError`` naming it."""

        def bad(key: str, why: str) -> ConfigurationError:
            return ConfigurationError(
                f"energy-loss model {name!r}: {key} {why}", model=name, key=key
            )

        if not isinstance(factors, Mapping):
            raise bad("factors", "must be a JSON object")
        contributions: dict[str, dict[str, float]] = {}
        for factor, categories in factors.items():
            if factor in RESERVED_KEYS:
                continue
            if not isinstance(categories, Mapping) or not categories:
                raise bad(factor, "must map categories to contributions")
            contributions[factor] = {}
            for category, value in categories.items():
                if not _is_number(value) or not 0 <= float(value) <= 1:
                    raise bad(f"{factor}.{category}", f"must be a number in 0..1, not {value!r}")
                contributions[factor][str(category)] = float(value)
        weights = dict.fromkeys(contributions, 1.0)
        for factor, value in (factors.get("weights") or {}).items():
            if factor not in contributions:
                raise bad(f"weights.{factor}", "names no factor of this model")
            if not _is_number(value) or float(value) < 0:
                raise bad(f"weights.{factor}", f"must be a number ≥ 0, not {value!r}")
            weights[factor] = float(value)
        raw_bands = factors.get("risk_bands") or PROTOTYPE_FACTORS["risk_bands"]
        bands = []
        for band in ("low", "moderate", "high"):
            value = raw_bands.get(band)
            if not _is_number(value):
                raise bad(f"risk_bands.{band}", f"must be a number, not {value!r}")
            bands.append((band, float(value)))
        if not bands[0][1] <= bands[1][1] <= bands[2][1]:
            raise bad("risk_bands", "must increase from low to high")
        thresholds = dict(DEFAULT_THRESHOLDS)
        for key, value in (factors.get("thresholds") or {}).items():
            if key not in DEFAULT_THRESHOLDS:
                raise bad(
                    f"thresholds.{key}", f"is unknown (known: {', '.join(DEFAULT_THRESHOLDS)})"
                )
            if not _is_number(value):
                raise bad(f"thresholds.{key}", f"must be a number, not {value!r}")
            thresholds[key] = float(value)
        return cls(id, name, dict(factors), contributions, weights, tuple(bands), thresholds)

    @classmethod
    def prototype(cls) -> EnergyModel:
        return cls.from_factors(None, "prototype-defaults", PROTOTYPE_FACTORS)

    @property
    def assessed_factors(self) -> list[str]:
        """Factors the engine does not measure: their categories come from assessments."""
        return [f for f in self.contributions if f not in MEASURED_FACTORS]

    def contribution(self, factor: str, categories: Labels) -> np.ndarray:
        """Weighted contribution of one factor for each interface's category label."""
        table = self.contributions.get(factor)
        labels = as_categorical(categories)
        if table is None:
            return np.zeros(len(labels))
        default = table.get("default", 0.0)
        # One lookup per category, then a vector gather; unknown categories use the default.
        per_category = np.array([table.get(str(c), default) for c in labels.categories] + [default])
        codes = np.where(labels.codes >= 0, labels.codes, len(labels.categories))
        return self.weights.get(factor, 1.0) * per_category[codes]

    def losses(self, categories: Mapping[str, Labels]) -> np.ndarray:
        """Per-interface loss from each factor's category labels (same length arrays)."""
        length = len(next(iter(categories.values()))) if categories else 0
        total = np.zeros(length)
        for factor in self.contributions:
            if factor in categories:
                total += self.contribution(factor, categories[factor])
            elif "default" in self.contributions[factor]:
                total += self.weights.get(factor, 1.0) * self.contributions[factor]["default"]
        return np.minimum(total, 1.0)

    def band(self, loss: float) -> str:
        for name, upper in self.bands:
            if loss < upper:
                return name
        return "critical"


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


# --- measured categories ------------------------------------------------------------------
# Categories are pandas Categoricals: a million interfaces carry small integer codes, and
# their labels (``.tolist()``) read as the model's category names.

Labels: TypeAlias = pd.Categorical | np.ndarray


def as_categorical(values: Labels) -> pd.Categorical:
    if isinstance(values, pd.Categorical):
        return values
    return pd.Categorical(np.asarray(values, dtype=object))


def _choose(codes: np.ndarray, names: list[str]) -> pd.Categorical:
    return pd.Categorical.from_codes(codes.astype(np.int8), categories=names)


def bond_scores(
    frequency_per_week: np.ndarray,
    days_since_last: np.ndarray,
    reciprocated: np.ndarray,
    thresholds: Mapping[str, float],
) -> np.ndarray:
    """Bond score in 0..1: the mean of frequency, recency and reciprocity (each 0..1)."""
    frequency = np.minimum(1.0, frequency_per_week / thresholds["bond_frequency_per_week"])
    recency = np.exp(-np.maximum(days_since_last, 0.0) / thresholds["bond_recency_days"])
    return (frequency + recency + reciprocated.astype(float)) / 3.0


def bond_categories(scores: np.ndarray, thresholds: Mapping[str, float]) -> pd.Categorical:
    codes = np.where(
        scores >= thresholds["bond_strong"],
        0,
        np.where(scores >= thresholds["bond_moderate"], 1, 2),
    )
    return _choose(codes, ["strong", "moderate", "weak"])


def knowledge_categories(codified: np.ndarray) -> pd.Categorical:
    return _choose(np.where(codified, 0, 1), ["codified", "institutional"])


def alignment_categories(
    latency_hours: np.ndarray, past_due: np.ndarray, thresholds: Mapping[str, float]
) -> pd.Categorical:
    """Misaligned: an answer later than the threshold, or task work done after its due date.

    ``latency_hours`` is NaN where the interface answers no question (then only the due
    date decides; interfaces with neither are aligned: no evidence of bad timing).
    """
    late = np.nan_to_num(latency_hours, nan=0.0) > thresholds["aligned_within_hours"]
    return _choose(np.where(late | past_due, 1, 0), ["aligned", "misaligned"])


def autonomy_categories(intra_share: np.ndarray, thresholds: Mapping[str, float]) -> pd.Categorical:
    return _choose(np.where(intra_share >= thresholds["autonomy_high"], 0, 1), ["high", "low"])


# --- paths --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PathLoss:
    source: str
    target: str
    loss: float
    via: tuple[str, ...]  # modules in order, source and target included


def path_losses(
    labels: list[str], src: np.ndarray, dst: np.ndarray, loss: np.ndarray, weight: np.ndarray
) -> list[PathLoss]:
    """Least-loss paths between every ordered pair of modules joined by some path.

    ``src``/``dst`` are module indices of each interface (intra-module rows are ignored);
    a module-to-module edge's loss is the weight-averaged loss of its interfaces.
    """
    n = len(labels)
    between = (src != dst) & (src >= 0) & (dst >= 0)
    if n == 0 or not between.any():
        return []
    s, d, lost, w = src[between], dst[between], loss[between], weight[between]
    w = np.where(w > 0, w, 1e-12)
    key = s * n + d
    unique, inverse = np.unique(key, return_inverse=True)
    weighted = np.bincount(inverse, weights=lost * w) / np.bincount(inverse, weights=w)
    edge_loss = np.minimum(weighted, MAX_LOSS)
    # -ln(1 - loss) is 0 for a lossless edge; csgraph drops explicit zeros, so add a hair.
    length = -np.log1p(-edge_loss) + 1e-12
    graph = csr_matrix((length, (unique // n, unique % n)), shape=(n, n))
    distances, predecessors = dijkstra(graph, directed=True, return_predecessors=True)
    result = []
    for i in range(n):
        for j in range(n):
            if i == j or not np.isfinite(distances[i, j]):
                continue
            via = [j]
            while via[-1] != i:
                via.append(int(predecessors[i, via[-1]]))
            hops = len(via) - 1
            total = float(-np.expm1(-(distances[i, j] - hops * 1e-12)))
            result.append(
                PathLoss(
                    labels[i], labels[j], max(0.0, total), tuple(labels[k] for k in reversed(via))
                )
            )
    return result
