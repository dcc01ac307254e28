"""Reply-link inference over a chat stream: which earlier message(s) each message answers.

The stream is read once (``text.analyse``), then scored block by block: each block's pair
grid covers its messages and their ``window`` predecessors, so memory stays bounded on
streams of any length. For every message the best-scoring candidate wins (itself means "starts
a conversation"); further earlier candidates join when the model is confident enough.
A message with an explicit reference (``reply_to``) keeps it and is not inferred.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from core.links.embeddings import embed
from core.links.features import (
    FEATURE_NAMES,
    PairGrid,
    embedding_cosines,
    pair_grid,
    pair_grid_rows,
    word_overlap,
    word_overlap_rows,
)
from core.links.model import LinkModel, Mode, shipped_model
from core.links.structure import FirstPass, collect_first_pass, structure_grid
from core.links.text import AnalysedStream, TextFacts, analyse, analyse_streams
from core.links.types import ChatMessage, InferredLink

BLOCK = 4096  # messages scored together: large enough for numpy, small enough for memory
STREAMS_BLOCK = 1024  # rows per block in ``infer_streams``: its arrays stay in the CPU cache
EXPLICIT = {"explicit_reply": 1.0}


def infer_links(
    messages: Sequence[ChatMessage],
    *,
    mode: Mode = "accurate",
    author_names: Mapping[str, Sequence[str]] | None = None,
) -> list[InferredLink]:
    """One link per message, in order: its antecedents (itself if it starts a conversation).

    ``messages`` are one channel's, in time order. ``author_names`` maps an author id to the
    names people call them by (display names, nicknames), so "sam: try the 3.3 V rail"
    links to sam's message even without an @mention. ``mode="fast"`` is the cheaper model
    that keeps up with imports; the default is the most accurate one.
    """
    return run_inference(messages, shipped_model(mode), author_names=author_names)


@dataclass(frozen=True)
class LinkStream:
    """One stream for ``infer_streams``: links are wanted for ``messages[first_new:]``; the
    messages before give context (a channel's recent history). ``texts`` holds
    ``read_text`` of each message when known (kept from earlier calls), else ``None``."""

    messages: Sequence[ChatMessage]
    first_new: int = 0
    texts: Sequence[TextFacts] | None = None


def infer_streams(
    streams: Sequence[LinkStream],
    *,
    mode: Mode = "fast",
    author_names: Mapping[str, Sequence[str]] | None = None,
    explain_starts: bool = True,
) -> list[list[InferredLink]]:
    """Links of many streams at once, exactly as ``infer_links(stream.messages, ...)
    [stream.first_new:]`` gives them one stream at a time (but without features for
    messages that start a conversation, unless ``explain_starts``).

    Many short streams (a thread each, or one batch of a live channel) cost little more
    than one long stream: they are read together and scored in shared blocks, and only the
    new messages are scored. Models that link the stream twice or embed it (the accurate
    mode) are run stream by stream.
    """
    model = shipped_model(mode)
    if model.first_pass is not None or model.uses_embeddings:
        return [
            run_inference(s.messages, model, author_names=author_names)[s.first_new :]
            for s in streams
        ]
    analysed = analyse_streams([(s.messages, s.texts) for s in streams], author_names)
    messages: list[ChatMessage] = []
    wanted: list[np.ndarray] = []
    for stream in streams:
        wanted.append(
            np.arange(len(messages) + stream.first_new, len(messages) + len(stream.messages))
        )
        messages.extend(stream.messages)
    rows = np.concatenate(wanted) if wanted else np.zeros(0, dtype=np.int64)
    links: list[InferredLink] = []
    for start in range(0, len(rows), STREAMS_BLOCK):
        block = rows[start : start + STREAMS_BLOCK]
        overlap = word_overlap_rows(analysed, model.window, block)
        grid = pair_grid_rows(analysed, block, model.window, overlap)
        probabilities = model.probabilities(grid)
        links.extend(
            decode(
                messages,
                grid,
                probabilities,
                model.extra_link_threshold,
                model,
                explain_starts=explain_starts,
            )
        )
    result = []
    done = 0
    for stream in streams:
        count = len(stream.messages) - stream.first_new
        result.append(links[done : done + count])
        done += count
    return result


def run_inference(
    messages: Sequence[ChatMessage],
    model: LinkModel,
    *,
    author_names: Mapping[str, Sequence[str]] | None = None,
    progress: Callable[[int], None] | None = None,
    embedder: Callable[[Sequence[str]], np.ndarray] = embed,
) -> list[InferredLink]:
    """``infer_links`` with a given model, reporting each scored block to ``progress``."""
    links: list[InferredLink] = []
    for grid, probabilities in score_blocks(
        messages, model, author_names=author_names, embedder=embedder
    ):
        links.extend(decode(messages, grid, probabilities, model.extra_link_threshold, model))
        if progress is not None:
            progress(grid.stop - grid.start)
    return links


def score_blocks(
    messages: Sequence[ChatMessage],
    model: LinkModel,
    *,
    author_names: Mapping[str, Sequence[str]] | None = None,
    embedder: Callable[[Sequence[str]], np.ndarray] = embed,
) -> Iterator[tuple[PairGrid, np.ndarray]]:
    """Pair grids and their link probabilities, block by block.

    A model with a first pass has the stream linked by that model first; its links become
    the structure features of the second.
    """
    if not messages:
        return
    stream = analyse(messages, author_names)
    passed = None
    if model.first_pass is not None:
        first = model.first_pass
        blocks = _scored(messages, stream, first, embedder, None)
        passed = collect_first_pass(
            len(messages),
            ((grid.start, grid.stop, probabilities) for grid, probabilities in blocks),
            first.window,
        )
    yield from _scored(messages, stream, model, embedder, passed)


def _scored(
    messages: Sequence[ChatMessage],
    stream: AnalysedStream,
    model: LinkModel,
    embedder: Callable[[Sequence[str]], np.ndarray],
    passed: FirstPass | None,
) -> Iterator[tuple[PairGrid, np.ndarray]]:
    window = model.window
    for start in range(0, len(messages), BLOCK):
        stop = min(start + BLOCK, len(messages))
        cosines = None
        if model.uses_embeddings:
            first = max(start - window, 0)
            vectors = embedder([message.content for message in messages[first:stop]])
            cosines = embedding_cosines(vectors, window, start - first)
        structure = None
        if passed is not None:
            structure = structure_grid(stream, passed, start, stop, window)
        overlap = word_overlap(stream, window, start, stop)
        grid = pair_grid(stream, start, stop, window, overlap, cosines, structure)
        yield grid, model.probabilities(grid)


def decode(
    messages: Sequence[ChatMessage],
    grid: PairGrid,
    probabilities: np.ndarray,
    extra_link_threshold: float,
    model: LinkModel,
    *,
    explain_starts: bool = True,
) -> list[InferredLink]:
    """Links of a block: the best candidate, plus earlier ones above the threshold.

    Without ``explain_starts``, a message that starts a conversation gets no features.
    """
    rows = len(grid.rows)
    best = np.argmax(probabilities, axis=1)
    row_index = np.arange(rows)
    # The best candidate's share of the probability over all candidates: 1.0 when nothing
    # else is plausible (the first message of a stream, say).
    totals = np.maximum(probabilities.sum(axis=1), np.float32(1e-6))
    confidence = (probabilities[row_index, best] / totals).tolist()
    extra = (probabilities >= extra_link_threshold) & grid.valid
    extra[:, 0] = False
    extra[best == 0] = False
    extra[row_index, best] = False
    extra_rows, extra_offsets = np.nonzero(extra)
    extras: dict[int, list[int]] = {}
    for row, offset in zip(extra_rows.tolist(), extra_offsets.tolist(), strict=True):
        extras.setdefault(row, []).append(offset)
    used = [FEATURE_NAMES.index(name) for name in model.features if name in FEATURE_NAMES]
    used_names = [FEATURE_NAMES[column] for column in used]
    # Features of the chosen candidate, for the rows that report them (a start has no
    # further candidates: ``extra`` is cleared where the best is the message itself).
    explained = row_index if explain_starts else np.flatnonzero(best != 0)
    chosen_features = grid.values[:, explained, best[explained]][used].T.tolist()
    feature_row = dict(zip(explained.tolist(), chosen_features, strict=True))

    links = []
    for row, (position, offset) in enumerate(zip(grid.rows.tolist(), best.tolist(), strict=True)):
        message = messages[position]
        if message.reply_to is not None:
            links.append(InferredLink(message.id, (message.reply_to,), 1.0, dict(EXPLICIT)))
        else:
            more = extras.get(row)
            if more is None:
                targets: tuple[str, ...] = (messages[position - offset].id,)
            else:
                offsets = sorted([offset, *more], reverse=True)
                targets = tuple(messages[position - step].id for step in offsets)
            chosen = feature_row.get(row)
            features = (
                {name: value for name, value in zip(used_names, chosen, strict=True) if value}
                if chosen is not None
                else {}
            )
            links.append(InferredLink(message.id, targets, confidence[row], features))
    return links
