"""The trained link scorers shipped with the package, and how they score a pair grid.

A model file (``core/links/models/<mode>.json``, written by ``python -m core.links.train``)
holds the window, the feature names, an optional linear shortlist, a gradient-boosted
tree ensemble (XGBoost's own JSON, embedded) and how it was trained. The fast mode keeps
the tree ensemble cheap by scoring only the shortlist's best few candidates per message.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np

from core.errors import ConfigurationError
from core.links.features import COLUMN, PairGrid

Mode = Literal["fast", "accurate"]
MODEL_DIR = Path(__file__).resolve().parent / "models"
FORMAT = "frames-links/1"
SHORTLIST_SCORE = "shortlist_score"  # the extra tree input of a cascaded model
_load_lock = threading.Lock()


@dataclass(frozen=True)
class Shortlist:
    """A linear scorer that keeps the ``size`` best candidates of each message."""

    size: int
    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    bias: float

    def scores(self, grid: PairGrid) -> np.ndarray:
        """Linear scores over the grid, ``(rows, window + 1)``; -inf where no candidate."""
        # Weights over all grid features (0 for unused ones) avoid copying the grid.
        coefficients = np.zeros(len(grid.values), dtype=np.float32)
        coefficients[[COLUMN[name] for name in self.features]] = self.weights / self.scale
        offset = np.float32(self.bias - float(np.dot(self.weights, self.mean / self.scale)))
        # einsum's own loop: as fast as one BLAS thread, and it starts no thread pool.
        values = np.einsum("f,frw->rw", coefficients, grid.values) + offset
        return np.where(grid.valid, values, np.float32(-np.inf))

    def to_json(self) -> dict[str, Any]:
        return {
            "size": self.size,
            "features": list(self.features),
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "weights": self.weights.tolist(),
            "bias": self.bias,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Shortlist:
        return cls(
            size=int(data["size"]),
            features=tuple(data["features"]),
            mean=np.asarray(data["mean"], dtype=np.float64),
            scale=np.asarray(data["scale"], dtype=np.float64),
            weights=np.asarray(data["weights"], dtype=np.float64),
            bias=float(data["bias"]),
        )


@dataclass
class LinkModel:
    """Scores (message, candidate) pairs: the probability that the pair is a reply link."""

    mode: Mode
    window: int
    features: tuple[str, ...]  # the tree ensemble's inputs (plus SHORTLIST_SCORE if cascaded)
    booster: Any  # xgboost.Booster
    extra_link_threshold: float  # further antecedents need this probability
    shortlist: Shortlist | None = None
    uses_embeddings: bool = False
    first_pass: LinkModel | None = None  # links the stream first, for structure features
    training: dict[str, Any] = field(default_factory=dict)

    def probabilities(self, grid: PairGrid) -> np.ndarray:
        """``(rows, window + 1)`` probabilities; 0 where there is no (shortlisted) candidate."""
        rows, width = grid.valid.shape
        columns = [COLUMN[name] for name in self.features if name != SHORTLIST_SCORE]
        result = np.zeros((rows, width), dtype=np.float32)
        if rows == 0:
            return result
        if self.shortlist is None:
            matrix = grid.pair_matrix(columns)
            result[grid.valid] = self.booster.inplace_predict(matrix)
            return result
        linear = self.shortlist.scores(grid)
        keep = min(self.shortlist.size, width)
        chosen = np.argpartition(-linear, keep - 1, axis=1)[:, :keep]
        row_index = np.repeat(np.arange(rows), keep)
        offsets = chosen.ravel()
        usable = np.isfinite(linear[row_index, offsets])
        row_index, offsets = row_index[usable], offsets[usable]
        matrix = np.empty((len(row_index), len(columns) + 1), dtype=np.float32)
        matrix[:, :-1] = grid.values[:, row_index, offsets][columns].T
        matrix[:, -1] = linear[row_index, offsets]
        result[row_index, offsets] = self.booster.inplace_predict(matrix)
        return result

    def to_json(self) -> dict[str, Any]:
        raw = self.booster.save_raw(raw_format="json")
        return {
            "format": FORMAT,
            "mode": self.mode,
            "window": self.window,
            "features": list(self.features),
            "extra_link_threshold": self.extra_link_threshold,
            "uses_embeddings": self.uses_embeddings,
            "shortlist": self.shortlist.to_json() if self.shortlist else None,
            # The first-pass model is a sibling file, named by its mode.
            "first_pass": self.first_pass.mode if self.first_pass else None,
            "training": self.training,
            "booster": json.loads(bytes(raw)),
        }

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_json(), separators=(",", ":")), encoding="utf-8")

    @classmethod
    def from_json(cls, data: dict[str, Any], first_pass: LinkModel | None = None) -> LinkModel:
        import xgboost

        if data.get("format") != FORMAT:
            raise ConfigurationError(f"not a {FORMAT} link model (format {data.get('format')!r})")
        booster = xgboost.Booster()
        booster.load_model(bytearray(json.dumps(data["booster"]).encode()))
        # One core per call: callers parallelise across processes, not inside one stream.
        booster.set_param({"nthread": 1})
        shortlist = data.get("shortlist")
        return cls(
            mode=data["mode"],
            window=int(data["window"]),
            features=tuple(data["features"]),
            booster=booster,
            extra_link_threshold=float(data["extra_link_threshold"]),
            shortlist=Shortlist.from_json(shortlist) if shortlist else None,
            uses_embeddings=bool(data.get("uses_embeddings", False)),
            first_pass=first_pass,
            training=dict(data.get("training", {})),
        )

    @classmethod
    def load(cls, path: Path) -> LinkModel:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigurationError(
                f"link model {path} is missing; train it with `python -m core.links.train`"
            ) from None
        first_pass = data.get("first_pass")
        before = cls.load(path.with_name(f"{first_pass}.json")) if first_pass else None
        return cls.from_json(data, first_pass=before)


@lru_cache(maxsize=2)
def _shipped(mode: Mode) -> LinkModel:
    with _load_lock:
        return LinkModel.load(MODEL_DIR / f"{mode}.json")


def shipped_model(mode: Mode) -> LinkModel:
    """The model trained for ``mode`` that ships in the package (loaded once per process)."""
    if mode not in ("fast", "accurate"):
        raise ConfigurationError(f"unknown link mode {mode!r} (use 'fast' or 'accurate')")
    return _shipped(mode)
