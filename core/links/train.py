"""Train the shipped link models from the IRC disentanglement data (train split only).

    python -m core.links.train --data ../shared/data/irc-disentanglement [--embedding-cache DIR]

writes ``core/links/models/fast.json`` and then ``accurate.json``, whose structure
features come from the fast model: retrain them together (the default, ``--mode both``).
Each training log is used as recorded and deinterleaved (``augment``); the accurate
model's training pairs get their structure from fast models trained on the other fold of
logs. The one tuned setting, the probability a further antecedent needs, is chosen on the
dev split. Embedding the training messages takes about ten minutes on two cores;
``--embedding-cache`` keeps them for the next run. A given seed and data give the same
models up to XGBoost's multithreaded floating-point order.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.links.augment import deinterleave
from core.links.embeddings import DIMENSIONS, MODEL_NAME, embed
from core.links.evaluate import score_links
from core.links.features import (
    FEATURE_FAMILY,
    FEATURE_NAMES,
    embedding_cosines,
    pair_grid,
    word_overlap,
)
from core.links.infer import decode, score_blocks
from core.links.irc import read_split, split_streams
from core.links.model import MODEL_DIR, SHORTLIST_SCORE, LinkModel, Mode, Shortlist
from core.links.structure import collect_first_pass, structure_grid
from core.links.text import analyse
from core.links.types import ChatMessage

log = logging.getLogger(__name__)

WINDOWS: dict[Mode, int] = {"fast": 40, "accurate": 100}  # the paper uses 100 + self
SHORTLIST_SIZE = 5
TREE_PARAMS: dict[Mode, dict[str, Any]] = {
    "fast": {"max_depth": 6, "eta": 0.1, "rounds": 150},
    "accurate": {"max_depth": 7, "eta": 0.1, "rounds": 400},
}
FOLDS = 2  # first-pass models for the structure features never see the log they link
FirstPassFor = Callable[[int], LinkModel]  # the first-pass model for training file n
THRESHOLDS = (0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.8, 1.01)
Embedder = Callable[[Sequence[str]], np.ndarray]


@dataclass
class PairData:
    """Every (annotated message, candidate) pair of a split: features, labels, groups."""

    values: np.ndarray  # float32 (pairs, len(FEATURE_NAMES))
    labels: np.ndarray  # bool (pairs,)
    groups: np.ndarray  # int (messages,): consecutive pairs per message
    unreachable: int  # gold links beyond the window


class EmbeddingCache:
    """Embeddings of texts by content hash: in memory, and on disk when given a folder."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self._memory: dict[str, np.ndarray] = {}

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        digest = hashlib.sha256(MODEL_NAME.encode())
        for text in texts:
            digest.update(text.encode("utf-8", "replace") + b"\0")
        key = digest.hexdigest()[:24]
        if key in self._memory:
            return self._memory[key]
        path = self.folder / f"{key}.npy" if self.folder is not None else None
        if path is not None and path.exists():
            vectors = np.load(path)
        else:
            vectors = embed(texts)
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                np.save(path, vectors)
        self._memory[key] = vectors
        return vectors


def build_pairs(
    folder: Path,
    window: int,
    embedder: Embedder | None,
    *,
    augment: bool = True,
    every: int = 1,
    offset: int = 0,
    first_pass: FirstPassFor | None = None,
) -> PairData:
    """Pairs of the annotated messages of every ``every``-th file (from ``offset``).

    With ``augment``, each log is used twice: as recorded, and with its conversations told
    one after another (``augment.deinterleave``), so the model also learns slow channels.
    With ``first_pass``, the structure features come from that file's first-pass model.
    """
    values, labels, groups = [], [], []
    unreachable = 0
    for number, (irc_file, messages, gold) in enumerate(split_streams(folder)):
        if not gold or number % every != offset:
            continue
        vectors = _file_embeddings(messages, gold, window, embedder) if embedder else None
        before = first_pass(number) if first_pass is not None else None
        variants = [messages, deinterleave(messages, gold)] if augment else [messages]
        for stream_messages in variants:
            part = _stream_pairs(stream_messages, gold, window, vectors, before)
            values.extend(part[0])
            labels.extend(part[1])
            groups.extend(part[2])
            unreachable += part[3]
        log.info("pairs from %s", irc_file.stem)
    return PairData(
        values=np.concatenate(values).astype(np.float32),
        labels=np.concatenate(labels),
        groups=np.asarray(groups),
        unreachable=unreachable,
    )


def _file_embeddings(
    messages: Sequence[ChatMessage], gold: dict[str, list[str]], window: int, embedder: Embedder
) -> dict[str, np.ndarray]:
    """Embeddings of the annotated part of a log and the window before it, by message id."""
    position = {message.id: number for number, message in enumerate(messages)}
    first = max(min(position[message_id] for message_id in gold) - window, 0)
    stop = max(position[message_id] for message_id in gold) + 1
    part = messages[first:stop]
    vectors = embedder([message.content for message in part])
    return {message.id: vector for message, vector in zip(part, vectors, strict=True)}


def _stream_pairs(
    messages: Sequence[ChatMessage],
    gold: dict[str, list[str]],
    window: int,
    vectors: dict[str, np.ndarray] | None,
    before: LinkModel | None,
) -> tuple[list[np.ndarray], list[np.ndarray], list[int], int]:
    stream = analyse(messages)
    position = {message.id: number for number, message in enumerate(messages)}
    rows = sorted(position[message_id] for message_id in gold)
    start, stop = rows[0], rows[-1] + 1
    cosines = None
    if vectors is not None:
        first = max(start - window, 0)
        # Messages outside the embedded part (rare: pulled in by deinterleaving) get zeros.
        blank = np.zeros(DIMENSIONS, dtype=np.float32)
        matrix = np.stack([vectors.get(message.id, blank) for message in messages[first:stop]])
        cosines = embedding_cosines(matrix, window, start - first)
    structure = None
    if before is not None:
        passed = collect_first_pass(
            len(messages),
            ((grid.start, grid.stop, p) for grid, p in score_blocks(messages, before)),
            before.window,
        )
        structure = structure_grid(stream, passed, start, stop, window)
    overlap = word_overlap(stream, window, start, stop)
    grid = pair_grid(stream, start, stop, window, overlap, cosines, structure)
    values, labels, groups = [], [], []
    unreachable = 0
    for row in rows:
        local = row - start
        valid = grid.valid[local]
        candidates = row - np.arange(window + 1)[valid]
        targets = {position[target] for target in gold[messages[row].id]}
        unreachable += len(targets - set(candidates.tolist()))
        values.append(grid.values[:, local, valid].T)
        labels.append(np.isin(candidates, list(targets)))
        groups.append(int(valid.sum()))
    return values, labels, groups, unreachable


def feature_list(mode: Mode, without: Sequence[str] = ()) -> tuple[str, ...]:
    excluded = set(without) | ({"embeddings", "structure"} if mode == "fast" else set())
    return tuple(name for name in FEATURE_NAMES if FEATURE_FAMILY[name] not in excluded)


def _columns(names: Sequence[str]) -> list[int]:
    return [FEATURE_NAMES.index(name) for name in names if name != SHORTLIST_SCORE]


def _fit_shortlist(data: PairData, names: Sequence[str], size: int, seed: int) -> Shortlist:
    from sklearn.linear_model import LogisticRegression

    matrix = data.values[:, _columns(names)].astype(np.float64)
    mean = matrix.mean(axis=0)
    scale = matrix.std(axis=0)
    scale[scale == 0] = 1.0
    fitted = LogisticRegression(C=1.0, max_iter=1000, random_state=seed)
    fitted.fit((matrix - mean) / scale, data.labels)
    return Shortlist(
        size=size,
        features=tuple(names),
        mean=mean,
        scale=scale,
        weights=fitted.coef_[0].astype(np.float64),
        bias=float(fitted.intercept_[0]),
    )


def _shortlisted(data: PairData, shortlist: Shortlist) -> tuple[np.ndarray, np.ndarray]:
    """Rows of the pairs the shortlist keeps, and their linear scores."""
    columns = _columns(shortlist.features)
    coefficients = shortlist.weights / shortlist.scale
    offset = shortlist.bias - float(np.dot(shortlist.weights, shortlist.mean / shortlist.scale))
    scores = data.values[:, columns].astype(np.float64) @ coefficients + offset
    keep = np.zeros(len(scores), dtype=bool)
    start = 0
    for size in data.groups.tolist():
        part = scores[start : start + size]
        best = np.argsort(-part, kind="stable")[: shortlist.size]
        keep[start + best] = True
        start += size
    return np.nonzero(keep)[0], scores.astype(np.float32)


def train_model(
    mode: Mode,
    data: PairData,
    *,
    without: Sequence[str] = (),
    seed: int = 1,
    rounds: int | None = None,
    shortlist_size: int = SHORTLIST_SIZE,
    window: int | None = None,
    first_pass: LinkModel | None = None,
) -> LinkModel:
    """Fit the model of ``mode`` on training pairs (built with ``WINDOWS[mode]``).

    ``first_pass`` is the model that links streams for the structure features in use (the
    pairs were built with first-pass models that had not seen their files).
    """
    import xgboost

    names = feature_list(mode, without)
    params = TREE_PARAMS[mode]
    shortlist = None
    rows = np.arange(len(data.labels))
    matrix = data.values[:, _columns(names)]
    if mode == "fast":
        shortlist = _fit_shortlist(data, names, shortlist_size, seed)
        rows, scores = _shortlisted(data, shortlist)
        matrix = np.column_stack([matrix[rows], scores[rows]])
        names = (*names, SHORTLIST_SCORE)
    booster = xgboost.train(
        {
            "objective": "binary:logistic",
            "eta": params["eta"],
            "max_depth": params["max_depth"],
            "subsample": 0.8,
            "colsample_bytree": 0.8,
            "min_child_weight": 5,
            "tree_method": "hist",
            "seed": seed,
        },
        xgboost.DMatrix(matrix, label=data.labels[rows]),
        num_boost_round=rounds or params["rounds"],
    )
    return LinkModel(
        mode=mode,
        window=window or WINDOWS[mode],
        features=tuple(names),
        booster=booster,
        extra_link_threshold=1.01,
        shortlist=shortlist,
        uses_embeddings=mode == "accurate" and "embeddings" not in without,
        first_pass=first_pass if mode == "accurate" and "structure" not in without else None,
        training={
            "data": "irc-disentanglement train split (Kummerfeld et al., ACL 2019)",
            "pairs": len(rows),
            "messages": len(data.groups),
            "seed": seed,
            "rounds": rounds or params["rounds"],
            "max_depth": params["max_depth"],
            "eta": params["eta"],
            "left_out": list(without),
        },
    )


def tune_threshold(
    model: LinkModel,
    messages: Sequence[ChatMessage],
    gold: dict[str, list[str]],
    embedder: Embedder,
) -> dict[str, float]:
    """Set the extra-link threshold with the best dev F1; returns dev F1 per threshold."""
    blocks = list(score_blocks(messages, model, embedder=embedder))
    by_threshold: dict[str, float] = {}
    best_f1, best_threshold = -1.0, THRESHOLDS[-1]
    for threshold in THRESHOLDS:
        predicted = {
            link.message_id: link.links_to
            for grid, probabilities in blocks
            for link in decode(messages, grid, probabilities, threshold, model)
        }
        f1 = score_links(gold, predicted).f1
        by_threshold[f"{threshold:.2f}"] = round(100 * f1, 2)
        if f1 > best_f1:
            best_f1, best_threshold = f1, threshold
    model.extra_link_threshold = best_threshold
    return by_threshold


def train_first_pass_folds(folder: Path, *, augment: bool, seed: int) -> FirstPassFor:
    """Fast models, each trained without one fold of the files, for out-of-fold structure."""
    models = []
    for fold in range(FOLDS):
        others = [other for other in range(FOLDS) if other != fold]
        parts = [
            build_pairs(folder, WINDOWS["fast"], None, augment=augment, every=FOLDS, offset=other)
            for other in others
        ]
        data = PairData(
            values=np.concatenate([part.values for part in parts]),
            labels=np.concatenate([part.labels for part in parts]),
            groups=np.concatenate([part.groups for part in parts]),
            unreachable=sum(part.unreachable for part in parts),
        )
        models.append(train_model("fast", data, seed=seed))
        log.info("first-pass model without fold %d trained", fold)
    return lambda number: models[number % FOLDS]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m core.links.train", description=__doc__)
    parser.add_argument("--data", type=Path, required=True, help="irc-disentanglement folder")
    parser.add_argument("--mode", choices=("fast", "accurate", "both"), default="both")
    parser.add_argument("--out", type=Path, default=MODEL_DIR, help="where model files go")
    parser.add_argument("--embedding-cache", type=Path, help="folder to keep embeddings in")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--no-augment", action="store_true", help="train on the logs as recorded only"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    augment = not args.no_augment
    train = args.data / "train"
    embedder = EmbeddingCache(args.embedding_cache)
    dev_messages, dev_gold = read_split(args.data / "dev")

    fast: LinkModel | None = None
    if args.mode in ("fast", "both"):
        started = time.perf_counter()
        data = build_pairs(train, WINDOWS["fast"], None, augment=augment)
        log.info("fast: %d pairs of %d messages", len(data.labels), len(data.groups))
        fast = train_model("fast", data, seed=args.seed)
        _finish(fast, dev_messages, dev_gold, embedder, started, args.out, augment)
    if args.mode in ("accurate", "both"):
        started = time.perf_counter()
        fast = fast or LinkModel.load(args.out / "fast.json")
        folds = train_first_pass_folds(train, augment=augment, seed=args.seed)
        data = build_pairs(train, WINDOWS["accurate"], embedder, augment=augment, first_pass=folds)
        log.info("accurate: %d pairs of %d messages", len(data.labels), len(data.groups))
        accurate = train_model("accurate", data, seed=args.seed, first_pass=fast)
        _finish(accurate, dev_messages, dev_gold, embedder, started, args.out, augment)


def _finish(
    model: LinkModel,
    dev_messages: Sequence[ChatMessage],
    dev_gold: dict[str, list[str]],
    embedder: Embedder,
    started: float,
    out: Path,
    augment: bool,
) -> None:
    model.training["augmented"] = augment
    model.training["threshold_dev_f1"] = tune_threshold(model, dev_messages, dev_gold, embedder)
    model.training["seconds"] = round(time.perf_counter() - started)
    model.save(out / f"{model.mode}.json")
    log.info("%s: wrote %s", model.mode, out / f"{model.mode}.json")


if __name__ == "__main__":
    main()
